/* snat_lru.c - source NAT of IPv4 TCP/UDP from 10.1.0.0/16 to 198.51.100.1
 * with a per-flow source port allocated from a counter in .bss and kept in
 * an LRU_HASH flow table (key: original saddr+sport+proto); the checksums
 * are updated with bpf_csum_diff (IP header) and incremental arithmetic
 * (L4). The table is large enough that no entry is ever evicted. */
#include "xdp_common.h"

struct flow {
    __be32 saddr;
    __be16 sport;
    __u8 proto;
    __u8 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct flow);
    __type(value, __u16); /* translated port, host order */
} flows SEC(".maps");

__u16 next_port = 20000;
const volatile __u32 public_ip = 0xc6336401; /* 198.51.100.1 */

static __always_inline __u16 replace16(__u16 check, __u16 from, __u16 to)
{
    return csum_fold32((__u16)~check + (__u16)~from + to);
}

static __always_inline __u16 replace32(__u16 check, __u32 from, __u32 to)
{
    return csum_fold32((__u16)~check + (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16));
}

SEC("xdp")
int snat_lru(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
        return XDP_PASS;
    if ((bpf_ntohl(ip->saddr) >> 16) != 0x0a01)
        return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    struct udphdr *l4 = (void *)(ip + 1); /* ports at the same offsets in TCP */
    if ((void *)l4 + sizeof(struct tcphdr) > data_end)
        return XDP_PASS;

    struct flow key = {.saddr = ip->saddr, .sport = l4->source, .proto = ip->protocol};
    __u16 *port = bpf_map_lookup_elem(&flows, &key), newport;
    if (port) {
        newport = *port;
    } else {
        newport = next_port++;
        if (bpf_map_update_elem(&flows, &key, &newport, BPF_NOEXIST))
            return XDP_ABORTED;
    }
    __be32 new_addr = bpf_htonl(public_ip), old_addr = ip->saddr;
    __be16 new_sport = bpf_htons(newport);
    __u16 *check = ip->protocol == IPPROTO_TCP ? &((struct tcphdr *)l4)->check : &l4->check;
    if (ip->protocol == IPPROTO_TCP || *check) {
        __u16 c = replace32(*check, old_addr, new_addr);
        c = replace16(c, l4->source, new_sport);
        if (ip->protocol == IPPROTO_UDP && !c)
            c = 0xffff;
        *check = c;
    }
    l4->source = new_sport;

    /* IP header: bpf_csum_diff over the changed word, folded in. */
    __s64 diff = bpf_csum_diff(&old_addr, 4, &new_addr, 4, (__u16)~ip->check);
    if (diff < 0)
        return XDP_ABORTED;
    ip->saddr = new_addr;
    ip->check = csum_fold64((__u64)diff);
    return XDP_PASS;
}

LICENSE_GPL;
