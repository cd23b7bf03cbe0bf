/* tests/bpf/legacy_maps.c - maps in the legacy "maps" section as
 * struct bpf_map_def (libbpf 1.x headers no longer declare it). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = 4,
    .value_size = 8,
    .max_entries = 32,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = 4,
    .value_size = 16,
    .max_entries = 3,
};

SEC("xdp")
int legacy(struct xdp_md *ctx)
{
    (void)ctx;
    __u32 key = 1;
    __u64 *v = bpf_map_lookup_elem(&legacy_array, &key);
    if (v)
        *v = 5;
    v = bpf_map_lookup_elem(&legacy_hash, &key);
    return v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
