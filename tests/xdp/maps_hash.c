/* maps_hash.c - HASH and PERCPU_HASH: per-destination-port TCP flow state
 * in a HASH (inserted on SYN with BPF_NOEXIST, the insert's -EEXIST result
 * counted, updated with BPF_EXIST, deleted on FIN or RST, the delete's
 * -ENOENT counted), and per-(protocol, TTL) packet counts in a PERCPU_HASH.
 * Packets to a port with a recorded state pass, others with ACK only are
 * dropped; the error counts live in .bss. */
#include "xdp_common.h"

struct state {
    __u32 packets;
    __u8 flags_seen;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 512);
    __type(key, __u16);
    __type(value, struct state);
} conns SEC(".maps");

struct proto_ttl {
    __u8 proto;
    __u8 ttl;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 512);
    __type(key, struct proto_ttl);
    __type(value, __u32);
} by_ttl SEC(".maps");

__s64 exist_errors, noent_errors, last_err;

SEC("xdp")
int maps_hash(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_PASS;
    struct proto_ttl pt = {.proto = ip->protocol, .ttl = ip->ttl};
    __u32 *n = bpf_map_lookup_elem(&by_ttl, &pt), one = 1;
    if (n)
        *n += 1;
    else
        bpf_map_update_elem(&by_ttl, &pt, &one, BPF_ANY);
    if (ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x1fff)))
        return XDP_PASS;
    struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
    if ((void *)(tcp + 1) > data_end)
        return XDP_PASS;
    __u16 port = bpf_ntohs(tcp->dest);
    long err;
    if (tcp->syn && !tcp->ack) {
        struct state s = {.packets = 1, .flags_seen = 2};
        err = bpf_map_update_elem(&conns, &port, &s, BPF_NOEXIST);
        if (err) {
            exist_errors++;
            last_err = err;
        }
        return XDP_PASS;
    }
    if (tcp->fin || tcp->rst) {
        err = bpf_map_delete_elem(&conns, &port);
        if (err) {
            noent_errors++;
            last_err = err;
        }
        return XDP_PASS;
    }
    struct state *s = bpf_map_lookup_elem(&conns, &port);
    if (!s)
        return XDP_DROP;
    struct state upd = *s;
    upd.packets++;
    upd.flags_seen |= ((__u8 *)tcp)[13];
    err = bpf_map_update_elem(&conns, &port, &upd, BPF_EXIST);
    if (err)
        last_err = err;
    return XDP_PASS;
}

LICENSE_GPL;
