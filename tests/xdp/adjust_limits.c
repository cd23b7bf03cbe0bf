/* adjust_limits.c - the edges of bpf_xdp_adjust_head, _meta and _tail,
 * probed on every frame with deltas around the limits (the headroom minus
 * the kernel's 40-byte struct xdp_frame, the 14-byte Ethernet minimum, the
 * tailroom, metadata sizes that are not a multiple of 4 or too large);
 * each successful probe is undone. Every return code is folded into a
 * running hash in .bss and the frame's last byte-pair, so any difference in
 * a return value shows in the output or the final map. Finally metadata is
 * written and the head moved with metadata present (the kernel moves the
 * metadata along), and both stay in the output. */
#include "xdp_common.h"

__u64 acc = 1469598103934665603ull;
__u64 successes, failures;

static __always_inline void fold(long rc)
{
    acc = (acc ^ (__u64)rc) * 1099511628211ull;
    if (rc)
        failures++;
    else
        successes++;
}

static const volatile int meta_deltas[8] = {-4, -8, -32, -36, -3, -256, -216, 4};
static const volatile int head_deltas[6] = {-216, -217, -1, 1, -300, 14};
static const volatile int tail_deltas[5] = {1, 320, 3520, -1, 100000};

SEC("xdp")
int adjust_limits(struct xdp_md *ctx)
{
    void *start = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __s64 len = end - start;

    asm volatile("" : "+r"(len)); /* compute it now: no 32-bit pointer spill */
    long rc;

    for (int i = 0; i < 8; i++) {
        int d = meta_deltas[i];
        rc = bpf_xdp_adjust_meta(ctx, d);
        fold(rc);
        if (!rc)
            bpf_xdp_adjust_meta(ctx, -d);
    }
    for (int i = 0; i < 6; i++) {
        int d = head_deltas[i];
        rc = bpf_xdp_adjust_head(ctx, d);
        fold(rc);
        if (!rc)
            bpf_xdp_adjust_head(ctx, -d);
    }
    /* head: exactly to the 14-byte minimum, and one byte past it */
    rc = bpf_xdp_adjust_head(ctx, len - 14);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_head(ctx, -(len - 14));
    rc = bpf_xdp_adjust_head(ctx, len - 13);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_head(ctx, -(len - 13));
    for (int i = 0; i < 5; i++) {
        int d = tail_deltas[i];
        rc = bpf_xdp_adjust_tail(ctx, d);
        fold(rc);
        if (!rc)
            bpf_xdp_adjust_tail(ctx, -d);
    }
    /* tail: the largest grow that fits, one more, the largest shrink */
    int room = 4096 - 256 - 320 - len;
    rc = bpf_xdp_adjust_tail(ctx, room);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_tail(ctx, -room);
    rc = bpf_xdp_adjust_tail(ctx, room + 1);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_tail(ctx, -(room + 1));
    rc = bpf_xdp_adjust_tail(ctx, 14 - len);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_tail(ctx, len - 14);
    rc = bpf_xdp_adjust_tail(ctx, 13 - len);
    fold(rc);
    if (!rc)
        bpf_xdp_adjust_tail(ctx, len - 13);

    /* metadata, then move the head with it present */
    if (bpf_xdp_adjust_meta(ctx, -8))
        return XDP_ABORTED;
    void *data = (void *)(long)ctx->data;
    __u64 *meta = (void *)(long)ctx->data_meta;
    if ((void *)(meta + 1) > data)
        return XDP_ABORTED;
    __u64 written = acc;
    *meta = written;
    rc = bpf_xdp_adjust_head(ctx, -16);
    fold(rc);
    data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    meta = (void *)(long)ctx->data_meta;
    if ((void *)(meta + 1) > data)
        return XDP_ABORTED;
    if (*meta != written && rc == 0)
        return XDP_DROP; /* the metadata did not move with the head */
    __u8 *p = data;
    if (p + 16 > (__u8 *)data_end)
        return XDP_ABORTED;
    for (int i = 0; i < 16; i++)
        p[i] = (__u8)(acc >> (8 * (i & 7)));
    return (acc & 1) ? XDP_PASS : XDP_TX;
}

LICENSE_GPL;
