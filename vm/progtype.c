/*
 * vm/progtype.c - the program-type descriptors: MEMORY (a caller's buffer
 * and its length) and XDP (struct xdp_md over struct ebpfvm_xdp_buff).
 *
 * Owns: the xdp_md field table (UAPI offset, the one allowed access size,
 * what the field holds, where the runtime keeps it), the XDP helper
 * whitelist and return range, the run-time context check and the checked
 * mode's regions for each type.
 *
 * Invariants:
 *   - everything type-specific that vm/ctx_rewrite.c, the interpreter's run
 *     set-up and the verifier need is read from these tables, nowhere else;
 *   - a field's rt_off/rt_size name a member of struct ebpfvm_xdp_buff of
 *     that width (checked below with _Static_assert);
 *   - in checked mode an XDP run may read the buff (the rewritten loads) and
 *     read and write [data_meta, data_end); the packet region's index is
 *     kept in env->pkt_region so the adjust helpers can move it.
 */
#include <stddef.h>
#include <string.h>

#include "ebpfvm/xdp.h"
#include "vm/progtype.h"

#define BUFF_FIELD(member) ((uint16_t)offsetof(struct ebpfvm_xdp_buff, member))
#define BUFF_WIDTH(member) ((uint8_t)sizeof(((struct ebpfvm_xdp_buff *)0)->member))

_Static_assert(sizeof(struct ebpfvm_xdp_md) == 24, "struct xdp_md is six u32");
_Static_assert(BUFF_WIDTH(data) == 8 && BUFF_WIDTH(data_end) == 8 && BUFF_WIDTH(data_meta) == 8,
               "packet pointers are u64 in the runtime context");
_Static_assert(BUFF_WIDTH(ingress_ifindex) == 4 && BUFF_WIDTH(rx_queue_index) == 4 &&
                   BUFF_WIDTH(egress_ifindex) == 4,
               "scalar fields are u32 in the runtime context");

static const struct ebpfvm_ctx_field xdp_fields[] = {
    {"data", offsetof(struct ebpfvm_xdp_md, data), 4, EBPFVM_CTX_PKT, false, false, BUFF_FIELD(data), 8},
    {"data_end", offsetof(struct ebpfvm_xdp_md, data_end), 4, EBPFVM_CTX_PKT_END, false, false,
     BUFF_FIELD(data_end), 8},
    {"data_meta", offsetof(struct ebpfvm_xdp_md, data_meta), 4, EBPFVM_CTX_PKT_META, false, false,
     BUFF_FIELD(data_meta), 8},
    {"ingress_ifindex", offsetof(struct ebpfvm_xdp_md, ingress_ifindex), 4, EBPFVM_CTX_SCALAR, false, false,
     BUFF_FIELD(ingress_ifindex), 4},
    {"rx_queue_index", offsetof(struct ebpfvm_xdp_md, rx_queue_index), 4, EBPFVM_CTX_SCALAR, false, false,
     BUFF_FIELD(rx_queue_index), 4},
    {"egress_ifindex", offsetof(struct ebpfvm_xdp_md, egress_ifindex), 4, EBPFVM_CTX_SCALAR, false, true,
     BUFF_FIELD(egress_ifindex), 4},
};

/* The kernel's xdp_func_proto (net/core/filter.c) plus bpf_base_func_proto,
 * restricted to the IDs ebpfvm knows: XDP programs may call these. IDs that
 * Linux does not give XDP (probe_read) are refused; IDs ebpfvm does not
 * know by name are an embedder's own helpers and are allowed. */
static bool xdp_helper_allowed(uint32_t id)
{
    switch (id) {
    case EBPF_HELPER_probe_read: return false;
    default: return true;
    }
}

static bool any_helper_allowed(uint32_t id)
{
    (void)id;
    return true;
}

static void memory_add_regions(struct ebpfvm_env *env, void *ctx, size_t ctx_size)
{
    if (ctx_size != 0)
        ebpfvm_env_add_region(env, ctx, ctx_size, 1);
}

static void xdp_add_regions(struct ebpfvm_env *env, void *ctx, size_t ctx_size)
{
    /* The rewritten context loads read the buff; the program never writes
     * it (stores to the context are rejected at load). */
    ebpfvm_env_add_region(env, ctx, ctx_size, 0);
    env->pkt_region = -1;
    ebpfvm__xdp_update_packet_region(env);
}

static const struct ebpfvm_prog_type_desc prog_types[] = {
    {
        .type = EBPFVM_PROG_TYPE_MEMORY,
        .name = "memory",
        .uapi_ctx_size = 0,
        .runtime_ctx_size = 0,
        .fields = NULL,
        .nfields = 0,
        .ret_min = 0,
        .ret_max = 0,
        .ret_checked = false,
        .helper_allowed = any_helper_allowed,
        .add_regions = memory_add_regions,
    },
    {
        .type = EBPFVM_PROG_TYPE_XDP,
        .name = "xdp",
        .uapi_ctx_size = sizeof(struct ebpfvm_xdp_md),
        .runtime_ctx_size = sizeof(struct ebpfvm_xdp_buff),
        .fields = xdp_fields,
        .nfields = sizeof xdp_fields / sizeof xdp_fields[0],
        /* The defined actions are XDP_ABORTED..XDP_REDIRECT, but the
         * kernel's verifier does not enforce them for XDP (measured on 6.18:
         * a program returning 5 loads; an unknown action is treated as
         * XDP_ABORTED when the packet is handled), so neither do we. */
        .ret_min = EBPF_XDP_ABORTED,
        .ret_max = EBPF_XDP_REDIRECT,
        .ret_checked = false,
        .helper_allowed = xdp_helper_allowed,
        .add_regions = xdp_add_regions,
    },
};

const struct ebpfvm_prog_type_desc *ebpfvm__prog_type(enum ebpfvm_prog_type type)
{
    for (size_t i = 0; i < sizeof prog_types / sizeof prog_types[0]; i++)
        if (prog_types[i].type == type)
            return &prog_types[i];
    return NULL;
}

const struct ebpfvm_ctx_field *ebpfvm__ctx_field_at(const struct ebpfvm_prog_type_desc *desc, int32_t off)
{
    if (!desc)
        return NULL;
    for (size_t i = 0; i < desc->nfields; i++)
        if (desc->fields[i].off == off)
            return &desc->fields[i];
    return NULL;
}

const char *ebpfvm__prog_type_check_ctx(const struct ebpfvm_prog *prog, const void *ctx, size_t ctx_size)
{
    const struct ebpfvm_prog_type_desc *desc = ebpfvm__prog_type(prog->prog_type);
    if (!desc || desc->runtime_ctx_size == 0)
        return NULL;
    if (prog->prog_type == EBPFVM_PROG_TYPE_XDP) {
        if (!ctx || ctx_size != sizeof(struct ebpfvm_xdp_buff))
            return "run: an XDP program needs ctx = a struct ebpfvm_xdp_buff and ctx_size = "
                   "sizeof(struct ebpfvm_xdp_buff) (see ebpfvm_xdp_buff_init)";
        const struct ebpfvm_xdp_buff *buff = ctx;
        if (buff->data_hard_start == 0 || buff->data_meta < buff->data_hard_start || buff->data_meta > buff->data ||
            buff->data > buff->data_end || buff->frame_sz == 0 ||
            buff->data_end > buff->data_hard_start + buff->frame_sz)
            return "run: the struct ebpfvm_xdp_buff is not consistent (data_hard_start <= data_meta <= data <= "
                   "data_end <= data_hard_start + frame_sz); set it up with ebpfvm_xdp_buff_init";
        return NULL;
    }
    if (ctx_size != desc->runtime_ctx_size)
        return "run: ctx_size does not match the program type's context";
    return NULL;
}

void ebpfvm__prog_type_add_regions(struct ebpfvm_env *env, void *ctx, size_t ctx_size)
{
    const struct ebpfvm_prog_type_desc *desc = ebpfvm__prog_type(env->prog->prog_type);
    if (desc && desc->add_regions)
        desc->add_regions(env, ctx, ctx_size);
    else
        memory_add_regions(env, ctx, ctx_size);
}
