/*
 * bench/xdp/common.h - the packet logic of the XDP benchmark programs,
 * written once and compiled twice: by clang -target bpf into bench/xdp/NAME.o
 * (through the SEC("xdp") wrappers in bench/xdp/NAME.c) and by gcc -O2 as the
 * native baseline (bench/native/NAME.c), both taking (data, data_end).
 *
 * Invariant: every read is bounds-checked against data_end the way the
 * kernel's verifier demands, so the BPF build verifies in the kernel and
 * the native build reads nothing outside the packet. The headers are the
 * kernel's layouts (no padding, not packed, as linux/if_ether.h, ip.h):
 * the native caller places the frame 2 bytes past an 8-byte boundary
 * (NET_IP_ALIGN) so that the 4-byte fields it reads are aligned.
 */
#ifndef BENCH_XDP_COMMON_H
#define BENCH_XDP_COMMON_H

#define BX_XDP_DROP 1
#define BX_XDP_PASS 2

#define BX_ETH_P_IP 0x0800
#define BX_ETH_P_IPV6 0x86DD
#define BX_ETH_P_8021Q 0x8100
#define BX_ETH_P_8021AD 0x88A8
#define BX_IPPROTO_TCP 6
#define BX_IPPROTO_UDP 17

/* Fully unroll the small fixed loops in both compilers. */
#if defined(__clang__)
#define BX_UNROLL _Pragma("unroll")
#else
#define BX_UNROLL _Pragma("GCC unroll 8")
#endif

#ifndef BX_INLINE
#define BX_INLINE static inline __attribute__((always_inline))
#endif

typedef unsigned char bx_u8;
typedef unsigned short bx_u16;
typedef unsigned int bx_u32;
typedef unsigned long long bx_u64;

struct bx_eth {
    bx_u8 dst[6];
    bx_u8 src[6];
    bx_u16 proto;
};

struct bx_vlan {
    bx_u16 tci;
    bx_u16 proto;
};

struct bx_ipv4 {
    bx_u8 ver_ihl;
    bx_u8 tos;
    bx_u16 tot_len;
    bx_u16 id;
    bx_u16 frag_off;
    bx_u8 ttl;
    bx_u8 protocol;
    bx_u16 check;
    bx_u32 saddr;
    bx_u32 daddr;
};

struct bx_ipv6 {
    bx_u32 ver_tc_flow;
    bx_u16 payload_len;
    bx_u8 nexthdr;
    bx_u8 hop_limit;
    bx_u32 saddr[4];
    bx_u32 daddr[4];
};

struct bx_ports {
    bx_u16 source;
    bx_u16 dest;
};

BX_INLINE bx_u16 bx_ntohs(bx_u16 v)
{
    return (bx_u16)((v >> 8) | (v << 8));
}

/* udp_drop: XDP_DROP for IPv4 UDP to port 9 (discard), XDP_PASS otherwise. */
BX_INLINE int bx_udp_drop(void *data, void *data_end)
{
    struct bx_eth *eth = data;
    if ((void *)(eth + 1) > data_end)
        return BX_XDP_PASS;
    if (eth->proto != bx_ntohs(BX_ETH_P_IP))
        return BX_XDP_PASS;
    struct bx_ipv4 *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return BX_XDP_PASS;
    if (ip->protocol != BX_IPPROTO_UDP)
        return BX_XDP_PASS;
    struct bx_ports *udp = (void *)((bx_u8 *)ip + (ip->ver_ihl & 0xf) * 4);
    if ((void *)(udp + 1) > data_end)
        return BX_XDP_PASS;
    return udp->dest == bx_ntohs(9) ? BX_XDP_DROP : BX_XDP_PASS;
}

BX_INLINE bx_u32 bx_mix(bx_u32 h, bx_u32 v)
{
    h ^= v;
    h *= 0x9e3779b1u;
    return h ^ (h >> 15);
}

/*
 * parser: Ethernet, up to two VLAN tags, IPv4 (any IHL) or IPv6 (fixed
 * header), TCP or UDP ports; a hash of the 5-tuple. The verdict depends on
 * the hash (XDP_DROP when its low 3 bits are 0) so that every engine must
 * compute it; non-IP or non-TCP/UDP packets pass.
 */
BX_INLINE int bx_parser(void *data, void *data_end)
{
    struct bx_eth *eth = data;
    if ((void *)(eth + 1) > data_end)
        return BX_XDP_PASS;
    bx_u16 proto = eth->proto;
    void *cur = eth + 1;
BX_UNROLL
    for (int i = 0; i < 2; i++) {
        if (proto != bx_ntohs(BX_ETH_P_8021Q) && proto != bx_ntohs(BX_ETH_P_8021AD))
            break;
        struct bx_vlan *vlan = cur;
        if ((void *)(vlan + 1) > data_end)
            return BX_XDP_PASS;
        proto = vlan->proto;
        cur = vlan + 1;
    }
    bx_u32 h = 0x811c9dc5u;
    bx_u8 l4;
    if (proto == bx_ntohs(BX_ETH_P_IP)) {
        struct bx_ipv4 *ip = cur;
        if ((void *)(ip + 1) > data_end)
            return BX_XDP_PASS;
        bx_u32 ihl = ip->ver_ihl & 0xf;
        if (ihl < 5)
            return BX_XDP_DROP;
        h = bx_mix(h, ip->saddr);
        h = bx_mix(h, ip->daddr);
        l4 = ip->protocol;
        cur = (bx_u8 *)ip + ihl * 4;
    } else if (proto == bx_ntohs(BX_ETH_P_IPV6)) {
        struct bx_ipv6 *ip6 = cur;
        if ((void *)(ip6 + 1) > data_end)
            return BX_XDP_PASS;
BX_UNROLL
        for (int i = 0; i < 4; i++) {
            h = bx_mix(h, ip6->saddr[i]);
            h = bx_mix(h, ip6->daddr[i]);
        }
        l4 = ip6->nexthdr;
        cur = ip6 + 1;
    } else {
        return BX_XDP_PASS;
    }
    if (l4 != BX_IPPROTO_TCP && l4 != BX_IPPROTO_UDP)
        return BX_XDP_PASS;
    struct bx_ports *ports = cur;
    if ((void *)(ports + 1) > data_end)
        return BX_XDP_PASS;
    h = bx_mix(h, l4);
    h = bx_mix(h, (bx_u32)ports->source << 16 | ports->dest);
    return (h & 7) == 0 ? BX_XDP_DROP : BX_XDP_PASS;
}

/*
 * checksum: the one's-complement sum of the packet's 16-bit words (a loop
 * of up to 1514 / 2 iterations, one bounds check each), folded to 16 bits;
 * XDP_DROP when the folded sum is odd, so the sum decides the verdict.
 */
#define BX_MAX_WORDS 757
BX_INLINE int bx_checksum(void *data, void *data_end)
{
    bx_u32 sum = 0;
    bx_u16 *p = data;
    for (int i = 0; i < BX_MAX_WORDS; i++) {
        if ((void *)(p + 1) > data_end)
            break;
        sum += *p;
        p++;
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (sum & 1) ? BX_XDP_DROP : BX_XDP_PASS;
}

/* map_counter: the IPv4 source address of the packet (0 for non-IPv4:
 * still counted), the key of a per-source packet counter. Returns -1 when
 * the packet is too short to have an Ethernet header. */
BX_INLINE long long bx_counter_key(void *data, void *data_end)
{
    struct bx_eth *eth = data;
    if ((void *)(eth + 1) > data_end)
        return -1;
    if (eth->proto != bx_ntohs(BX_ETH_P_IP))
        return 0;
    struct bx_ipv4 *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return 0;
    return ip->saddr;
}

#endif
