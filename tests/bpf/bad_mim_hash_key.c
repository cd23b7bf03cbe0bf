/* tests/bpf/bad_mim_hash_key.c - a hash of maps with u64 keys initialised
 * by .values (libbpf's update uses the slot index, an int, as the key). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
};

struct inner in1 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u64);
    __array(values, struct inner);
} outer SEC(".maps") = {
    .values = {[0] = &in1},
};

SEC("xdp")
int mim(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
