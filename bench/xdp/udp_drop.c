/* bench/xdp/udp_drop.c - XDP_DROP for IPv4 UDP to port 9 (bench_xdp). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "common.h"

SEC("xdp")
int udp_drop(struct xdp_md *ctx)
{
    return bx_udp_drop((void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

char LICENSE[] SEC("license") = "GPL";
