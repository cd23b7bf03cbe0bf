/* tests/bpf/runner_notxdp.c - an object without an XDP program:
 * `ebpfvm run` must fail with "no XDP program" (exit 3). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int only_tc(void *skb)
{
    (void)skb;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
