/* iter_sum.c - the open-coded numeric iterator (bpf_iter_num_new/next/
 * destroy, kfuncs): sums the first min(len, 64) bytes of the frame with an
 * index bounded against data_end on each step, counts the elements a
 * second, empty-range iterator yields (none) and what new() returns for a
 * reversed range (-EINVAL), and drops frames whose byte sum is odd. The
 * results go to an array map. */
#include "xdp_common.h"

struct bpf_iter_num {
    __u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} iter_totals SEC(".maps");

static void add_total(__u32 key, __u64 v)
{
    __u64 *t = bpf_map_lookup_elem(&iter_totals, &key);
    if (t)
        *t += v;
}

SEC("xdp")
int iter_sum(struct xdp_md *ctx)
{
    __u8 *data = (__u8 *)(long)ctx->data, *end = (__u8 *)(long)ctx->data_end;
    struct bpf_iter_num it;
    __u64 sum = 0, empty = 0;
    int *v;

    bpf_iter_num_new(&it, 0, 64);
    while ((v = bpf_iter_num_next(&it))) {
        int i = *v;
        if (i < 0 || i >= 64)
            break;
        if (data + i + 1 > end)
            break;
        sum += data[i];
    }
    bpf_iter_num_destroy(&it);

    bpf_iter_num_new(&it, 5, 5);
    while (bpf_iter_num_next(&it))
        empty++;
    bpf_iter_num_destroy(&it);

    int bad = bpf_iter_num_new(&it, 7, 3);
    bpf_iter_num_destroy(&it);

    add_total(0, sum);
    add_total(1, empty);
    add_total(2, (__u64)(long)bad);
    return (sum & 1) ? XDP_DROP : XDP_PASS;
}

LICENSE_GPL;
