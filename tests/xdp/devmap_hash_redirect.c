/* devmap_hash_redirect.c - bpf_redirect_map into a DEVMAP_HASH keyed by an
 * arbitrary u32: the harness stores keys 1 and 0x0a000001 (ifindex 1);
 * IPv4 packets are redirected by destination address (only 10.0.0.1
 * exists; missing keys fall back to XDP_DROP), TCP-over-IPv6 by key 1,
 * everything else by key 5 (missing, fallback XDP_PASS). */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, __u32);
} by_addr SEC(".maps");

SEC("xdp")
int devmap_hash_redirect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > data_end)
            return XDP_PASS;
        return bpf_redirect_map(&by_addr, bpf_ntohl(ip->daddr), XDP_DROP);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end)
            return XDP_PASS;
        if (ip6->nexthdr == IPPROTO_TCP)
            return bpf_redirect_map(&by_addr, 1, 0);
    }
    return bpf_redirect_map(&by_addr, 5, XDP_PASS);
}

LICENSE_GPL;
