/* tail_chain.c - tail calls: entry -> stage1 -> stage2 through a
 * PROG_ARRAY the harness fills (slot 0: stage1, slot 1: stage2, slot 2:
 * left empty); each stage counts itself in .bss and edits the frame (the
 * first byte of the source MAC). stage2 tries slot 2 first (empty: the call
 * falls through) and then returns a verdict from the frame length. Also
 * tail-calls itself with an index from the packet (out of range: falls
 * through). */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} stages SEC(".maps");

__u64 entered, stage1_runs, stage2_runs, fell_through;

SEC("xdp")
int entry(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    entered++;
    if (data + 14 > data_end)
        return XDP_PASS;
    __u32 idx = ((__u8 *)data)[13] + 4; /* always out of range */
    bpf_tail_call(ctx, &stages, idx);
    bpf_tail_call(ctx, &stages, 0);
    fell_through++;
    return XDP_ABORTED;
}

SEC("xdp")
int stage1(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    stage1_runs++;
    if (data + 14 > data_end)
        return XDP_DROP;
    ((__u8 *)data)[6] = 0x11;
    bpf_tail_call(ctx, &stages, 1);
    return XDP_ABORTED;
}

SEC("xdp")
int stage2(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    stage2_runs++;
    bpf_tail_call(ctx, &stages, 2);
    if (data + 14 > data_end)
        return XDP_DROP;
    ((__u8 *)data)[7] = 0x22;
    return (data_end - data) & 1 ? XDP_TX : XDP_PASS;
}

LICENSE_GPL;
