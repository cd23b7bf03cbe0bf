/* devmap_redirect.c - bpf_redirect_map into a DEVMAP: the test harness
 * fills slots 0..3 with ifindex 1 (lo); IPv4 goes to slot 0, IPv6 to slot
 * 1, ARP to slot 7 (empty: the flags' low bits, XDP_DROP, are returned),
 * VLAN frames to slot 2, the rest to slot 9 (empty, fallback XDP_PASS).
 * Also looks up slot 3 with bpf_map_lookup_elem (allowed for devmaps) and
 * counts non-NULL results in .bss. */
#include "xdp_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u32);
} tx_ports SEC(".maps");

__u64 slot3_present;

SEC("xdp")
int devmap_redirect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 three = 3;

    if (bpf_map_lookup_elem(&tx_ports, &three))
        slot3_present++;
    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP))
        return bpf_redirect_map(&tx_ports, 0, 0);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        return bpf_redirect_map(&tx_ports, 1, 0);
    if (eth->h_proto == bpf_htons(ETH_P_ARP))
        return bpf_redirect_map(&tx_ports, 7, XDP_DROP);
    if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
        return bpf_redirect_map(&tx_ports, 2, XDP_DROP);
    return bpf_redirect_map(&tx_ports, 9, XDP_PASS);
}

LICENSE_GPL;
