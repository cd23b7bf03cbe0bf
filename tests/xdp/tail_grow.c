/* tail_grow.c - bpf_xdp_adjust_tail with a positive delta: appends a
 * 16-byte trailer (a magic word, the original length, the IPv4 protocol or
 * 0xff) to every frame, passes; grows by 4000 bytes for frames of exactly
 * 64 bytes, which fails (beyond the tailroom) and is reported as
 * XDP_ABORTED. bpf_xdp_get_buff_len checks the new length. */
#include "xdp_common.h"

SEC("xdp")
int tail_grow(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __u32 len = data_end - data;
    __u8 proto = 0xff;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) <= data_end)
            proto = ip->protocol;
    }
    if (len == 64)
        return bpf_xdp_adjust_tail(ctx, 4000) ? XDP_ABORTED : XDP_PASS;
    if (bpf_xdp_adjust_tail(ctx, 16))
        return XDP_DROP;
    if (bpf_xdp_get_buff_len(ctx) != len + 16)
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    __u64 off = len & 0xfff; /* a bound the verifier can see */
    __u32 *trailer = data + off;
    if ((void *)(trailer + 4) > data_end)
        return XDP_ABORTED;
    trailer[0] = bpf_htonl(0xfeedf00d);
    trailer[1] = bpf_htonl(len);
    trailer[2] = proto;
    trailer[3] = 0;
    return XDP_PASS;
}

LICENSE_GPL;
