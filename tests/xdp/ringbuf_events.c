/* ringbuf_events.c - RINGBUF: a record per IPv4 TCP packet via
 * bpf_ringbuf_reserve/submit (the 5-tuple and flags), per IPv4 UDP packet
 * via bpf_ringbuf_output (a copy of a stack struct), and a reserved then
 * discarded record for ICMP (never seen by the reader). Verdict: TCP SYNs
 * dropped, the rest passes. The harness compares the records read from
 * both rings, in order. */
#include "xdp_common.h"

struct event {
    __be32 saddr, daddr;
    __be16 sport, dport;
    __u8 proto, tcp_flags;
    __u16 len;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("xdp")
int ringbuf_events(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return XDP_PASS;
    struct udphdr *l4 = (void *)(ip + 1);
    if (ip->protocol == IPPROTO_ICMP) {
        struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (e)
            bpf_ringbuf_discard(e, 0);
        return XDP_PASS;
    }
    if ((void *)l4 + sizeof(struct tcphdr) > data_end)
        return XDP_PASS;
    if (ip->protocol == IPPROTO_TCP) {
        struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (!e)
            return XDP_ABORTED;
        e->saddr = ip->saddr;
        e->daddr = ip->daddr;
        e->sport = l4->source;
        e->dport = l4->dest;
        e->proto = ip->protocol;
        __u8 flags = ((__u8 *)l4)[13];
        e->tcp_flags = flags;
        e->len = data_end - data;
        bpf_ringbuf_submit(e, 0); /* e is gone: use the copy */
        return flags == 0x02 ? XDP_DROP : XDP_PASS;
    }
    if (ip->protocol == IPPROTO_UDP) {
        struct event e = {.saddr = ip->saddr, .daddr = ip->daddr, .sport = l4->source, .dport = l4->dest,
                          .proto = IPPROTO_UDP, .len = data_end - data};
        if (bpf_ringbuf_output(&events, &e, sizeof(e), 0))
            return XDP_ABORTED;
    }
    return XDP_PASS;
}

LICENSE_GPL;
