/* bench/xdp/pass.c - returns XDP_PASS and nothing else: bench_xdp times it
 * to measure each engine's fixed per-run cost. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
