/* bad/map_zero_entries.c - an object the kernel refuses before any program
 * is verified: a hash map with max_entries 0 (BPF_MAP_CREATE: EINVAL).
 * tests/test_xdp_kernel.c checks the oracle's message for it. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 0);
    __type(key, __u32);
    __type(value, __u32);
} empty SEC(".maps");

SEC("xdp")
int map_zero_entries(struct xdp_md *ctx)
{
    __u32 k = ctx->rx_queue_index;
    return bpf_map_lookup_elem(&empty, &k) ? XDP_DROP : XDP_PASS;
}

LICENSE_GPL;
