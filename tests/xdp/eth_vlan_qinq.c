/* eth_vlan_qinq.c - Ethernet, 802.1Q and QinQ (802.1ad) parsing: counts
 * frames by number of tags and by inner EtherType class in an ARRAY, drops
 * frames whose tags are cut short, passes IPv4/IPv6, drops ARP with two
 * tags, returns XDP_TX for LLDP (0x88cc), XDP_ABORTED for EtherTypes below
 * 0x0600 (802.3 length fields). */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} classes SEC(".maps");

static __always_inline void bump(__u32 k)
{
    __u64 *v = bpf_map_lookup_elem(&classes, &k);
    if (v)
        *v += 1;
}

SEC("xdp")
int eth_vlan_qinq(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 tags = 0, off = sizeof(*eth);
    __be16 proto;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    proto = eth->h_proto;
    if (proto == bpf_htons(ETH_P_8021AD) || proto == bpf_htons(ETH_P_8021Q)) {
        struct vlan_hdr *outer = data + off;
        if ((void *)(outer + 1) > data_end)
            return XDP_DROP;
        tags++;
        off += 4;
        proto = outer->proto;
        if (proto == bpf_htons(ETH_P_8021Q)) {
            struct vlan_hdr *inner = data + off;
            if ((void *)(inner + 1) > data_end)
                return XDP_DROP;
            tags++;
            proto = inner->proto;
            if (bpf_ntohs(inner->tci) & 0x0fff)
                bump(15);
        }
    }
    bump(tags);
    if (proto == bpf_htons(ETH_P_IP)) {
        bump(4);
        return XDP_PASS;
    }
    if (proto == bpf_htons(ETH_P_IPV6)) {
        bump(5);
        return XDP_PASS;
    }
    if (proto == bpf_htons(ETH_P_ARP)) {
        bump(6);
        return tags == 2 ? XDP_DROP : XDP_PASS;
    }
    if (proto == bpf_htons(0x88cc)) {
        bump(7);
        return XDP_TX;
    }
    if (bpf_ntohs(proto) < 0x0600) {
        bump(8);
        return XDP_ABORTED;
    }
    bump(9);
    return XDP_PASS;
}

LICENSE_GPL;
