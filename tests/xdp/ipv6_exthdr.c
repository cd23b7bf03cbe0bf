/* ipv6_exthdr.c - IPv6 with extension headers: walks up to 4 hop-by-hop /
 * routing / destination-options headers in a bounded loop, then counts
 * the upper-layer protocol in a HASH keyed by next-header value; drops
 * ICMPv6 echo requests with hop limit < 2, passes the rest. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u8);
    __type(value, __u64);
} nexthdrs SEC(".maps");

SEC("xdp")
int ipv6_exthdr(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __be16 proto;
    int off = eth_l3(data, data_end, &proto);

    if (off < 0 || proto != bpf_htons(ETH_P_IPV6))
        return XDP_PASS;
    struct ipv6hdr *ip6 = data + off;
    if ((void *)(ip6 + 1) > data_end)
        return XDP_DROP;
    __u8 next = ip6->nexthdr, hops = ip6->hop_limit;
    __u32 l4 = off + sizeof(*ip6);
    for (int i = 0; i < 4; i++) {
        if (next != 0 && next != 43 && next != 60)
            break;
        if (l4 > 512)
            return XDP_DROP;
        struct ipv6_opt_hdr *h = data + l4;
        if ((void *)(h + 1) > data_end)
            return XDP_DROP;
        next = h->nexthdr;
        l4 += (h->hdrlen + 1) * 8;
    }
    __u64 one = 1, *v = bpf_map_lookup_elem(&nexthdrs, &next);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&nexthdrs, &next, &one, BPF_ANY);
    if (next == IPPROTO_ICMPV6 && l4 <= 512) {
        struct icmp6hdr *icmp = data + l4;
        if ((void *)(icmp + 1) > data_end)
            return XDP_DROP;
        if (icmp->icmp6_type == 128 && hops < 2)
            return XDP_DROP;
    }
    return XDP_PASS;
}

LICENSE_GPL;
