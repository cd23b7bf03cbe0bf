/* tail_values.c - a PROG_ARRAY initialised in the object itself with
 * `.values = { [1] = (void *)&odd_len, [0] = (void *)&even_len }`: libbpf
 * stores the programs at load time (no user-space set-up). The dispatcher
 * tail-calls by frame length parity; odd_len returns XDP_TX, even_len
 * XDP_DROP; the fall-through returns XDP_ABORTED. */
#include "xdp_common.h"

SEC("xdp")
int odd_len(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_TX;
}

SEC("xdp")
int even_len(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_DROP;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(struct xdp_md *));
} by_parity SEC(".maps") = {
    .values = {[0] = (void *)&even_len, [1] = (void *)&odd_len},
};

SEC("xdp")
int parity_dispatch(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;

    bpf_tail_call(ctx, &by_parity, len & 1);
    return XDP_ABORTED;
}

LICENSE_GPL;
