/* tcp_port_filter.c - TCP filtering by a list of ports in .rodata, walked
 * with a bounded loop: SYNs (without ACK) to a listed port are dropped,
 * RSTs are aborted (XDP_ABORTED), everything else passes. */
#include "xdp_common.h"

const volatile __u16 blocked[6] = {22, 23, 443, 8080, 123, 1024};

SEC("xdp")
int tcp_port_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __be16 proto;
    int off = eth_l3(data, data_end, &proto);

    if (off < 0 || proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + off;
    if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP || ip->ihl < 5)
        return XDP_PASS;
    struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
    if ((void *)(tcp + 1) > data_end)
        return XDP_PASS;
    if (tcp->rst)
        return XDP_ABORTED;
    if (!tcp->syn || tcp->ack)
        return XDP_PASS;
    for (int i = 0; i < 6; i++)
        if (tcp->dest == bpf_htons(blocked[i]))
            return XDP_DROP;
    return XDP_PASS;
}

LICENSE_GPL;
