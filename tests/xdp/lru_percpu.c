/* lru_percpu.c - LRU_PERCPU_HASH: per-source-MAC packet and byte counts,
 * one slot per CPU, in an LRU map far larger than the number of sources
 * (no eviction, whose order is an implementation detail). New sources are
 * inserted with BPF_NOEXIST; frames to a multicast/broadcast destination
 * (bit 0 of its first byte: ARP requests) are dropped and their entry
 * deleted (-ENOENT when there is none). */
#include "xdp_common.h"

struct mac_key {
    __u8 addr[6];
    __u16 pad;
};

struct counts {
    __u64 packets, bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct mac_key);
    __type(value, struct counts);
} by_mac SEC(".maps");

SEC("xdp")
int lru_percpu(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct mac_key key = {};

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    __builtin_memcpy(key.addr, eth->h_source, 6);
    /* vary the key with the EtherType so there is more than one entry */
    key.pad = eth->h_proto;
    if (eth->h_dest[0] & 1) {
        bpf_map_delete_elem(&by_mac, &key);
        return XDP_DROP;
    }
    struct counts *c = bpf_map_lookup_elem(&by_mac, &key);
    if (c) {
        c->packets++;
        c->bytes += data_end - data;
        return XDP_PASS;
    }
    struct counts first = {1, data_end - data};
    return bpf_map_update_elem(&by_mac, &key, &first, BPF_NOEXIST) ? XDP_ABORTED : XDP_PASS;
}

LICENSE_GPL;
