/* encap_vxlan.c - VXLAN-like encapsulation: every IPv4/IPv6 frame grows by
 * 50 bytes at the front (bpf_xdp_adjust_head(ctx, -50)) and gets an outer
 * Ethernet, IPv4 (checksum computed in a loop), UDP (port 4789, checksum
 * 0) and VXLAN header (VNI from .data); frames of 1450 bytes or more are
 * dropped instead (the MTU), others pass. */
#include "xdp_common.h"

__u32 vni = 42; /* .data */

struct vxlanhdr {
    __be32 flags;
    __be32 vni;
};

SEC("xdp")
int encap_vxlan(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6))
        return XDP_PASS;
    __u32 inner_len = data_end - data;
    if (inner_len >= 1450)
        return XDP_DROP;
    struct ethhdr inner_eth;
    __builtin_memcpy(&inner_eth, eth, sizeof(inner_eth));

    if (bpf_xdp_adjust_head(ctx, -50))
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    struct ethhdr *oeth = data;
    struct iphdr *ip = (void *)(oeth + 1);
    struct udphdr *udp = (void *)(ip + 1);
    struct vxlanhdr *vx = (void *)(udp + 1);
    if ((void *)(vx + 1) > data_end)
        return XDP_ABORTED;

    __builtin_memcpy(oeth->h_dest, inner_eth.h_dest, ETH_ALEN);
    __builtin_memcpy(oeth->h_source, inner_eth.h_source, ETH_ALEN);
    oeth->h_proto = bpf_htons(ETH_P_IP);
    ip->version = 4;
    ip->ihl = 5;
    ip->tos = 0;
    ip->tot_len = bpf_htons(inner_len + 36);
    ip->id = bpf_htons(inner_len);
    ip->frag_off = 0;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->check = 0;
    ip->saddr = bpf_htonl(0xc0000201);
    ip->daddr = bpf_htonl(0xc0000202);
    __u32 sum = 0;
    __u16 *w = (__u16 *)ip;
    for (int i = 0; i < 10; i++)
        sum += w[i];
    ip->check = csum_fold32(sum);
    udp->source = bpf_htons(49152 + (inner_len & 0x3ff));
    udp->dest = bpf_htons(4789);
    udp->len = bpf_htons(inner_len + 16);
    udp->check = 0;
    vx->flags = bpf_htonl(0x08000000);
    vx->vni = bpf_htonl(vni << 8);
    return XDP_TX;
}

LICENSE_GPL;
