/*
 * tests/xdp/xdp_common.h - what the corpus programs share: the UAPI headers
 * a libbpf user includes, a VLAN header, and small always-inline helpers
 * (Ethernet/VLAN parsing to the L3 offset, checksum folding). Everything
 * here is inlined into each program; nothing is a bpf-to-bpf call.
 */
#ifndef XDP_COMMON_H
#define XDP_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct vlan_hdr {
    __be16 tci;
    __be16 proto;
};

/* Parse Ethernet and up to two VLAN tags: the EtherType (network order)
 * and the L3 offset, or -1 when the frame is too short. */
static __always_inline int eth_l3(void *data, void *data_end, __be16 *proto)
{
    struct ethhdr *eth = data;
    int off = sizeof(*eth);

    if ((void *)(eth + 1) > data_end)
        return -1;
    *proto = eth->h_proto;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
            break;
        struct vlan_hdr *vh = data + off;
        if ((void *)(vh + 1) > data_end)
            return -1;
        *proto = vh->proto;
        off += sizeof(*vh);
    }
    return off;
}

static __always_inline __u16 csum_fold32(__u32 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

static __always_inline __u16 csum_fold64(__u64 sum)
{
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    return csum_fold32((__u32)sum);
}

#define LICENSE_GPL char LICENSE[] SEC("license") = "GPL"

#endif
