/* ipv4_parse.c - IPv4 header parsing with options and fragments: counts in
 * .bss (plain globals) headers with options, fragments (first / later),
 * bad versions, and sums the option bytes; drops packets whose IHL is
 * below 5 or beyond the frame, and later fragments with MF clear and an
 * offset above 0x100 (the arbitrary "too far" rule), passes the rest. */
#include "xdp_common.h"

__u64 with_options, first_frags, later_frags, bad_version, option_bytes, total;

SEC("xdp")
int ipv4_parse(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __be16 proto;
    int off = eth_l3(data, data_end, &proto);

    if (off < 0 || proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + off;
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    total++;
    if (ip->version != 4) {
        bad_version++;
        return XDP_DROP;
    }
    if (ip->ihl < 5)
        return XDP_DROP;
    __u32 hlen = ip->ihl * 4;
    if ((void *)ip + hlen > data_end)
        return XDP_DROP;
    if (hlen > 20) {
        with_options++;
        option_bytes += hlen - 20;
    }
    __u16 frag = bpf_ntohs(ip->frag_off);
    if (frag & 0x1fff) {
        later_frags++;
        if (!(frag & 0x2000) && (frag & 0x1fff) > 0x100)
            return XDP_DROP;
    } else if (frag & 0x2000) {
        first_frags++;
    }
    return XDP_PASS;
}

LICENSE_GPL;
