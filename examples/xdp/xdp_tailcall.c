/*
 * xdp_tailcall.c - a dispatcher that tail-calls one program per protocol.
 *
 * xdp_dispatch parses Ethernet and IPv4 and jumps, with bpf_tail_call,
 * into the program stored in the PROG_ARRAY `jmp_table` at the slot of
 * the IP protocol: PROTO_TCP (0) -> xdp_tcp, PROTO_UDP (1) -> xdp_udp,
 * PROTO_ICMP (2) -> xdp_icmp. A tail call replaces the running program
 * (same context, same packet, the stack is reset; it does not return); if
 * the slot is empty the call falls through and the dispatcher passes.
 *
 *   xdp_tcp   drops TCP to port 23 (telnet), passes the rest
 *   xdp_udp   drops UDP to ports below 1024 other than 53, passes the rest
 *   xdp_icmp  swaps the MAC addresses and sends the frame back (XDP_TX)
 *
 * What it teaches:
 *   - BPF_MAP_TYPE_PROG_ARRAY and bpf_tail_call(ctx, &map, index);
 *   - several programs in one object, all in SEC("xdp");
 *   - filling the table from user space: the loader stores each program's
 *     fd at its slot (with libbpf: bpf_map_update_elem(bpf_map__fd(map),
 *     &slot, &prog_fd, BPF_ANY); with ebpfvm: ebpfvm_prog_array_set).
 *     libbpf can also fill it from the object itself when the map is
 *     declared with `.values = { [PROTO_TCP] = (void *)&xdp_tcp, ... }`;
 *     ebpfvm's loader does not read `.values` yet, so this example leaves
 *     the table to user space.
 * The sub-programs re-parse the headers: a tail call keeps the context but
 * nothing the verifier knew about the packet.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum { PROTO_TCP = 0, PROTO_UDP = 1, PROTO_ICMP = 2, PROTO_MAX = 8 };

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, PROTO_MAX);
    __type(key, __u32);
    __type(value, __u32);
} jmp_table SEC(".maps");

/* The L4 header of an IPv4 packet, or NULL (bounds-checked for len bytes). */
static __always_inline void *ipv4_l4(struct xdp_md *ctx, __u8 *proto, __u32 len)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
        return NULL;
    void *l4 = (void *)ip + ip->ihl * 4;
    if (l4 + len > data_end)
        return NULL;
    *proto = ip->protocol;
    return l4;
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
    __u8 proto;

    if (!ipv4_l4(ctx, &proto, 0))
        return XDP_PASS;
    switch (proto) {
    case IPPROTO_TCP:
        bpf_tail_call(ctx, &jmp_table, PROTO_TCP);
        break;
    case IPPROTO_UDP:
        bpf_tail_call(ctx, &jmp_table, PROTO_UDP);
        break;
    case IPPROTO_ICMP:
        bpf_tail_call(ctx, &jmp_table, PROTO_ICMP);
        break;
    }
    return XDP_PASS; /* no program for it (or an empty slot) */
}

SEC("xdp")
int xdp_tcp(struct xdp_md *ctx)
{
    __u8 proto;
    struct tcphdr *tcp = ipv4_l4(ctx, &proto, sizeof(*tcp));

    if (tcp && tcp->dest == bpf_htons(23))
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
    __u8 proto;
    struct udphdr *udp = ipv4_l4(ctx, &proto, sizeof(*udp));

    if (udp && bpf_ntohs(udp->dest) < 1024 && udp->dest != bpf_htons(53))
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int xdp_icmp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    unsigned char tmp[ETH_ALEN];

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
