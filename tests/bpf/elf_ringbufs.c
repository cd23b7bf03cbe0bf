/* tests/bpf/elf_ringbufs.c - ring buffers whose max_entries libbpf rounds
 * up to a power-of-two multiple of 4096 (8 -> 4096, 5000 -> 8192), and an
 * XDP program that touches neither. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 8);
} user_rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 5000);
} rb SEC(".maps");

SEC("xdp")
int xdp_pass_prog(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
