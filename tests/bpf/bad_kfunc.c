/* tests/bpf/bad_kfunc.c - a call to a kernel function (rejected). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_some_kfunc(int x) __ksym;

SEC("xdp")
int kfunc_prog(struct xdp_md *ctx)
{
    (void)ctx;
    return bpf_some_kfunc(1);
}

char LICENSE[] SEC("license") = "GPL";
