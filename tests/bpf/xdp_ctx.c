/* tests/bpf/xdp_ctx.c - XDP programs for tests/test_xdp_ctx.c: context field
 * reads the loader must rewrite (clang's own register allocation, spills and
 * a subprogram that takes the context), packet parsing and a packet write. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Decrement the IPv4 TTL; drop at 1; anything else passes untouched. */
SEC("xdp")
int xdp_ttl(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    if (ip->ttl <= 1)
        return XDP_DROP;
    ip->ttl--;
    return XDP_PASS;
}

static __attribute__((noinline)) int packet_len(struct xdp_md *ctx)
{
    return (int)(ctx->data_end - ctx->data);
}

/* len + 1000 * ingress_ifindex + 10000 * rx_queue_index, through a
 * subprogram and across a helper call (the ctx lives in a callee-saved
 * register or a stack slot). */
SEC("xdp")
int xdp_fields(struct xdp_md *ctx)
{
    __u64 t = bpf_ktime_get_ns();
    int len = packet_len(ctx);
    return len + 1000 * (int)ctx->ingress_ifindex + 10000 * (int)ctx->rx_queue_index + (int)(t & 0);
}

char LICENSE[] SEC("license") = "GPL";
