/*
 * xdp_dnat.c - destination NAT for one IPv4 service.
 *
 * TCP and UDP packets to the virtual address vip:vport (10.0.0.100:80) are
 * rewritten to go to backend:bport (10.0.1.5:8080) and passed on; the
 * stack (or a later XDP_TX/redirect) then delivers them to the backend.
 *
 * What it teaches:
 *   - incremental checksum update (RFC 1624: HC' = ~(~HC + ~m + m')):
 *     changing the destination address changes the IPv4 header checksum
 *     and, through the pseudo-header, the TCP/UDP checksum; changing the
 *     port changes the TCP/UDP checksum. No need to re-sum the packet.
 *   - UDP's "no checksum" value 0 must stay 0;
 *   - configuration in .rodata (const volatile), and a per-CPU statistics
 *     array (BPF_MAP_TYPE_PERCPU_ARRAY, helper bpf_map_lookup_elem) that
 *     counts translated packets without atomic operations: each CPU has its
 *     own slot;
 *   - fragments: only the first fragment has the L4 header, so later
 *     fragments are left alone (a real NAT would track them).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 vip = 0x0a000064;     /* 10.0.0.100, host order */
const volatile __u16 vport = 80;
const volatile __u32 backend = 0x0a000105; /* 10.0.1.5 */
const volatile __u16 bport = 8080;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2); /* 0: TCP, 1: UDP */
    __type(key, __u32);
    __type(value, __u64);
} nat_stats SEC(".maps");

/* Fold a 32-bit one's-complement sum into 16 bits. */
static __always_inline __u16 csum_fold(__u32 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

/* The checksum after replacing the 32-bit word `from` by `to` (both as
 * they are in memory: the one's-complement sum does not care about byte
 * order as long as everything is summed the same way). */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
    __u32 sum = (__u16)~check;

    sum += (~from & 0xffff) + (~from >> 16);
    sum += (to & 0xffff) + (to >> 16);
    return csum_fold(sum);
}

static __always_inline __u16 csum_replace2(__u16 check, __u16 from, __u16 to)
{
    __u32 sum = (__u16)~check;

    sum += (__u16)~from;
    sum += to;
    return csum_fold(sum);
}

SEC("xdp")
int xdp_dnat(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u32 key;
    __u64 *count;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_PASS;
    if (ip->daddr != bpf_htonl(vip) || (ip->frag_off & bpf_htons(0x1fff)))
        return XDP_PASS;

    __be32 new_addr = bpf_htonl(backend);
    __be16 new_port = bpf_htons(bport);
    void *l4 = (void *)ip + ip->ihl * 4;

    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end || tcp->dest != bpf_htons(vport))
            return XDP_PASS;
        tcp->check = csum_replace4(tcp->check, ip->daddr, new_addr);
        tcp->check = csum_replace2(tcp->check, tcp->dest, new_port);
        tcp->dest = new_port;
        key = 0;
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(vport))
            return XDP_PASS;
        if (udp->check) {
            udp->check = csum_replace4(udp->check, ip->daddr, new_addr);
            udp->check = csum_replace2(udp->check, udp->dest, new_port);
            if (!udp->check)
                udp->check = 0xffff; /* 0 would mean "no checksum" */
        }
        udp->dest = new_port;
        key = 1;
    } else {
        return XDP_PASS;
    }
    ip->check = csum_replace4(ip->check, ip->daddr, new_addr);
    ip->daddr = new_addr;

    count = bpf_map_lookup_elem(&nat_stats, &key);
    if (count)
        *count += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
