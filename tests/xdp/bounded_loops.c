/* bounded_loops.c - loops the kernel verifier accepts without bpf_loop:
 * a byte histogram (16 buckets on the high nibble) over the first 64 bytes
 * of the frame, stopping at data_end; an RFC 1071 sum over the same bytes
 * in 16-bit words; a search for the first 0xff byte. The results go into
 * an ARRAY (histogram) and .bss; the verdict depends on the sum's parity. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} nibbles SEC(".maps");

__u64 last_sum, first_ff_total;

SEC("xdp")
int bounded_loops(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __u8 *p = data;
    __u32 sum = 0, first_ff = 64;

    for (int i = 0; i < 64; i++) {
        if ((void *)(p + i + 1) > data_end)
            break;
        __u32 k = p[i] >> 4;
        __u64 *v = bpf_map_lookup_elem(&nibbles, &k);
        if (v)
            *v += 1;
        if (p[i] == 0xff && first_ff == 64)
            first_ff = i;
    }
    for (int i = 0; i < 32; i++) {
        __u16 *w = data + i * 2;
        if ((void *)(w + 1) > data_end)
            break;
        sum += *w;
    }
    last_sum = sum;
    first_ff_total += first_ff;
    return csum_fold32(sum) & 1 ? XDP_PASS : XDP_DROP;
}

LICENSE_GPL;
