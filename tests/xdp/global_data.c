/* global_data.c - global variables in every section libbpf maps: .data
 * (initialised, mutable), .bss (zeroed), .rodata (const volatile
 * configuration, frozen) and a custom .data.stats section. The program
 * keeps a rolling state across packets in them (the previous frame length,
 * a running xor of the first bytes, a sequence number), writes the
 * sequence number into the destination MAC, and chooses the verdict from
 * .rodata thresholds. */
#include "xdp_common.h"

const volatile __u32 small_limit = 64;
const volatile __u32 big_limit = 1000;
const volatile __u8 verdicts[3] = {XDP_DROP, XDP_PASS, XDP_TX};

__u32 seq = 1000;          /* .data */
__u64 xor_acc = 0x5a5a;    /* .data */
__u32 prev_len;            /* .bss */
__u64 bigger_than_prev;    /* .bss */
__u64 stats[4] SEC(".data.stats") = {1, 2, 3, 4};

SEC("xdp")
int global_data(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __u32 len = data_end - data;

    if (data + 14 > data_end)
        return XDP_ABORTED;
    if (len > prev_len)
        bigger_than_prev++;
    prev_len = len;
    xor_acc ^= *(__u8 *)data + ((__u64)((__u8 *)data)[13] << 8);
    seq++;
    ((__u8 *)data)[4] = seq >> 8;
    ((__u8 *)data)[5] = seq;
    __u32 cls = len < small_limit ? 0 : len < big_limit ? 1 : 2;
    stats[cls]++;
    stats[3] += len;
    return verdicts[cls];
}

LICENSE_GPL;
