/* bpf2bpf_deep.c - bpf-to-bpf calls four deep with five arguments, stack
 * buffers passed down by pointer, results returned up, and a subprogram
 * called from two places; computes a 32-bit hash of the IPv4 5-tuple
 * (FNV-1a over a stack struct) and uses it to pick the verdict (hash & 3:
 * PASS, DROP, TX, PASS) and a counter slot in an ARRAY. */
#include "xdp_common.h"

struct tuple {
    __be32 saddr, daddr;
    __be16 sport, dport;
    __u8 proto;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} buckets SEC(".maps");

static __noinline __u32 fnv_step(__u32 h, __u32 byte)
{
    return (h ^ (byte & 0xff)) * 16777619u;
}

static __noinline __u32 fnv_bytes(const __u8 *p, __u32 n, __u32 h)
{
    for (__u32 i = 0; i < 16 && i < n; i++)
        h = fnv_step(h, p[i]);
    return h;
}

static __noinline __u32 hash_tuple(const struct tuple *t, __u32 seed, __u32 a, __u32 b, __u32 c)
{
    __u32 h = fnv_bytes((const __u8 *)t, sizeof(*t), seed);
    return fnv_step(h, a + b + c);
}

static __noinline int fill_tuple(struct xdp_md *ctx, struct tuple *t)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return -1;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return -1;
    t->saddr = ip->saddr;
    t->daddr = ip->daddr;
    t->proto = ip->protocol;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) <= data_end && (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)) {
        t->sport = udp->source;
        t->dport = udp->dest;
    }
    return 0;
}

SEC("xdp")
int bpf2bpf_deep(struct xdp_md *ctx)
{
    struct tuple t = {};

    if (fill_tuple(ctx, &t) < 0)
        return XDP_PASS;
    __u32 h = hash_tuple(&t, 2166136261u, 1, 2, 3);
    __u32 k = h & 3;
    __u64 *slot = bpf_map_lookup_elem(&buckets, &k);
    if (slot)
        *slot += fnv_step(0, h) & 0xff;
    switch (k) {
    case 1:
        return XDP_DROP;
    case 2:
        return XDP_TX;
    default:
        return XDP_PASS;
    }
}

LICENSE_GPL;
