/* tests/bpf/multi.c - several programs in one object: two in one section,
 * xdp/..., xdp.frags, a legacy xdp_* section name, a section ebpfvm has no
 * program type for, and a call into .text shared by two programs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int verdict(int x)
{
    return x & 3;
}

SEC("xdp")
int first(struct xdp_md *ctx)
{
    (void)ctx;
    return verdict(2);
}

SEC("xdp")
int second(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_DROP;
}

SEC("xdp/devmap")
int on_devmap(struct xdp_md *ctx)
{
    (void)ctx;
    return verdict(7);
}

SEC("xdp.frags")
int frags(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

SEC("xdp_pass")
int legacy_pass(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

SEC("tc")
int classifier(struct __sk_buff *skb)
{
    (void)skb;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
