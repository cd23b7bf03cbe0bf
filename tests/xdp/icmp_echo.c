/* icmp_echo.c - an ICMP echo responder: IPv4 echo requests (type 8) to
 * any address become echo replies (type 0) with MACs and IP addresses
 * swapped, the ICMP checksum updated incrementally for the type change
 * (RFC 1624), the TTL reset to 64 with the IP checksum updated, sent with
 * XDP_TX; ICMPv6 echo requests (128) likewise become replies (129). */
#include "xdp_common.h"

struct icmp_echo_hdr {
    __u8 type, code;
    __sum16 checksum;
    __be16 id, seq;
};

static __always_inline __u16 replace16(__u16 check, __u16 from, __u16 to)
{
    return csum_fold32((__u16)~check + (__u16)~from + to);
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
    __u8 tmp[ETH_ALEN];
    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

SEC("xdp")
int icmp_echo(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
            return XDP_PASS;
        struct icmp_echo_hdr *icmp = (void *)(ip + 1);
        if ((void *)(icmp + 1) > data_end || icmp->type != 8)
            return XDP_PASS;
        __u16 old = *(__u16 *)icmp;
        icmp->type = 0;
        icmp->checksum = replace16(icmp->checksum, old, *(__u16 *)icmp);
        __be32 a = ip->saddr;
        ip->saddr = ip->daddr;
        ip->daddr = a;
        __u16 oldttl = *(__u16 *)&ip->ttl;
        ip->ttl = 64;
        ip->check = replace16(ip->check, oldttl, *(__u16 *)&ip->ttl);
        swap_macs(eth);
        return XDP_TX;
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_ICMPV6)
            return XDP_PASS;
        struct icmp_echo_hdr *icmp = (void *)(ip6 + 1);
        if ((void *)(icmp + 1) > data_end || icmp->type != 128)
            return XDP_PASS;
        __u16 old = *(__u16 *)icmp;
        icmp->type = 129;
        icmp->checksum = replace16(icmp->checksum, old, *(__u16 *)icmp);
        struct in6_addr a = ip6->saddr;
        ip6->saddr = ip6->daddr;
        ip6->daddr = a;
        swap_macs(eth);
        return XDP_TX;
    }
    return XDP_PASS;
}

LICENSE_GPL;
