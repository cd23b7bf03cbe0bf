/* bench/xdp/map_counter.c - a HASH map counter per IPv4 source address
 * (bench_xdp). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int map_counter(struct xdp_md *ctx)
{
    long long k = bx_counter_key((void *)(long)ctx->data, (void *)(long)ctx->data_end);
    if (k < 0)
        return XDP_PASS;
    __u32 key = (__u32)k;
    __u64 *count = bpf_map_lookup_elem(&counters, &key);
    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&counters, &key, &one, BPF_NOEXIST);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
