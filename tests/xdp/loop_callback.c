/* loop_callback.c - bpf_loop (helper 181): a callback sums the first 48
 * bytes of the frame through packet pointers it reads from the caller's
 * stack (bounds-checked against data_end in the callback), stops early at
 * a zero byte after the first 14, and counts its calls; a second loop
 * with a callback that returns 1 at once must report one call. The sums
 * go to an array map; the verdict depends on them. */
#include "xdp_common.h"

struct loop_state {
    __u8 *data;
    __u8 *end;
    __u64 sum;
    __u32 calls;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} loop_totals SEC(".maps");

static int sum_byte(__u32 index, struct loop_state *s)
{
    s->calls++;
    if (index >= 48)
        return 1;
    __u8 *p = s->data + index;
    if (p + 1 > s->end)
        return 1;
    if (index >= 14 && *p == 0)
        return 1;
    s->sum += *p;
    return 0;
}

static int stop_at_once(__u32 index, void *unused)
{
    (void)index;
    (void)unused;
    return 1;
}

static void add_total(__u32 key, __u64 v)
{
    __u64 *t = bpf_map_lookup_elem(&loop_totals, &key);
    if (t)
        *t += v;
}

SEC("xdp")
int loop_callback(struct xdp_md *ctx)
{
    struct loop_state s = {
        .data = (__u8 *)(long)ctx->data,
        .end = (__u8 *)(long)ctx->data_end,
        .sum = 0,
        .calls = 0,
    };
    long n = bpf_loop(64, sum_byte, &s, 0);
    long once = bpf_loop(10, stop_at_once, NULL, 0);
    long bad = bpf_loop(1, stop_at_once, NULL, 1); /* flags must be 0: -EINVAL */
    add_total(0, s.sum);
    add_total(1, s.calls);
    add_total(2, (__u64)n);
    add_total(3, (__u64)(once * 100 + bad));
    return (s.sum & 1) ? XDP_DROP : XDP_PASS;
}

LICENSE_GPL;
