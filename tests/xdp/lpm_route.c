/* lpm_route.c - LPM_TRIE longest-prefix match on IPv4 destinations and
 * sources: the program itself installs a few routes (0.0.0.0/0, 10.0.0.0/8,
 * 10.0.0.0/24, 10.0.0.100/32, 10.1.0.0/16, 10.1.3.0/24) with
 * bpf_map_update_elem, looks up the destination and the source, counts hits
 * per route in the value, and maps the route's action to a verdict;
 * removes 10.1.3.0/24 again whenever a source matched it. */
#include "xdp_common.h"

struct lpm_key {
    __u32 prefixlen;
    __be32 addr;
};

struct route {
    __u32 action;
    __u32 id;
    __u64 hits;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, struct route);
} routes SEC(".maps");

static __always_inline void add(__u32 plen, __u32 addr, __u32 action, __u32 id)
{
    struct lpm_key k = {.prefixlen = plen, .addr = bpf_htonl(addr)};
    struct route r = {.action = action, .id = id};
    bpf_map_update_elem(&routes, &k, &r, BPF_NOEXIST);
}

SEC("xdp")
int lpm_route(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    add(0, 0, XDP_PASS, 1);
    add(8, 0x0a000000, XDP_PASS, 2);
    add(24, 0x0a000000, XDP_TX, 3);
    add(32, 0x0a000064, XDP_DROP, 4);
    add(16, 0x0a010000, XDP_PASS, 5);
    add(24, 0x0a010300, XDP_DROP, 6);
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    struct lpm_key k = {.prefixlen = 32, .addr = ip->saddr};
    struct route *src = bpf_map_lookup_elem(&routes, &k);
    if (src) {
        __sync_fetch_and_add(&src->hits, 1);
        if (src->id == 6) {
            struct lpm_key del = {.prefixlen = 24, .addr = bpf_htonl(0x0a010300)};
            bpf_map_delete_elem(&routes, &del);
            return XDP_DROP;
        }
    }
    k.addr = ip->daddr;
    struct route *dst = bpf_map_lookup_elem(&routes, &k);
    if (!dst)
        return XDP_ABORTED;
    __sync_fetch_and_add(&dst->hits, 1);
    return dst->action;
}

LICENSE_GPL;
