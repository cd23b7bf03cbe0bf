/* tests/bpf/bpf2bpf.c - bpf-to-bpf calls into .text subprograms (static
 * and global, nested), and a callback passed by address (ld_imm64 of a
 * function). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int square(int x)
{
    return x * x;
}

__noinline int add_squares(int a, int b)
{
    return square(a) + square(b);
}

static __noinline int unused_helper(int x)
{
    return x + 1;
}

SEC("xdp")
int calls(struct xdp_md *ctx)
{
    (void)ctx;
    return add_squares(3, 4); /* 25 */
}

SEC("xdp")
int calls_one(struct xdp_md *ctx)
{
    (void)ctx;
    return square(5) + unused_helper(1) - 2; /* 25 */
}

static int loop_cb(__u32 index, void *data)
{
    *(__u64 *)data += index;
    return 0;
}

SEC("xdp")
int with_callback(struct xdp_md *ctx)
{
    (void)ctx;
    __u64 sum = 0;
    bpf_loop(4, loop_cb, &sum, 0);
    return (int)sum;
}

char LICENSE[] SEC("license") = "GPL";
