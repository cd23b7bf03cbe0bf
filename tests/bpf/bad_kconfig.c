/* tests/bpf/bad_kconfig.c - an extern .kconfig variable (rejected). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("xdp")
int kconfig_prog(struct xdp_md *ctx)
{
    (void)ctx;
    return LINUX_KERNEL_VERSION > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
