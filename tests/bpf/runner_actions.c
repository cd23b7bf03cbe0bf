/* tests/bpf/runner_actions.c - XDP programs for the runner tests
 * (tests/test_cli_run.c): the verdict is chosen by the packet's byte 14 (the
 * first byte after the Ethernet header), so a capture decides each action.
 *   0..4   that action (XDP_ABORTED..XDP_REDIRECT; 4 redirects to ifindex 7)
 *   0x10   XDP_TX with the two MAC addresses swapped (a modified packet)
 *   0x11   XDP_PASS with the first 14 bytes cut (bpf_xdp_adjust_head)
 *   0x12   bpf_trace_printk("hello %d", byte 15), then XDP_PASS
 *   0x13   read 3000 bytes past data_end without a check: a fault in the
 *          checked interpreter
 *   other  returned as is (an invalid action when > 4)
 * Every verdict is counted in the array map `counters` (key: the byte). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int runner_actions(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 16 > end)
        return XDP_ABORTED;
    __u32 key = data[14];
    __u64 *count = bpf_map_lookup_elem(&counters, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    switch (key) {
    case 4:
        return bpf_redirect(7, 0);
    case 0x10:
        for (int i = 0; i < 6; i++) {
            unsigned char t = data[i];
            data[i] = data[6 + i];
            data[6 + i] = t;
        }
        return XDP_TX;
    case 0x11:
        if (bpf_xdp_adjust_head(ctx, 14))
            return XDP_ABORTED;
        return XDP_PASS;
    case 0x12:
        bpf_printk("hello %d", data[15]);
        return XDP_PASS;
    case 0x13:
        return *(volatile unsigned char *)(end + 3000);
    default:
        return key;
    }
}

/* Always XDP_PASS: selected with -s xdp/pass or -n runner_pass. */
SEC("xdp/pass")
int runner_pass(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

/* What the runtime gave the program: ktime, prandom, ifindex, queue. */
struct ctxinfo {
    __u64 ktime;
    __u32 prandom;
    __u32 ifindex;
    __u32 rx_queue;
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ctxinfo);
} info SEC(".maps");

SEC("xdp/ctx")
int runner_ctx(struct xdp_md *ctx)
{
    __u32 key = 0;
    struct ctxinfo *v = bpf_map_lookup_elem(&info, &key);
    if (!v)
        return XDP_ABORTED;
    v->ktime = bpf_ktime_get_ns();
    v->prandom = bpf_get_prandom_u32();
    v->ifindex = ctx->ingress_ifindex;
    v->rx_queue = ctx->rx_queue_index;
    return XDP_DROP;
}

/* Not XDP: `run -n runner_tc` must refuse it. */
SEC("tc")
int runner_tc(void *skb)
{
    (void)skb;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
