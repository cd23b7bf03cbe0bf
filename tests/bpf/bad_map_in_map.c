/* tests/bpf/bad_map_in_map.c - an array of maps whose inner map is itself
 * an array of maps (rejected: one level only, as the kernel). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct {
        __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u32);
    });
} outer SEC(".maps");

SEC("xdp")
int mim(struct xdp_md *ctx)
{
    (void)ctx;
    __u32 key = 0;
    return bpf_map_lookup_elem(&outer, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
