/* bad/ringbuf_after_submit.c - a program the kernel verifier rejects: it
 * reads a ring buffer record after bpf_ringbuf_submit released it ("R6
 * invalid mem access 'scalar'"). tests/test_xdp_kernel.c checks that the
 * oracle reports the rejection with the kernel's log. Not part of the
 * corpus (every corpus program must load). */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ringbuf_after_submit(struct xdp_md *ctx)
{
    __u32 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

    if (!e)
        return XDP_PASS;
    *e = ctx->ingress_ifindex;
    bpf_ringbuf_submit(e, 0);
    return *e == 1 ? XDP_DROP : XDP_PASS; /* use after release */
}

LICENSE_GPL;
