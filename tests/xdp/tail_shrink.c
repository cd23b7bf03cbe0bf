/* tail_shrink.c - bpf_xdp_adjust_tail with a negative delta: IPv4 frames
 * are cut to their IP total length (removing Ethernet padding), frames
 * longer than 200 bytes are truncated to 128 (a "snap length"), and a
 * shrink below the 14-byte minimum (all of a 20-byte frame) is attempted
 * and must fail. Verdicts: PASS, TX for truncated frames, DROP when a
 * shrink that should work fails, ABORTED when the impossible one works. */
#include "xdp_common.h"

SEC("xdp")
int tail_shrink(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __s32 len = data_end - data;
    struct ethhdr *eth = data;

    if (len == 20)
        return bpf_xdp_adjust_tail(ctx, -20) ? XDP_PASS : XDP_ABORTED;
    if (len > 200)
        return bpf_xdp_adjust_tail(ctx, 128 - len) ? XDP_DROP : XDP_TX;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    __s32 want = 14 + bpf_ntohs(ip->tot_len);
    if (want < 34 || want >= len)
        return XDP_PASS;
    return bpf_xdp_adjust_tail(ctx, want - len) ? XDP_DROP : XDP_PASS;
}

LICENSE_GPL;
