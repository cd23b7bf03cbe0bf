/* maps_array.c - ARRAY and PERCPU_ARRAY: a frame-length histogram (64-byte
 * buckets, 32 of them) in an ARRAY updated with atomic adds, per-CPU byte
 * and packet totals in a PERCPU_ARRAY of a struct value, and a lookup of
 * an out-of-range index that must return NULL (else XDP_ABORTED). Frames
 * in bucket 0 (under 64 bytes) are dropped. */
#include "xdp_common.h"

struct totals {
    __u64 packets;
    __u64 bytes;
    __u32 last_len;
    __u32 max_len;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, __u64);
} len_hist SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct totals);
} totals SEC(".maps");

SEC("xdp")
int maps_array(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;
    __u32 bucket = len / 64, zero = 0, bad = 32;

    if (bucket > 31)
        bucket = 31;
    __u64 *h = bpf_map_lookup_elem(&len_hist, &bucket);
    if (h)
        __sync_fetch_and_add(h, 1);
    if (bpf_map_lookup_elem(&len_hist, &bad))
        return XDP_ABORTED;
    struct totals *t = bpf_map_lookup_elem(&totals, &zero);
    if (!t)
        return XDP_ABORTED;
    t->packets++;
    t->bytes += len;
    t->last_len = len;
    if (len > t->max_len)
        t->max_len = len;
    return bucket == 0 ? XDP_DROP : XDP_PASS;
}

LICENSE_GPL;
