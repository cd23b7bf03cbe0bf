/*
 * xdp_swap_tx.c - bounce IPv4 packets back where they came from.
 *
 * What it teaches:
 *   - writing to the packet: after the bounds check the headers are plain
 *     memory the program may modify in place;
 *   - XDP_TX: send the (modified) frame back out of the interface it came
 *     in on - here with source and destination MAC and IPv4 addresses
 *     swapped, a minimal reflector;
 *   - why no checksum changes: the IPv4 header checksum and the TCP/UDP
 *     pseudo-header sums are one's-complement sums, which do not depend on
 *     the order of the words, so exchanging two addresses keeps them valid.
 * Anything that is not IPv4 is passed to the stack (XDP_PASS). No helpers,
 * no maps.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline void swap_macs(struct ethhdr *eth)
{
    unsigned char tmp[ETH_ALEN];

    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

SEC("xdp")
int xdp_swap_tx(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __be32 addr;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;

    swap_macs(eth);
    addr = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = addr;
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
