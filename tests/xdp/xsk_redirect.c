/* xsk_redirect.c - bpf_redirect_map into an XSKMAP by rx queue index, the
 * AF_XDP pattern. Without an AF_XDP socket (the test cannot bind one) the
 * map is empty, so the flags' fallback action is returned: UDP falls back
 * to XDP_PASS, TCP to XDP_DROP, everything else is not redirected (TX). */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_TX;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_TX;
    if (ip->protocol == IPPROTO_UDP)
        return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
    if (ip->protocol == IPPROTO_TCP)
        return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
    return XDP_TX;
}

LICENSE_GPL;
