/* bench/xdp/parser.c - Ethernet/VLAN/IPv4/IPv6/TCP/UDP parser with a
 * 5-tuple hash (bench_xdp). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "common.h"

SEC("xdp")
int parser(struct xdp_md *ctx)
{
    return bx_parser((void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

char LICENSE[] SEC("license") = "GPL";
