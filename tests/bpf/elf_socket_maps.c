/* tests/bpf/elf_socket_maps.c - BTF-defined socket maps declared as the
 * kernel selftests declare them (progs/verifier_sock.c): a
 * BPF_MAP_TYPE_SK_STORAGE map (int key, a struct value, BPF_F_NO_PREALLOC,
 * no max_entries), a SOCKMAP and a SOCKHASH (int key, int value), and a
 * REUSEPORT_SOCKARRAY (__u32 key, __u64 value); an XDP program that uses
 * none of them (it loads and verifies) and programs that pass sk_storage
 * or the sockmap to bpf_map_lookup_elem (the verifier refuses them: no
 * ebpfvm program type holds a socket). */
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

struct {
    __uint(type, BPF_MAP_TYPE_SOCKMAP);
    __uint(max_entries, 2);
    __type(key, int);
    __type(value, int);
} socks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __uint(max_entries, 8);
    __type(key, __u64);
    __type(value, __u64);
} socks_by_cookie SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} reuse_group SEC(".maps");

SEC("xdp")
int xdp_ignores_socket_maps(struct xdp_md *ctx)
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

SEC("xdp")
int xdp_looks_up_sockmap(struct xdp_md *ctx)
{
    (void)ctx;
    int key = 0;
    int *v = bpf_map_lookup_elem(&socks, &key);
    return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
