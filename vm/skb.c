/*
 * vm/skb.c - the socket filter runtime: ebpfvm_sk_buff_init and the
 * helper bpf_skb_load_bytes (26). The program type's rules (context
 * fields, helpers, LD_ABS/LD_IND) are data in vm/progtype.c.
 *
 * Invariants:
 *   - results are the kernel's (6.12, net/core/filter.c): on a bad offset
 *     or length skb_load_bytes zeroes the destination and returns -EFAULT;
 *   - in checked mode the destination is checked with
 *     ebpfvm__env_check_access before it is written.
 */
#include <string.h>

#include "ebpfvm/skb.h"
#include "vm/helper_args.h"

enum { LINUX_EFAULT = 14 };

void ebpfvm_sk_buff_init(struct ebpfvm_sk_buff *skb, const void *frame, uint32_t len)
{
    if (!skb)
        return;
    memset(skb, 0, sizeof *skb);
    skb->md.len = len;
    skb->data = (uint64_t)(uintptr_t)frame;
    if (frame && len >= 14) {
        /* skb->protocol is a __be16; the program reads it zero-extended. */
        uint16_t proto;
        memcpy(&proto, (const uint8_t *)frame + 12, sizeof proto);
        skb->md.protocol = proto;
    }
}

/* bpf_skb_load_bytes(skb, offset, to, len): len bytes of the packet from
 * offset into to; -EFAULT (and to zeroed) when they are not all there. */
static uint64_t helper_skb_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                      ebpfvm_env *env)
{
    (void)r5;
    if (env->prog->prog_type != EBPFVM_PROG_TYPE_SOCKET_FILTER) {
        ebpfvm__env_faultf(env, "skb_load_bytes: only socket filters may call it");
        return 0;
    }
    if (env->checked && r1 != (uint64_t)(uintptr_t)env->ctx) {
        ebpfvm__env_faultf(env, "skb_load_bytes: r1 0x%llx is not the context", (unsigned long long)r1);
        return 0;
    }
    const struct ebpfvm_sk_buff *skb = (const struct ebpfvm_sk_buff *)(uintptr_t)r1;
    uint32_t len = (uint32_t)r4;
    if (!ebpfvm__helper_arg_mem(env, r3, len, true, "skb_load_bytes", 3))
        return 0;
    int32_t off = (int32_t)r2;
    if (off < 0 || len > skb->md.len || (uint32_t)off > skb->md.len - len) {
        if (len)
            memset((void *)(uintptr_t)r3, 0, len);
        return (uint64_t)(int64_t)-LINUX_EFAULT;
    }
    if (len)
        memcpy((void *)(uintptr_t)r3, (const uint8_t *)(uintptr_t)skb->data + off, len);
    return 0;
}

/* The registration table vm/helpers_std.c walks. */
const struct ebpfvm__helper_def ebpfvm__skb_helpers[] = {
    {EBPF_HELPER_skb_load_bytes, "skb_load_bytes", helper_skb_load_bytes,
     {EBPFVM_RET_INTEGER,
      {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_PTR_TO_UNINIT_MEM, EBPFVM_ARG_CONST_SIZE},
      0}},
};
const size_t ebpfvm__skb_nhelpers = sizeof ebpfvm__skb_helpers / sizeof ebpfvm__skb_helpers[0];
