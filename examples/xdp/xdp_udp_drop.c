/*
 * xdp_udp_drop.c - drop UDP traffic to one port, pass everything else.
 *
 * What it teaches:
 *   - the XDP entry point: SEC("xdp"), a struct xdp_md *ctx, an action
 *     (XDP_DROP, XDP_PASS) as the return value;
 *   - packet access: ctx->data .. ctx->data_end, and the bounds check the
 *     verifier demands before every header is read;
 *   - a configuration constant in .rodata: `const volatile` globals are
 *     set by the loader before the program is loaded (libbpf skeletons:
 *     skel->rodata->blocked_port = 53) and read by the program like any
 *     variable; the verifier knows the value once the map is frozen.
 * It parses Ethernet, then IPv4 (options allowed: the header length comes
 * from ihl; fragments other than the first carry no UDP header) or IPv6
 * (UDP directly after the fixed header), and compares the UDP destination
 * port with blocked_port. No helpers, no maps besides .rodata.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The UDP port to drop, in host byte order. */
const volatile __u16 blocked_port = 9999;

SEC("xdp")
int xdp_udp_drop(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct udphdr *udp;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > data_end)
            return XDP_PASS;
        if (ip->protocol != IPPROTO_UDP || ip->ihl < 5)
            return XDP_PASS;
        if (ip->frag_off & bpf_htons(0x1fff)) /* a later fragment: no UDP header */
            return XDP_PASS;
        udp = (void *)ip + ip->ihl * 4;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end)
            return XDP_PASS;
        if (ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        udp = (void *)(ip6 + 1);
    } else {
        return XDP_PASS;
    }

    if ((void *)(udp + 1) > data_end)
        return XDP_PASS;
    if (udp->dest == bpf_htons(blocked_port))
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
