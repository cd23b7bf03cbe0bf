/*
 * xdp_counters.c - per-source traffic accounting.
 *
 * Counts packets and bytes per IPv4 source address in a hash map, and
 * every verdict in a per-CPU array; IPv4 and IPv6 pass, ARP and anything
 * else is dropped, truncated IPv4 headers are XDP_ABORTED.
 *
 * What it teaches:
 *   - BPF_MAP_TYPE_HASH with a struct value: bpf_map_lookup_elem returns a
 *     pointer into the map (or NULL); the first packet of a source inserts
 *     its entry with bpf_map_update_elem(..., BPF_NOEXIST) - if another CPU
 *     won the race, the insert fails and the lookup is repeated;
 *   - atomic increments of shared counters: __sync_fetch_and_add compiles
 *     to BPF_ATOMIC | BPF_ADD (several CPUs update the same entry);
 *   - BPF_MAP_TYPE_PERCPU_ARRAY: one slot per CPU, plain increments, the
 *     reader (bpftool map dump, or ebpfvm's map dump) sums the CPUs;
 *   - one exit path that counts the action it returns.
 * User space reads the maps: `ebpfvm run xdp_counters.o --pcap mixed.pcap
 * --dump-maps`, or `bpftool map dump name src_stats` when attached.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct src_counters {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);                 /* IPv4 source, network order */
    __type(value, struct src_counters);
} src_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 5);             /* XDP_ABORTED .. XDP_REDIRECT */
    __type(key, __u32);
    __type(value, __u64);
} action_stats SEC(".maps");

static __always_inline int count_action(__u32 action)
{
    __u64 *count = bpf_map_lookup_elem(&action_stats, &action);

    if (count)
        *count += 1;
    return action;
}

static __always_inline void count_source(__u32 saddr, __u64 bytes)
{
    struct src_counters *c = bpf_map_lookup_elem(&src_stats, &saddr);

    if (!c) {
        struct src_counters fresh = {.packets = 1, .bytes = bytes};
        if (bpf_map_update_elem(&src_stats, &saddr, &fresh, BPF_NOEXIST) == 0)
            return;
        c = bpf_map_lookup_elem(&src_stats, &saddr); /* lost a race: it exists now */
        if (!c)
            return;
    }
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, bytes);
}

SEC("xdp")
int xdp_counters(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u64 bytes = data_end - data;

    if ((void *)(eth + 1) > data_end)
        return count_action(XDP_DROP);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        return count_action(XDP_PASS);
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return count_action(XDP_DROP);

    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return count_action(XDP_ABORTED);
    count_source(ip->saddr, bytes);
    return count_action(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
