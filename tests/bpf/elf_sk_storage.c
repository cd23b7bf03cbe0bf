/* tests/bpf/elf_sk_storage.c - a BTF-defined BPF_MAP_TYPE_SK_STORAGE map
 * declared as the kernel selftests declare one (int key, a struct value,
 * BPF_F_NO_PREALLOC, no max_entries), an XDP program that does not use it
 * (it loads and verifies) and one that passes it to bpf_map_lookup_elem
 * (the verifier refuses it, as the kernel does). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sk_val {
    __u64 packets;
    __u32 flags;
};

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sk_val);
} sk_store SEC(".maps");

SEC("xdp")
int xdp_ignores_sk_storage(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

SEC("xdp")
int xdp_looks_up_sk_storage(struct xdp_md *ctx)
{
    (void)ctx;
    int key = 0;
    struct sk_val *v = bpf_map_lookup_elem(&sk_store, &key);
    return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
