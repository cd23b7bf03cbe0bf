/*
 * ebpfvm/skb.h - the socket filter program type (Linux's
 * BPF_PROG_TYPE_SOCKET_FILTER).
 *
 * A socket filter (EBPFVM_PROG_TYPE_SOCKET_FILTER, ELF section `socket`)
 * is written against the kernel's `struct __sk_buff` (linux/bpf.h). Unlike
 * XDP it has no direct packet pointers: it reads the packet with the legacy
 * loads (LD_ABS/LD_IND: r0 = the big-endian value at a packet offset; an
 * offset outside the packet returns 0 from the current function - ends the
 * program with r0 = 0, or returns 0 from a bpf-to-bpf subprogram to its
 * caller, as the kernel's generated code does) and with
 * bpf_skb_load_bytes (helper 26). Its return value is the number of bytes
 * to keep (0 drops the packet); the kernel does not restrict it.
 *
 * The runtime context is struct ebpfvm_sk_buff: the __sk_buff image at the
 * same offsets (so context accesses are not rewritten), followed by the
 * packet's address. The kernel's rules for a socket filter's context
 * (net/core/filter.c, sk_filter_is_valid_access), checked by the verifier
 * and by the load-time pass for unverified programs:
 *   - reads of the u32 fields at natural alignment, also narrowed to 1 or 2
 *     bytes; not tc_classid, data, data_meta, data_end, family ..
 *     local_port, tstamp, wire_len, hwtstamp, tstamp_type, flow_keys;
 *   - cb[0] .. cb[4] are scratch: loads and stores of 1, 2, 4 and 8 bytes
 *     at natural alignment inside them;
 *   - no other stores.
 * The `sk` pointer field is refused too (ebpfvm has no socket objects);
 * the kernel allows reading it as a socket pointer or NULL.
 *
 *     struct ebpfvm_sk_buff skb;
 *     ebpfvm_sk_buff_init(&skb, frame, frame_len);
 *     ebpfvm_prog_run(prog, &skb, sizeof skb, &opts, &result);
 */
#ifndef EBPFVM_SKB_H
#define EBPFVM_SKB_H

#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/ebpfvm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Linux's struct __sk_buff, field for field (192 bytes). */
struct ebpfvm_sk_buff_md {
    uint32_t len;             /* 0: packet length */
    uint32_t pkt_type;        /* 4: PACKET_HOST (0), ... */
    uint32_t mark;            /* 8 */
    uint32_t queue_mapping;   /* 12 */
    uint32_t protocol;        /* 16: the ethertype in network byte order */
    uint32_t vlan_present;    /* 20 */
    uint32_t vlan_tci;        /* 24 */
    uint32_t vlan_proto;      /* 28 */
    uint32_t priority;        /* 32 */
    uint32_t ingress_ifindex; /* 36 */
    uint32_t ifindex;         /* 40 */
    uint32_t tc_index;        /* 44 */
    uint32_t cb[5];           /* 48: scratch space for the program */
    uint32_t hash;            /* 68 */
    uint32_t tc_classid;      /* 72 */
    uint32_t data;            /* 76 (not for socket filters) */
    uint32_t data_end;        /* 80 (not for socket filters) */
    uint32_t napi_id;         /* 84 */
    uint32_t family;          /* 88 .. 139: socket fields (not for socket filters) */
    uint32_t remote_ip4;
    uint32_t local_ip4;
    uint32_t remote_ip6[4];
    uint32_t local_ip6[4];
    uint32_t remote_port;
    uint32_t local_port;
    uint32_t data_meta;       /* 140 */
    uint64_t flow_keys;       /* 144 */
    uint64_t tstamp;          /* 152 */
    uint32_t wire_len;        /* 160 */
    uint32_t gso_segs;        /* 164 */
    uint64_t sk;              /* 168 */
    uint32_t gso_size;        /* 176 */
    uint8_t tstamp_type;      /* 180 */
    uint8_t pad_[3];
    uint64_t hwtstamp;        /* 184 */
};

/* What r1 points to when a socket filter runs. */
struct ebpfvm_sk_buff {
    struct ebpfvm_sk_buff_md md; /* what the program reads and writes */
    uint64_t data;               /* address of the packet's md.len bytes */
};

/*
 * Set up skb for a frame of len bytes starting with an Ethernet header:
 * everything zero except md.len, md.protocol (the frame's ethertype, as
 * the kernel's eth_type_trans leaves it, when len >= 14) and data.
 * The frame must stay alive while the program runs.
 */
EBPFVM_API void ebpfvm_sk_buff_init(struct ebpfvm_sk_buff *skb, const void *frame, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_SKB_H */
