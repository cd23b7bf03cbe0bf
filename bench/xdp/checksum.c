/* bench/xdp/checksum.c - sum of the packet's 16-bit words, a bounded
 * loop (bench_xdp). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "common.h"

SEC("xdp")
int checksum(struct xdp_md *ctx)
{
    return bx_checksum((void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

char LICENSE[] SEC("license") = "GPL";
