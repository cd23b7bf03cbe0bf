/* tests/bpf/run_compare.c - an XDP program for `ebpfvm run --compare-kernel`
 * (tests/test_cli_run.c) whose results depend on ingress_ifindex, which the
 * kernel's test run always sets to 1 (loopback): with `--ifindex 7` ebpfvm
 * and the kernel must disagree on the bytes and on one map, and agree on
 * the verdict and on the other maps.
 *   - the packet's first byte (destination MAC) is overwritten with the low
 *     byte of ingress_ifindex; the verdict is XDP_PASS (XDP_DROP for frames
 *     shorter than 15 bytes);
 *   - `by_ifindex` (hash): packets per ingress_ifindex;
 *   - `total` (array) and `percpu_total` (per-CPU array): packets seen. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} by_ifindex SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} percpu_total SEC(".maps");

SEC("xdp")
int run_compare(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    __u32 zero = 0, ifindex = ctx->ingress_ifindex;
    __u64 one = 1, *v;

    if ((v = bpf_map_lookup_elem(&total, &zero)))
        __sync_fetch_and_add(v, 1);
    if ((v = bpf_map_lookup_elem(&percpu_total, &zero)))
        *v += 1;
    if ((v = bpf_map_lookup_elem(&by_ifindex, &ifindex)))
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&by_ifindex, &ifindex, &one, BPF_NOEXIST);
    if (data + 15 > end)
        return XDP_DROP;
    data[0] = (unsigned char)ifindex;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
