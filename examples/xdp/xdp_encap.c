/*
 * xdp_encap.c - IP-in-IP encapsulation (RFC 2003) with bpf_xdp_adjust_head.
 *
 * Every IPv4 packet is wrapped in an outer IPv4 header (protocol 4,
 * 192.0.2.1 -> 192.0.2.2) and sent back out (XDP_TX), as a tunnel ingress
 * would; other packets pass.
 *
 * What it teaches:
 *   - bpf_xdp_adjust_head(ctx, -20): grow the packet at the front into the
 *     headroom (XDP guarantees 256 bytes). It moves ctx->data, so every
 *     packet pointer taken before the call is invalid afterwards: the
 *     verifier forgets them and the program must reload data/data_end and
 *     check bounds again;
 *   - building a header from scratch and computing its checksum with a
 *     bounded loop the verifier can follow (ten 16-bit words);
 *   - moving the Ethernet header to the new front of the frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 tunnel_src = 0xc0000201; /* 192.0.2.1 */
const volatile __u32 tunnel_dst = 0xc0000202; /* 192.0.2.2 */

static __always_inline __u16 ip_checksum(const struct iphdr *ip)
{
    const __u16 *words = (const __u16 *)ip;
    __u32 sum = 0;

    for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
        sum += words[i];
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

SEC("xdp")
int xdp_encap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *inner;
    struct ethhdr eth_copy;
    __u16 inner_len;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    inner = (void *)(eth + 1);
    if ((void *)(inner + 1) > data_end)
        return XDP_PASS;
    inner_len = bpf_ntohs(inner->tot_len);
    if (inner_len > 0xffff - sizeof(struct iphdr))
        return XDP_DROP; /* the outer length would overflow */
    __builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));

    if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
        return XDP_ABORTED;

    /* Old pointers are gone: start again from ctx. */
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    struct iphdr *outer = (void *)(eth + 1);
    if ((void *)(outer + 1) > data_end)
        return XDP_ABORTED;

    __builtin_memcpy(eth, &eth_copy, sizeof(*eth));
    outer->version = 4;
    outer->ihl = 5;
    outer->tos = 0;
    outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
    outer->id = 0;
    outer->frag_off = bpf_htons(0x4000); /* DF */
    outer->ttl = 64;
    outer->protocol = IPPROTO_IPIP;
    outer->check = 0;
    outer->saddr = bpf_htonl(tunnel_src);
    outer->daddr = bpf_htonl(tunnel_dst);
    outer->check = ip_checksum(outer);
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
