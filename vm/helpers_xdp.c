/*
 * vm/helpers_xdp.c - the XDP runtime context and the helpers that work on
 * it: ebpfvm_xdp_buff_init, bpf_xdp_adjust_head (44), bpf_xdp_adjust_meta
 * (54), bpf_xdp_adjust_tail (65), bpf_xdp_get_buff_len (188),
 * bpf_xdp_load_bytes (189), bpf_xdp_store_bytes (190), bpf_redirect (23)
 * and bpf_redirect_map (51) over DEVMAP, DEVMAP_HASH and XSKMAP.
 *
 * Semantics are the kernel's (net/core/filter.c, 6.12) on the frame that
 * BPF_PROG_TEST_RUN builds: frame_sz 4096, the packet at 256, the last 320
 * bytes reserved (skb_shared_info), struct xdp_frame (40 bytes) kept free
 * at data_hard_start. Return values are the kernel's: 0 or a negative Linux
 * errno (-EINVAL, -EACCES, -EFAULT, -ENOTSUPP), as programs see them.
 *
 * Invariants:
 *   - the helpers find the buff through r1 in fast mode (the verifier
 *     proved it is the context) and insist r1 == the run's ctx in checked
 *     mode (fault: "<helper>: r1 ... is not the context");
 *   - after every change of data_meta/data/data_end, a checked run's packet
 *     region is [data_meta, data_end) again (ebpfvm__xdp_update_packet_region),
 *     so later packet accesses are checked against the new bounds;
 *   - multi-buffer (fragmented) frames are not supported: a frame is linear.
 */
#include <stdio.h>
#include <string.h>

#include "ebpfvm/xdp.h"
#include "maps/map.h"
#include "vm/helper_args.h"

enum {
    LINUX_EFAULT = 14,
    LINUX_EACCES = 13,
    LINUX_EINVAL = 22,
    LINUX_ENOTSUPP = 524,
    XDP_FRAME_SIZE = 40, /* sizeof(struct xdp_frame), x86-64 */
    ETH_HLEN = 14,
    XDP_META_MAX = 255   /* type_max(skb_shared_info.meta_len) */
};

#define NEG_ERRNO(e) ((uint64_t)(int64_t)-(e))

/* BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS (devmap redirect flags). */
#define XDP_F_BROADCAST (1ull << 3)
#define XDP_F_EXCLUDE_INGRESS (1ull << 4)
#define XDP_ACTION_MASK ((uint64_t)(EBPF_XDP_ABORTED | EBPF_XDP_DROP | EBPF_XDP_PASS | EBPF_XDP_TX))

int ebpfvm_xdp_buff_init(struct ebpfvm_xdp_buff *buff, void *frame, size_t frame_size, const void *packet,
                         size_t len)
{
    if (!buff || !frame || (!packet && len != 0))
        return EBPFVM_ERR_INVAL;
    if (len < ETH_HLEN || frame_size > UINT32_MAX || frame_size < EBPFVM_XDP_HEADROOM + EBPFVM_XDP_TAILROOM ||
        len > frame_size - EBPFVM_XDP_HEADROOM - EBPFVM_XDP_TAILROOM)
        return EBPFVM_ERR_RANGE;
    memset(buff, 0, sizeof *buff);
    uint8_t *start = frame;
    memset(start, 0, EBPFVM_XDP_HEADROOM);
    memcpy(start + EBPFVM_XDP_HEADROOM, packet, len);
    buff->data_hard_start = (uint64_t)(uintptr_t)start;
    buff->data = buff->data_hard_start + EBPFVM_XDP_HEADROOM;
    buff->data_meta = buff->data;
    buff->data_end = buff->data + len;
    buff->frame_sz = (uint32_t)frame_size;
    buff->ingress_ifindex = 1;
    buff->rx_queue_index = 0;
    buff->egress_ifindex = 0;
    buff->redirect_kind = EBPFVM_XDP_REDIRECT_NONE;
    return EBPFVM_OK;
}

void ebpfvm__xdp_update_packet_region(struct ebpfvm_env *env)
{
    if (!env->checked || env->prog->prog_type != EBPFVM_PROG_TYPE_XDP || !env->ctx)
        return;
    const struct ebpfvm_xdp_buff *buff = env->ctx;
    uintptr_t start = (uintptr_t)buff->data_meta, end = (uintptr_t)buff->data_end;
    if (env->pkt_region >= 0 && (unsigned)env->pkt_region < env->nregions) {
        env->regions[env->pkt_region] = (struct ebpfvm_region){start, end, true};
        return;
    }
    if (env->nregions >= EBPFVM_MAX_REGIONS)
        return;
    env->pkt_region = (int)env->nregions;
    env->regions[env->nregions++] = (struct ebpfvm_region){start, end, true};
}

/* The buff r1 names, or NULL after a fault. */
static struct ebpfvm_xdp_buff *arg_buff(ebpfvm_env *env, uint64_t r1, const char *helper)
{
    if (env->prog->prog_type != EBPFVM_PROG_TYPE_XDP) {
        ebpfvm__env_faultf(env, "%s: only XDP programs may call it", helper);
        return NULL;
    }
    if (env->checked && r1 != (uint64_t)(uintptr_t)env->ctx) {
        ebpfvm__env_faultf(env, "%s: r1 0x%llx is not the context", helper, (unsigned long long)r1);
        return NULL;
    }
    return (struct ebpfvm_xdp_buff *)(uintptr_t)r1;
}

static uint64_t hard_end(const struct ebpfvm_xdp_buff *buff)
{
    return buff->data_hard_start + buff->frame_sz - EBPFVM_XDP_TAILROOM;
}

/* bpf_xdp_adjust_head(ctx, delta): move data by delta; metadata moves with
 * it. Keeps struct xdp_frame + the metadata free at the start and at least
 * ETH_HLEN bytes of packet. */
static uint64_t helper_xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r3, (void)r4, (void)r5;
    struct ebpfvm_xdp_buff *buff = arg_buff(env, r1, "xdp_adjust_head");
    if (!buff)
        return 0;
    int64_t delta = (int32_t)(uint32_t)r2; /* int offset */
    uint64_t metalen = buff->data - buff->data_meta;
    int64_t data = (int64_t)buff->data + delta;
    if (data < (int64_t)(buff->data_hard_start + XDP_FRAME_SIZE + metalen) ||
        data > (int64_t)buff->data_end - ETH_HLEN)
        return NEG_ERRNO(LINUX_EINVAL);
    if (metalen)
        memmove((void *)(uintptr_t)(buff->data_meta + (uint64_t)delta), (void *)(uintptr_t)buff->data_meta,
                (size_t)metalen);
    buff->data_meta += (uint64_t)delta;
    buff->data = (uint64_t)data;
    ebpfvm__xdp_update_packet_region(env);
    return 0;
}

/* bpf_xdp_adjust_meta(ctx, delta): move data_meta by delta; the metadata
 * length must stay a multiple of 4 and at most 255. */
static uint64_t helper_xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r3, (void)r4, (void)r5;
    struct ebpfvm_xdp_buff *buff = arg_buff(env, r1, "xdp_adjust_meta");
    if (!buff)
        return 0;
    int64_t delta = (int32_t)(uint32_t)r2;
    int64_t meta = (int64_t)buff->data_meta + delta;
    if (meta < (int64_t)(buff->data_hard_start + XDP_FRAME_SIZE) || meta > (int64_t)buff->data)
        return NEG_ERRNO(LINUX_EINVAL);
    uint64_t metalen = buff->data - (uint64_t)meta;
    if ((metalen & 3) != 0 || metalen > XDP_META_MAX)
        return NEG_ERRNO(LINUX_EACCES);
    buff->data_meta = (uint64_t)meta;
    ebpfvm__xdp_update_packet_region(env);
    return 0;
}

/* bpf_xdp_adjust_tail(ctx, delta): move data_end by delta, up to the
 * tailroom and down to ETH_HLEN bytes of packet; grown bytes are zeroed. */
static uint64_t helper_xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r3, (void)r4, (void)r5;
    struct ebpfvm_xdp_buff *buff = arg_buff(env, r1, "xdp_adjust_tail");
    if (!buff)
        return 0;
    int64_t delta = (int32_t)(uint32_t)r2;
    int64_t end = (int64_t)buff->data_end + delta;
    if (end > (int64_t)hard_end(buff) || end < (int64_t)buff->data + ETH_HLEN)
        return NEG_ERRNO(LINUX_EINVAL);
    if (delta > 0)
        memset((void *)(uintptr_t)buff->data_end, 0, (size_t)delta);
    buff->data_end = (uint64_t)end;
    ebpfvm__xdp_update_packet_region(env);
    return 0;
}

static uint64_t helper_xdp_get_buff_len(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                        ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    struct ebpfvm_xdp_buff *buff = arg_buff(env, r1, "xdp_get_buff_len");
    return buff ? buff->data_end - buff->data : 0;
}

/* The packet bytes [offset, offset + len) for load/store_bytes, or a
 * negative errno (the kernel's bpf_xdp_pointer). */
static uint64_t packet_span(const struct ebpfvm_xdp_buff *buff, uint64_t offset, uint64_t len, uint8_t **out)
{
    uint32_t off32 = (uint32_t)offset, len32 = (uint32_t)len;
    if (off32 > 0xffff || len32 > 0xffff)
        return NEG_ERRNO(LINUX_EFAULT);
    if ((uint64_t)off32 + len32 > buff->data_end - buff->data)
        return NEG_ERRNO(LINUX_EINVAL);
    *out = (uint8_t *)(uintptr_t)(buff->data + off32);
    return 0;
}

/* bpf_xdp_load_bytes (store false: packet -> r3) and bpf_xdp_store_bytes
 * (store true: r3 -> packet) of len r4 at packet offset r2. */
static uint64_t xdp_copy_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, ebpfvm_env *env, bool store)
{
    const char *name = store ? "xdp_store_bytes" : "xdp_load_bytes";
    struct ebpfvm_xdp_buff *buff = arg_buff(env, r1, name);
    if (!buff)
        return 0;
    uint32_t len = (uint32_t)r4;
    if (!ebpfvm__helper_arg_mem(env, r3, len, !store, name, 3))
        return 0;
    uint8_t *pkt;
    uint64_t err = packet_span(buff, r2, r4, &pkt);
    if (err)
        return err;
    if (len) {
        if (store)
            memmove(pkt, (const void *)(uintptr_t)r3, len);
        else
            memmove((void *)(uintptr_t)r3, pkt, len);
    }
    return 0;
}

static uint64_t helper_xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                      ebpfvm_env *env)
{
    (void)r5;
    return xdp_copy_bytes(r1, r2, r3, r4, env, false);
}

static uint64_t helper_xdp_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r5;
    return xdp_copy_bytes(r1, r2, r3, r4, env, true);
}

/* bpf_redirect(ifindex, flags): XDP_REDIRECT to ifindex; any flag is
 * XDP_ABORTED (the kernel's bpf_xdp_redirect). The buff is the run's ctx. */
static uint64_t helper_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r3, (void)r4, (void)r5;
    if (r2 != 0)
        return EBPF_XDP_ABORTED;
    if (env->prog->prog_type == EBPFVM_PROG_TYPE_XDP && env->ctx) {
        struct ebpfvm_xdp_buff *buff = env->ctx;
        buff->redirect_kind = EBPFVM_XDP_REDIRECT_IFINDEX;
        buff->redirect_ifindex = (uint32_t)r1;
        buff->redirect_map_fd = -1;
        buff->redirect_target = (uint32_t)r1;
        buff->redirect_flags = 0;
    }
    return EBPF_XDP_REDIRECT;
}

/* bpf_redirect_map(map, key, flags): the lower two bits of flags are the
 * action on a miss; devmaps also take BPF_F_BROADCAST/EXCLUDE_INGRESS (a
 * broadcast is recorded with target 0: ebpfvm does not clone frames). */
static uint64_t helper_redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    ebpfvm_env *env)
{
    (void)r4, (void)r5;
    static const char name[] = "redirect_map";
    struct ebpfvm_map *map = ebpfvm__helper_arg_map(env, r1, 1, name);
    if (!map)
        return 0;
    uint64_t flag_mask;
    switch (map->type) {
    case EBPFVM_MAP_DEVMAP:
    case EBPFVM_MAP_DEVMAP_HASH: flag_mask = XDP_F_BROADCAST | XDP_F_EXCLUDE_INGRESS; break;
    case EBPFVM_MAP_XSKMAP: flag_mask = 0; break;
    default:
        ebpfvm__env_faultf(env, "%s: r1 is a %s map, not a devmap, devmap_hash or xskmap", name, map->type_name);
        return 0;
    }
    if (r3 & ~(XDP_ACTION_MASK | flag_mask))
        return EBPF_XDP_ABORTED;
    uint32_t key = (uint32_t)r2;
    const void *value = map->ops->lookup(map, &key, env->cpu);
    bool broadcast = (r3 & XDP_F_BROADCAST) != 0;
    if (!value && !broadcast)
        return r3 & XDP_ACTION_MASK;
    if (env->prog->prog_type == EBPFVM_PROG_TYPE_XDP && env->ctx) {
        struct ebpfvm_xdp_buff *buff = env->ctx;
        uint32_t target = 0;
        if (value && map->type == EBPFVM_MAP_XSKMAP)
            target = key;
        else if (value)
            memcpy(&target, value, 4); /* struct bpf_devmap_val: ifindex first */
        buff->redirect_kind = EBPFVM_XDP_REDIRECT_MAP;
        buff->redirect_ifindex = key;
        buff->redirect_map_fd = map->fd;
        buff->redirect_target = target;
        buff->redirect_flags = r3;
    }
    return EBPF_XDP_REDIRECT;
}

/* The registration table vm/helpers_std.c walks. */
const struct ebpfvm__helper_def ebpfvm__xdp_helpers[] = {
    {EBPF_HELPER_redirect, "redirect", helper_redirect,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_ANYTHING, EBPFVM_ARG_ANYTHING}, 0}},
    {EBPF_HELPER_xdp_adjust_head, "xdp_adjust_head", helper_xdp_adjust_head,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING}, EBPFVM_HELPER_CHANGES_PACKET}},
    {EBPF_HELPER_redirect_map, "redirect_map", helper_redirect_map,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_ANYTHING}, 0}},
    {EBPF_HELPER_xdp_adjust_meta, "xdp_adjust_meta", helper_xdp_adjust_meta,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING}, EBPFVM_HELPER_CHANGES_PACKET}},
    {EBPF_HELPER_xdp_adjust_tail, "xdp_adjust_tail", helper_xdp_adjust_tail,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING}, EBPFVM_HELPER_CHANGES_PACKET}},
    {EBPF_HELPER_xdp_get_buff_len, "xdp_get_buff_len", helper_xdp_get_buff_len,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX}, 0}},
    {EBPF_HELPER_xdp_load_bytes, "xdp_load_bytes", helper_xdp_load_bytes,
     {EBPFVM_RET_INTEGER,
      {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_PTR_TO_UNINIT_MEM, EBPFVM_ARG_CONST_SIZE},
      0}},
    {EBPF_HELPER_xdp_store_bytes, "xdp_store_bytes", helper_xdp_store_bytes,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE},
      0}},
};
const size_t ebpfvm__xdp_nhelpers = sizeof ebpfvm__xdp_helpers / sizeof ebpfvm__xdp_helpers[0];
