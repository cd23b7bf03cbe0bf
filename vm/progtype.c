/*
 * vm/progtype.c - the program-type descriptors: MEMORY (a caller's buffer
 * and its length), XDP (struct xdp_md over struct ebpfvm_xdp_buff) and
 * SOCKET_FILTER (struct __sk_buff, kept as is in struct ebpfvm_sk_buff).
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

#include "ebpfvm/skb.h"
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
    {"data", offsetof(struct ebpfvm_xdp_md, data), 4, EBPFVM_CTX_PKT, false, false, BUFF_FIELD(data), 8, EBPFVM_CTX_ACCESS_EXACT},
    {"data_end", offsetof(struct ebpfvm_xdp_md, data_end), 4, EBPFVM_CTX_PKT_END, false, false,
     BUFF_FIELD(data_end), 8, EBPFVM_CTX_ACCESS_EXACT},
    {"data_meta", offsetof(struct ebpfvm_xdp_md, data_meta), 4, EBPFVM_CTX_PKT_META, false, false,
     BUFF_FIELD(data_meta), 8, EBPFVM_CTX_ACCESS_EXACT},
    {"ingress_ifindex", offsetof(struct ebpfvm_xdp_md, ingress_ifindex), 4, EBPFVM_CTX_SCALAR, false, false,
     BUFF_FIELD(ingress_ifindex), 4, EBPFVM_CTX_ACCESS_EXACT},
    {"rx_queue_index", offsetof(struct ebpfvm_xdp_md, rx_queue_index), 4, EBPFVM_CTX_SCALAR, false, false,
     BUFF_FIELD(rx_queue_index), 4, EBPFVM_CTX_ACCESS_EXACT},
    {"egress_ifindex", offsetof(struct ebpfvm_xdp_md, egress_ifindex), 4, EBPFVM_CTX_SCALAR, false, true,
     BUFF_FIELD(egress_ifindex), 4, EBPFVM_CTX_ACCESS_EXACT},
};

_Static_assert(sizeof(struct ebpfvm_sk_buff_md) == 192, "struct __sk_buff is 192 bytes");
_Static_assert(offsetof(struct ebpfvm_sk_buff_md, cb) == 48 && offsetof(struct ebpfvm_sk_buff_md, napi_id) == 84 &&
                   offsetof(struct ebpfvm_sk_buff_md, gso_segs) == 164 &&
                   offsetof(struct ebpfvm_sk_buff_md, gso_size) == 176 &&
                   offsetof(struct ebpfvm_sk_buff_md, hwtstamp) == 184,
               "struct ebpfvm_sk_buff_md has __sk_buff's layout");
_Static_assert(offsetof(struct ebpfvm_sk_buff, md) == 0, "the __sk_buff image starts the runtime context");

/* The __sk_buff fields a socket filter may use (sk_filter_is_valid_access):
 * the runtime keeps them at their UAPI offsets, so rt_off = off. */
#define SKB_U32(field)                                                                                        \
    {#field, offsetof(struct ebpfvm_sk_buff_md, field), 4, EBPFVM_CTX_SCALAR, false, false,                  \
     offsetof(struct ebpfvm_sk_buff_md, field), 4, EBPFVM_CTX_ACCESS_NARROW}
static const struct ebpfvm_ctx_field skb_fields[] = {
    SKB_U32(len),
    SKB_U32(pkt_type),
    SKB_U32(mark),
    SKB_U32(queue_mapping),
    SKB_U32(protocol),
    SKB_U32(vlan_present),
    SKB_U32(vlan_tci),
    SKB_U32(vlan_proto),
    SKB_U32(priority),
    SKB_U32(ingress_ifindex),
    SKB_U32(ifindex),
    SKB_U32(tc_index),
    {"cb", offsetof(struct ebpfvm_sk_buff_md, cb), 20, EBPFVM_CTX_SCALAR, true, false,
     offsetof(struct ebpfvm_sk_buff_md, cb), 20, EBPFVM_CTX_ACCESS_ANY},
    SKB_U32(hash),
    SKB_U32(napi_id),
    SKB_U32(gso_segs),
    SKB_U32(gso_size),
};
#undef SKB_U32

/* The kernel's xdp_func_proto (net/core/filter.c) plus bpf_base_func_proto,
 * restricted to the IDs ebpfvm knows: XDP programs may call these. IDs that
 * Linux does not give XDP (probe_read) are refused; IDs ebpfvm does not
 * know by name are an embedder's own helpers and are allowed. */
static bool xdp_helper_allowed(uint32_t id)
{
    switch (id) {
    case EBPF_HELPER_probe_read:
    case EBPF_HELPER_skb_load_bytes: return false;
    default: return true;
    }
}

/* The kernel's sk_filter_func_proto plus bpf_sk_base_func_proto: of the
 * IDs ebpfvm knows by name, a socket filter may not call the XDP ones,
 * redirects, csum_diff, fib_lookup or probe_read. */
static bool skb_helper_allowed(uint32_t id)
{
    switch (id) {
    case EBPF_HELPER_probe_read:
    case EBPF_HELPER_redirect:
    case EBPF_HELPER_redirect_map:
    case EBPF_HELPER_csum_diff:
    case EBPF_HELPER_fib_lookup:
    case EBPF_HELPER_xdp_adjust_head:
    case EBPF_HELPER_xdp_adjust_meta:
    case EBPF_HELPER_xdp_adjust_tail:
    case EBPF_HELPER_xdp_get_buff_len:
    case EBPF_HELPER_xdp_load_bytes:
    case EBPF_HELPER_xdp_store_bytes: return false;
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

static void skb_add_regions(struct ebpfvm_env *env, void *ctx, size_t ctx_size)
{
    /* The __sk_buff image (cb[] is writable; the other fields are checked
     * at load), the packet's address (read-only: LD_ABS trusts it) and the
     * packet, read-only. */
    struct ebpfvm_sk_buff *skb = ctx;
    (void)ctx_size;
    ebpfvm_env_add_region(env, &skb->md, sizeof skb->md, 1);
    ebpfvm_env_add_region(env, &skb->data, sizeof skb->data, 0);
    if (skb->md.len)
        ebpfvm_env_add_region(env, (void *)(uintptr_t)skb->data, skb->md.len, 0);
}

static void skb_packet(void *ctx, size_t ctx_size, uint64_t *pkt, uint64_t *pkt_len)
{
    (void)ctx_size;
    const struct ebpfvm_sk_buff *skb = ctx;
    *pkt = skb->data;
    *pkt_len = skb->md.len;
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
        .legacy_packet_loads = true,
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
    {
        .type = EBPFVM_PROG_TYPE_SOCKET_FILTER,
        .name = "socket_filter",
        .uapi_ctx_size = sizeof(struct ebpfvm_sk_buff_md),
        .runtime_ctx_size = sizeof(struct ebpfvm_sk_buff),
        .fields = skb_fields,
        .nfields = sizeof skb_fields / sizeof skb_fields[0],
        /* The number of bytes to keep; the kernel does not check it. */
        .ret_min = 0,
        .ret_max = UINT32_MAX,
        .ret_checked = false,
        .legacy_packet_loads = true,
        .helper_allowed = skb_helper_allowed,
        .add_regions = skb_add_regions,
        .packet = skb_packet,
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
        if (off >= desc->fields[i].off && off < desc->fields[i].off + desc->fields[i].size)
            return &desc->fields[i];
    return NULL;
}

const struct ebpfvm_ctx_field *ebpfvm__ctx_access(const struct ebpfvm_prog_type_desc *desc, int32_t off,
                                                  unsigned size, bool write, int32_t *rt_off, unsigned *rt_size)
{
    const struct ebpfvm_ctx_field *f = ebpfvm__ctx_field_at(desc, off);
    if (!f || f->devmap_only || (write && !f->writable))
        return NULL;
    if (size == 0 || (size & (size - 1)) != 0 || off % (int32_t)size != 0)
        return NULL;
    unsigned in = (unsigned)(off - f->off);
    bool ok;
    switch (f->access) {
    case EBPFVM_CTX_ACCESS_NARROW: ok = write ? size == f->size && in == 0 : size <= 4 && in + size <= f->size; break;
    case EBPFVM_CTX_ACCESS_ANY: ok = size <= 8 && in + size <= f->size; break;
    default: ok = size == f->size && in == 0; break;
    }
    if (!ok)
        return NULL;
    if (ebpfvm__ctx_field_identity(f)) {
        *rt_off = off;
        *rt_size = size;
    } else {
        *rt_off = f->rt_off;
        *rt_size = f->rt_size;
    }
    return f;
}

void ebpfvm__prog_type_packet(enum ebpfvm_prog_type type, void *ctx, size_t ctx_size, uint64_t *pkt,
                              uint64_t *pkt_len)
{
    const struct ebpfvm_prog_type_desc *desc = ebpfvm__prog_type(type);
    if (desc && desc->packet) {
        desc->packet(ctx, ctx_size, pkt, pkt_len);
        return;
    }
    *pkt = (uint64_t)(uintptr_t)ctx;
    *pkt_len = ctx_size;
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
    if (prog->prog_type == EBPFVM_PROG_TYPE_SOCKET_FILTER) {
        if (!ctx || ctx_size != sizeof(struct ebpfvm_sk_buff))
            return "run: a socket filter needs ctx = a struct ebpfvm_sk_buff and ctx_size = "
                   "sizeof(struct ebpfvm_sk_buff) (see ebpfvm_sk_buff_init)";
        const struct ebpfvm_sk_buff *skb = ctx;
        if (skb->md.len && !skb->data)
            return "run: the struct ebpfvm_sk_buff has md.len bytes but data is 0";
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
