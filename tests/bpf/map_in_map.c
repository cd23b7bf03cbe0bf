/* tests/bpf/map_in_map.c - an array of maps and a hash of maps declared as
 * libbpf does (the inner struct is the template; the kernel selftests use
 * an anonymous struct, the same BTF), slots initialised with `.values`,
 * and a program that looks up through both levels. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_array {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
};

struct inner_array inner_a SEC(".maps");
struct inner_array inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, struct inner_array);
} outer SEC(".maps") = {
    .values = {[0] = &inner_a, [2] = &inner_b},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner_array);
} outer_hash SEC(".maps") = {
    .values = {[1] = &inner_b},
};

/* outer[0][1] + 1 + 100 * outer_hash{1}[1]; 0 when outer[0] is empty. */
SEC("xdp")
int two_level(struct xdp_md *ctx)
{
    (void)ctx;
    __u32 key = 0, one = 1;
    void *inner = bpf_map_lookup_elem(&outer, &key);
    if (!inner)
        return 0;
    __u64 *v = bpf_map_lookup_elem(inner, &one);
    if (!v)
        return 0;
    __u64 r = *v + 1;
    void *h = bpf_map_lookup_elem(&outer_hash, &one);
    if (!h)
        return (int)r;
    v = bpf_map_lookup_elem(h, &one);
    return v ? (int)(r + *v * 100) : (int)r;
}

char LICENSE[] SEC("license") = "GPL";
