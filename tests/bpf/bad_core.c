/* tests/bpf/bad_core.c - a CO-RE field relocation (rejected). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task {
    int pid;
    int tgid;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_prog(struct xdp_md *ctx)
{
    struct task *t = (void *)(long)ctx->data;
    return __builtin_preserve_access_index(t->tgid) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
