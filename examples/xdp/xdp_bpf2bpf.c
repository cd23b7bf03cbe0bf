/*
 * xdp_bpf2bpf.c - a packet parser split into real functions.
 *
 * Each layer is parsed by a __noinline function, so clang emits bpf-to-bpf
 * calls (BPF_CALL with src_reg BPF_PSEUDO_CALL) instead of inlining:
 *   parse_eth   Ethernet and up to two VLAN tags -> EtherType, L3 offset
 *   parse_ipv4  IPv4 (options included)          -> protocol, L4 offset
 *   parse_ipv6  IPv6 fixed header                -> next header, L4 offset
 *   parse_l4    TCP/UDP ports, TCP flags
 * The results go into a struct on the caller's stack that the functions
 * fill through a pointer. The verdict: drop TCP SYNs to port 23 and
 * anything with a zero IPv4 TTL / IPv6 hop limit; pass the rest. An
 * ARRAY map counts packets per L4 protocol seen (index: protocol number).
 *
 * What it teaches:
 *   - static __noinline subprograms: verified in the caller's context,
 *     they can take the context and pointers to the caller's stack, but
 *     return only scalars (a packet pointer cannot be returned - pass the
 *     offset instead and recompute the pointer from ctx->data);
 *   - variable packet offsets: `data + off` is fine for the verifier when
 *     off is bounded (here off <= 64) and the end is checked after adding;
 *   - a bounded `for` loop (VLAN tags) the verifier unrolls or walks.
 * Helpers: bpf_map_lookup_elem.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct parsed {
    __u16 eth_proto; /* host order */
    __u16 l3_off;
    __u16 l4_off;
    __u8 l4_proto;
    __u8 ttl;
    __u16 sport, dport; /* host order */
    __u8 tcp_flags;
    __u8 vlans;
};

struct vlan_hdr {
    __be16 tci;
    __be16 proto;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} proto_count SEC(".maps");

static __noinline int parse_eth(struct xdp_md *ctx, struct parsed *p)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u16 off = sizeof(*eth);
    __be16 proto;

    if ((void *)(eth + 1) > data_end)
        return -1;
    proto = eth->h_proto;
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        struct vlan_hdr *vh = data + off;
        if ((void *)(vh + 1) > data_end)
            return -1;
        proto = vh->proto;
        off += sizeof(*vh);
        p->vlans++;
    }
    p->eth_proto = bpf_ntohs(proto);
    p->l3_off = off;
    return 0;
}

static __noinline int parse_ipv4(struct xdp_md *ctx, struct parsed *p)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u16 off = p->l3_off;

    if (off > 64)
        return -1;
    struct iphdr *ip = data + off;
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return -1;
    p->l4_proto = ip->protocol;
    p->ttl = ip->ttl;
    p->l4_off = off + ip->ihl * 4;
    if (ip->frag_off & bpf_htons(0x1fff))
        p->l4_proto = 0; /* no L4 header in a later fragment */
    return 0;
}

static __noinline int parse_ipv6(struct xdp_md *ctx, struct parsed *p)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u16 off = p->l3_off;

    if (off > 64)
        return -1;
    struct ipv6hdr *ip6 = data + off;
    if ((void *)(ip6 + 1) > data_end)
        return -1;
    p->l4_proto = ip6->nexthdr;
    p->ttl = ip6->hop_limit;
    p->l4_off = off + sizeof(*ip6);
    return 0;
}

static __noinline int parse_l4(struct xdp_md *ctx, struct parsed *p)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u16 off = p->l4_off;

    if (off > 128)
        return -1;
    if (p->l4_proto == IPPROTO_TCP) {
        struct tcphdr *tcp = data + off;
        if ((void *)(tcp + 1) > data_end)
            return -1;
        p->sport = bpf_ntohs(tcp->source);
        p->dport = bpf_ntohs(tcp->dest);
        p->tcp_flags = ((__u8 *)tcp)[13];
    } else if (p->l4_proto == IPPROTO_UDP) {
        struct udphdr *udp = data + off;
        if ((void *)(udp + 1) > data_end)
            return -1;
        p->sport = bpf_ntohs(udp->source);
        p->dport = bpf_ntohs(udp->dest);
    }
    return 0;
}

static __noinline void count_proto(__u32 proto)
{
    __u64 *count = bpf_map_lookup_elem(&proto_count, &proto);

    if (count)
        __sync_fetch_and_add(count, 1);
}

SEC("xdp")
int xdp_parser(struct xdp_md *ctx)
{
    struct parsed p = {};

    if (parse_eth(ctx, &p) < 0)
        return XDP_DROP;
    if (p.eth_proto == ETH_P_IP) {
        if (parse_ipv4(ctx, &p) < 0)
            return XDP_DROP;
    } else if (p.eth_proto == ETH_P_IPV6) {
        if (parse_ipv6(ctx, &p) < 0)
            return XDP_DROP;
    } else {
        return XDP_PASS;
    }
    if (parse_l4(ctx, &p) < 0)
        return XDP_DROP;
    count_proto(p.l4_proto);
    if (p.ttl == 0)
        return XDP_DROP;
    if (p.l4_proto == IPPROTO_TCP && p.dport == 23 && (p.tcp_flags & 0x12) == 0x02)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
