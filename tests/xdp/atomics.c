/* atomics.c - the BPF atomic instructions (-mcpu=v3) on map values:
 * fetch-and-add, and/or/xor with and without fetch, xchg, cmpxchg, on 64-
 * and 32-bit fields of an ARRAY value; results (the fetched old values)
 * feed the next operations so every fetch is observable in the final map,
 * and the verdict comes from a cmpxchg's success. */
#include "xdp_common.h"

struct cells {
    __u64 add64, and64, or64, xor64, xchg64, cas64;
    __u32 add32, or32, xor32, cas32;
    __u64 fetched;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct cells);
} cells SEC(".maps");

SEC("xdp")
int atomics(struct xdp_md *ctx)
{
    __u32 key = 0, len = ctx->data_end - ctx->data;
    struct cells *c = bpf_map_lookup_elem(&cells, &key);

    if (!c)
        return XDP_ABORTED;
    __u64 old = __sync_fetch_and_add(&c->add64, len);
    __sync_fetch_and_add(&c->add32, 1);
    c->fetched += old & 0xff;
    old = __sync_fetch_and_or(&c->or64, 1ull << (len & 63));
    c->fetched ^= old;
    __sync_fetch_and_or(&c->or32, 1u << (len & 31));
    old = __sync_fetch_and_xor(&c->xor64, (__u64)len * 0x9e3779b97f4a7c15ull);
    c->fetched += old >> 60;
    __sync_fetch_and_xor(&c->xor32, len);
    if (c->and64 == 0)
        c->and64 = ~0ull;
    old = __sync_fetch_and_and(&c->and64, ~(1ull << (len & 63)));
    c->fetched += old & 1;
    old = __sync_lock_test_and_set(&c->xchg64, len);
    c->fetched += old;
    __u64 expect = c->cas64;
    __u64 prev = __sync_val_compare_and_swap(&c->cas64, len & 1 ? expect : expect + 1, expect + len);
    __u32 prev32 = __sync_val_compare_and_swap(&c->cas32, 0, len);
    c->fetched += prev32;
    return prev == expect && (len & 1) ? XDP_TX : XDP_PASS;
}

LICENSE_GPL;
