/* load_store_bytes.c - bpf_xdp_load_bytes, bpf_xdp_store_bytes and
 * bpf_xdp_get_buff_len: copies the first 32 bytes (or the whole frame if
 * shorter: the helpers fail beyond the end and the program checks that
 * they do), reverses the MAC addresses through the copy, stores them back,
 * writes the buffer length into the last two bytes of frames above 100
 * bytes, and tries a load past the end that must fail (else ABORTED). */
#include "xdp_common.h"

SEC("xdp")
int load_store_bytes(struct xdp_md *ctx)
{
    __u8 buf[32];
    __u32 len = bpf_xdp_get_buff_len(ctx);

    if (len < 32) {
        if (bpf_xdp_load_bytes(ctx, 0, buf, 32) == 0)
            return XDP_ABORTED; /* must fail: beyond the frame */
        if (bpf_xdp_load_bytes(ctx, 0, buf, 14))
            return XDP_ABORTED;
        return buf[12] == 0x08 ? XDP_DROP : XDP_PASS;
    }
    if (bpf_xdp_load_bytes(ctx, 0, buf, 32))
        return XDP_ABORTED;
    for (int i = 0; i < 6; i++) {
        __u8 t = buf[i];
        buf[i] = buf[6 + i];
        buf[6 + i] = t;
    }
    buf[31] ^= 0xff;
    if (bpf_xdp_store_bytes(ctx, 0, buf, 32))
        return XDP_ABORTED;
    if (bpf_xdp_load_bytes(ctx, len - 4, buf, 8) == 0)
        return XDP_ABORTED; /* crosses the end */
    if (len > 100) {
        __be16 l = bpf_htons(len);
        if (bpf_xdp_store_bytes(ctx, len - 2, &l, 2))
            return XDP_ABORTED;
    }
    return XDP_TX;
}

LICENSE_GPL;
