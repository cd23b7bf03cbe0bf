/* tests/bpf/bad_kfunc.c - a call to a kernel function: the program that
 * makes it does not load, the other program of the object does. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_some_kfunc(int x) __ksym;

SEC("xdp")
int kfunc_prog(struct xdp_md *ctx)
{
    (void)ctx;
    return bpf_some_kfunc(1);
}

SEC("xdp")
int plain_prog(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
