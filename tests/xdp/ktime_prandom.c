/* ktime_prandom.c - bpf_ktime_get_ns and bpf_get_prandom_u32 used only in
 * ways whose result cannot reach the output (they differ by design between
 * the kernel and ebpfvm): the clock must not go backwards between two
 * reads (else ABORTED), a random index selects a stack slot that receives
 * a packet byte which is read back through the same index (the byte, not
 * the index, decides), and a random value masked to zero is added to the
 * verdict; also bpf_get_smp_processor_id, which is 0 on both sides (runs
 * are pinned to CPU 0), counted per CPU in a PERCPU_ARRAY. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} cpu_seen SEC(".maps");

SEC("xdp")
int ktime_prandom(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __u8 slots[8] = {};
    __u64 t1 = bpf_ktime_get_ns();

    if (data + 14 > data_end)
        return XDP_PASS;
    __u32 r = bpf_get_prandom_u32();
    __u32 idx = r & 7;
    slots[idx] = ((__u8 *)data)[12];
    __u8 byte = slots[idx];
    __u64 t2 = bpf_ktime_get_ns();
    if (t2 < t1)
        return XDP_ABORTED;
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&cpu_seen, &key);
    if (v)
        *v += 1 + bpf_get_smp_processor_id();
    __u32 verdict = (byte & 1) ? XDP_PASS : XDP_DROP;
    return verdict + ((bpf_get_prandom_u32() & 0) ? 1 : 0);
}

LICENSE_GPL;
