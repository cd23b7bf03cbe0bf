/* udp_port_filter.c - UDP port ranges (IPv4 and IPv6) with per-port
 * counters in a PERCPU_HASH: ports 1..1023 other than 53 and 123 are
 * dropped, 9990..9999 redirected to ifindex 1 with bpf_redirect, the rest
 * passes. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 1024);
    __type(key, __u16);
    __type(value, __u64);
} port_hits SEC(".maps");

SEC("xdp")
int udp_port_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __be16 proto;
    int off = eth_l3(data, data_end, &proto);
    struct udphdr *udp;

    if (off < 0)
        return XDP_PASS;
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = data + off;
        if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5 ||
            (ip->frag_off & bpf_htons(0x1fff)))
            return XDP_PASS;
        udp = (void *)ip + ip->ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = data + off;
        if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        udp = (void *)(ip6 + 1);
    } else {
        return XDP_PASS;
    }
    if ((void *)(udp + 1) > data_end)
        return XDP_PASS;
    __u16 port = bpf_ntohs(udp->dest);
    __u64 *hits = bpf_map_lookup_elem(&port_hits, &port);
    if (hits) {
        *hits += 1;
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&port_hits, &port, &one, BPF_NOEXIST);
    }
    if (port >= 9990 && port <= 9999)
        return bpf_redirect(1, 0);
    if (port > 0 && port < 1024 && port != 53 && port != 123)
        return XDP_DROP;
    return XDP_PASS;
}

LICENSE_GPL;
