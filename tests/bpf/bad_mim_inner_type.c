/* tests/bpf/bad_mim_inner_type.c - an inner map of a type ebpfvm does not
 * have (BPF_MAP_TYPE_QUEUE, 22). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct {
        __uint(type, BPF_MAP_TYPE_QUEUE);
        __uint(max_entries, 4);
        __type(value, __u32);
    });
} outer SEC(".maps");

SEC("xdp")
int mim(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
