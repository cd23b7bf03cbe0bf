/* vlan_push_pop.c - adjust_head in both directions on VLAN tags: a frame
 * with one 802.1Q tag loses it (the MAC addresses move forward 4 bytes,
 * bpf_xdp_adjust_head(ctx, 4)) and passes; an untagged IPv4 frame gets tag
 * 100 pushed (adjust_head -4, MACs moved back) and is sent with XDP_TX;
 * QinQ frames lose the outer tag only. Others pass untouched. */
#include "xdp_common.h"

SEC("xdp")
int vlan_push_pop(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    unsigned char macs[12];

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    __builtin_memcpy(macs, eth, 12);
    if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD)) {
        struct vlan_hdr *vh = (void *)(eth + 1);
        if ((void *)(vh + 1) > data_end)
            return XDP_DROP;
        if (bpf_xdp_adjust_head(ctx, 4))
            return XDP_ABORTED;
        data = (void *)(long)ctx->data;
        data_end = (void *)(long)ctx->data_end;
        if (data + 12 > data_end)
            return XDP_ABORTED;
        __builtin_memcpy(data, macs, 12);
        return XDP_PASS;
    }
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (bpf_xdp_adjust_head(ctx, -4))
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    struct vlan_hdr *vh = (void *)(eth + 1);
    if ((void *)(vh + 1) > data_end)
        return XDP_ABORTED;
    __builtin_memcpy(eth, macs, 12);
    eth->h_proto = bpf_htons(ETH_P_8021Q);
    vh->tci = bpf_htons(100);
    vh->proto = bpf_htons(ETH_P_IP);
    return XDP_TX;
}

LICENSE_GPL;
