/* meta.c - bpf_xdp_adjust_meta: reserves 8 bytes of metadata before the
 * packet (data_meta moves back), writes a mark (the IPv4 protocol and the
 * frame length) and a magic word, reads them back through data_meta to
 * choose the verdict. The metadata is part of BPF_PROG_TEST_RUN's output
 * (data_meta..data_end), so the comparison covers it. Frames that are not
 * IPv4 get 4 bytes of metadata, then give 4 back (adjust_meta +4). */
#include "xdp_common.h"

struct mark {
    __u32 magic;
    __u16 len;
    __u8 proto;
    __u8 flags;
};

SEC("xdp")
int meta(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u8 proto = 0;
    __u16 len = data_end - data;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) {
        if (bpf_xdp_adjust_meta(ctx, -4))
            return XDP_ABORTED;
        return bpf_xdp_adjust_meta(ctx, 4) ? XDP_ABORTED : XDP_PASS;
    }
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) <= data_end)
        proto = ip->protocol;
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct mark)))
        return XDP_ABORTED;
    void *meta_start = (void *)(long)ctx->data_meta;
    data = (void *)(long)ctx->data;
    struct mark *m = meta_start;
    if ((void *)(m + 1) > data)
        return XDP_ABORTED;
    m->magic = 0x4d455441;
    m->len = len;
    m->proto = proto;
    m->flags = len > 100;
    /* read back */
    if (m->proto == IPPROTO_ICMP && m->flags)
        return XDP_DROP;
    return m->proto == IPPROTO_UDP ? XDP_TX : XDP_PASS;
}

LICENSE_GPL;
