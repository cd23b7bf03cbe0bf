/* csum_diff.c - bpf_csum_diff: a router's TTL decrement. IPv4 packets with
 * TTL <= 1 are dropped; otherwise the header checksum is first verified by
 * summing the whole header with bpf_csum_diff(NULL, 0, hdr, 20, 0) (bad
 * ones are aborted), the TTL is decremented, and the checksum is updated
 * with the difference of the changed 32-bit word. Packets with options
 * are re-summed over 24..60 bytes, in 4-byte steps (bpf_csum_diff needs a
 * multiple of 4). The result is sent back with XDP_TX. */
#include "xdp_common.h"

SEC("xdp")
int csum_diff(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)ip + 60 > data_end) {
        if ((void *)(ip + 1) > data_end || ip->ihl != 5)
            return XDP_PASS;
        /* fall through with a plain 20-byte header */
    }
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_PASS;
    if (ip->ttl <= 1)
        return XDP_DROP;

    __s64 sum;
    __u32 ihl = ip->ihl;
    if (ihl == 5) {
        sum = bpf_csum_diff(0, 0, (__be32 *)ip, 20, 0);
    } else {
        if ((void *)ip + 60 > data_end)
            return XDP_PASS;
        sum = bpf_csum_diff(0, 0, (__be32 *)ip, (ihl & 0xf) * 4, 0);
    }
    if (sum < 0)
        return XDP_ABORTED;
    if (csum_fold64((__u64)sum) != 0)
        return XDP_ABORTED; /* bad header checksum */

    __be32 old_word = *(__be32 *)&ip->ttl; /* ttl, protocol, check */
    ip->ttl--;
    __be32 new_word = *(__be32 *)&ip->ttl;
    sum = bpf_csum_diff(&old_word, 4, &new_word, 4, (__u16)~ip->check);
    if (sum < 0)
        return XDP_ABORTED;
    ip->check = csum_fold64((__u64)sum);
    return XDP_TX;
}

LICENSE_GPL;
