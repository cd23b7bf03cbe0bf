/* tests/bpf/maps_btf.c - BTF-defined maps (.maps): hash, array, percpu
 * array, LRU hash with flags; a counter program that uses them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
    __u32 a;
    __u32 b;
    __u64 c;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

typedef struct pair pair_t;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, const volatile pair_t);
} pairs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, 4);
    __uint(value_size, 8);
} percpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8);
    __uint(map_flags, BPF_F_NO_COMMON_LRU);
    __type(key, __u64);
    __type(value, __u32[3]);
} lru SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
    (void)ctx;
    __u32 key = 0;
    __u64 one = 1, *value = bpf_map_lookup_elem(&counts, &key);
    if (value)
        __sync_fetch_and_add(value, 1);
    else
        bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
    __u64 *pc = bpf_map_lookup_elem(&percpu, &key);
    if (pc)
        *pc += 1;
    pair_t *p = bpf_map_lookup_elem(&pairs, &key);
    if (p)
        p->c += 7;
    return 42;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
