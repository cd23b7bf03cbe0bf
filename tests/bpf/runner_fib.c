/* tests/bpf/runner_fib.c - an IPv4 forwarder for `ebpfvm run --route`
 * (tests/test_cli_run.c): bpf_fib_lookup on the destination address; found:
 * the MAC addresses rewritten and bpf_redirect to the egress ifindex; no
 * route: XDP_PASS; any other result (fragmentation needed): XDP_DROP. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int runner_fib(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct bpf_fib_lookup params = {0};
    params.family = 2; /* AF_INET */
    params.tos = ip->tos;
    params.l4_protocol = ip->protocol;
    params.tot_len = bpf_ntohs(ip->tot_len);
    params.ipv4_src = ip->saddr;
    params.ipv4_dst = ip->daddr;
    params.ifindex = ctx->ingress_ifindex;
    long rc = bpf_fib_lookup(ctx, &params, sizeof(params), 0);
    if (rc == BPF_FIB_LKUP_RET_NOT_FWDED)
        return XDP_PASS;
    if (rc != BPF_FIB_LKUP_RET_SUCCESS)
        return XDP_DROP;
    __builtin_memcpy(eth->h_dest, params.dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, params.smac, ETH_ALEN);
    return bpf_redirect(params.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
