/* tests/bpf/bad_mim_no_inner.c - an array of maps without its inner map
 * definition (__array(values, struct {...})). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} outer SEC(".maps");

SEC("xdp")
int mim(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
