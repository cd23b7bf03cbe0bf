/* decap_ipip.c - IP-in-IP decapsulation: bpf_xdp_adjust_head with a
 * positive delta removes the outer IPv4 header (20 bytes, options not
 * accepted) after moving the Ethernet header forward; other packets pass.
 * Also decapsulates VXLAN (outer IPv4/UDP 4789 + 8-byte header, 50 bytes
 * in all with the outer Ethernet header: the inner frame becomes the
 * packet). */
#include "xdp_common.h"

SEC("xdp")
int decap_ipip(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct ethhdr copy;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *outer = (void *)(eth + 1);
    if ((void *)(outer + 1) > data_end || outer->ihl != 5)
        return XDP_PASS;
    if (outer->protocol == IPPROTO_IPIP) {
        struct iphdr *inner = outer + 1;
        if ((void *)(inner + 1) > data_end)
            return XDP_DROP;
        __builtin_memcpy(&copy, eth, sizeof(copy));
        if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr)))
            return XDP_ABORTED;
        data = (void *)(long)ctx->data;
        data_end = (void *)(long)ctx->data_end;
        eth = data;
        if ((void *)(eth + 1) > data_end)
            return XDP_ABORTED;
        __builtin_memcpy(eth, &copy, sizeof(copy));
        return XDP_PASS;
    }
    if (outer->protocol == IPPROTO_UDP) {
        struct udphdr *udp = (void *)(outer + 1);
        if ((void *)(udp + 1) + 8 + sizeof(struct ethhdr) > data_end || udp->dest != bpf_htons(4789))
            return XDP_PASS;
        if (bpf_xdp_adjust_head(ctx, 14 + 20 + 8 + 8))
            return XDP_ABORTED;
        return XDP_TX;
    }
    return XDP_PASS;
}

LICENSE_GPL;
