/*
 * ebpfvm/xdp.h - the XDP program type and the standard helpers.
 *
 * An XDP program (EBPFVM_PROG_TYPE_XDP) is written against the kernel's
 * `struct xdp_md` (linux/bpf.h): six u32 fields, `data` and `data_end`
 * among them. At load time every context access is checked against that
 * layout (u32 loads only, read-only, `egress_ifindex` only for devmap
 * programs - the kernel's rules and messages) and rewritten, as the
 * kernel's convert_ctx_access does, into a load from the runtime context
 * below: `r2 = *(u32 *)(r1 + 0)` becomes `r2 = *(u64 *)(r1 + 0)`, reading
 * the real 64-bit pointer. At run time r1 therefore points to a
 * struct ebpfvm_xdp_buff and ebpfvm_prog_run() must be given one:
 *
 *     ebpfvm_prog_run(prog, &buff, sizeof buff, &opts, &result);
 *     result.r0 is the action (enum ebpf_xdp_action in isa.h).
 *
 * The frame follows the kernel's BPF_PROG_TEST_RUN layout: one 4096-byte
 * frame with the packet after EBPFVM_XDP_HEADROOM bytes and
 * EBPFVM_XDP_TAILROOM bytes reserved at the end (the kernel's
 * skb_shared_info), so bpf_xdp_adjust_head/meta/tail succeed and fail
 * exactly where the kernel's do (measured on Linux 6.18 with a 64-byte
 * packet): data may move down to data_hard_start + 40 (struct xdp_frame)
 * + the metadata length, the packet keeps at least 14 bytes (ETH_HLEN),
 * data_end may grow to data_hard_start + frame_sz - 320 (grown bytes are
 * zeroed), the metadata is a multiple of 4 bytes (else -EACCES) and ends
 * at data; failures are -EINVAL. Metadata moves with adjust_head.
 *
 * The result of a run, as BPF_PROG_TEST_RUN reports it: the action in
 * result.r0, and as output packet the bytes from data_meta to data_end -
 * the metadata included. A runner that compares with the kernel must
 * output the same span. A redirect is recorded in the buff (below).
 *
 * Program type rules (vm/progtype.c; the kernel's): context loads are u32
 * only, no context stores, any return value (the kernel's verifier does
 * not restrict XDP's), legacy LD_ABS/LD_IND refused. Messages are the
 * kernel's: "insn 0: invalid bpf_context access off=0 size=8",
 * "insn 1: dereference of modified ctx ptr R1 off=4 disallowed",
 * "insn 1: BPF_ATOMIC stores into R1 ctx is not allowed". Until the
 * verifier does it, a load-time pass tracks the context through moves,
 * constant offsets and 8-byte stack spills; an access through a register
 * that is the context on some paths only is refused
 * ("insn 4: r2 is the context on some paths but not on others ...").
 */
#ifndef EBPFVM_XDP_H
#define EBPFVM_XDP_H

#include "ebpfvm/ebpfvm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The UAPI context programs are compiled against (linux/bpf.h). */
struct ebpfvm_xdp_md {
    uint32_t data;
    uint32_t data_end;
    uint32_t data_meta;
    uint32_t ingress_ifindex;
    uint32_t rx_queue_index;
    uint32_t egress_ifindex;
};

#define EBPFVM_XDP_FRAME_SIZE 4096u /* the kernel's frame_sz in BPF_PROG_TEST_RUN */
#define EBPFVM_XDP_HEADROOM 256u    /* XDP_PACKET_HEADROOM */
#define EBPFVM_XDP_TAILROOM 320u    /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), x86-64 */
/* The largest packet a frame holds. */
#define EBPFVM_XDP_MAX_PACKET (EBPFVM_XDP_FRAME_SIZE - EBPFVM_XDP_HEADROOM - EBPFVM_XDP_TAILROOM)

/* Where bpf_redirect / bpf_redirect_map sent the packet (valid when the
 * action is XDP_REDIRECT). */
enum ebpfvm_xdp_redirect_kind {
    EBPFVM_XDP_REDIRECT_NONE = 0,
    EBPFVM_XDP_REDIRECT_IFINDEX, /* bpf_redirect(ifindex, flags) */
    EBPFVM_XDP_REDIRECT_MAP      /* bpf_redirect_map(map, key, flags) */
};

/*
 * The runtime context of one XDP run: the kernel's xdp_buff, reduced.
 * Initialise with ebpfvm_xdp_buff_init(); read data/data_end/data_meta after
 * the run to get the packet as the program left it.
 */
struct ebpfvm_xdp_buff {
    uint64_t data;            /* first packet byte */
    uint64_t data_end;        /* one past the last packet byte */
    uint64_t data_meta;       /* start of the metadata (== data when none) */
    uint64_t data_hard_start; /* start of the frame */
    uint32_t frame_sz;        /* bytes of the frame, tailroom included */
    uint32_t ingress_ifindex; /* default 1 (loopback, as BPF_PROG_TEST_RUN) */
    uint32_t rx_queue_index;  /* default 0 */
    uint32_t egress_ifindex;  /* devmap programs only; default 0 */
    /* Set by the redirect helpers during the run. */
    uint32_t redirect_kind;   /* enum ebpfvm_xdp_redirect_kind */
    uint32_t redirect_ifindex;/* IFINDEX: the target; MAP: the key */
    int32_t redirect_map_fd;  /* MAP: the map */
    uint32_t redirect_target; /* MAP: the devmap entry's ifindex / the xskmap key */
    uint64_t redirect_flags;
};

/*
 * Set up buff over `frame` (frame_size bytes, at least
 * EBPFVM_XDP_HEADROOM + len + EBPFVM_XDP_TAILROOM; normally
 * EBPFVM_XDP_FRAME_SIZE) with a copy of the len packet bytes at offset
 * EBPFVM_XDP_HEADROOM, no metadata and the default ifindex/queue. The
 * caller owns frame; buff points into it. Errors: EBPFVM_ERR_INVAL (NULL
 * arguments), EBPFVM_ERR_RANGE (the packet does not fit, or len < 14, the
 * kernel's minimum: an Ethernet header).
 */
EBPFVM_API int ebpfvm_xdp_buff_init(struct ebpfvm_xdp_buff *buff, void *frame, size_t frame_size,
                                    const void *packet, size_t len);

/* bpf_trace_printk output: one formatted message (no trailing newline). */
typedef void (*ebpfvm_trace_fn)(void *ud, const char *msg);
/* bpf_perf_event_output: a sample for the perf event array `map_fd` at
 * index `cpu` (BPF_F_CURRENT_CPU resolved to the run's cpu). */
typedef void (*ebpfvm_perf_fn)(void *ud, int map_fd, uint32_t cpu, const void *data, size_t size);

/* One route of the table bpf_fib_lookup consults (longest prefix wins). */
struct ebpfvm_fib_route {
    uint8_t family;      /* 2 (AF_INET) or 10 (AF_INET6) */
    uint8_t prefixlen;
    uint8_t dst[16];     /* network byte order; IPv4 in the first 4 bytes */
    uint8_t gateway[16]; /* next hop; all zero: directly connected */
    uint32_t ifindex;    /* egress interface */
    uint16_t mtu;        /* 0: 1500 */
    uint8_t smac[6];     /* egress interface's MAC */
    uint8_t dmac[6];     /* next hop's MAC (the neighbour entry) */
};

struct ebpfvm_helper_opts {
    size_t sz;                  /* sizeof(struct ebpfvm_helper_opts) */
    ebpfvm_trace_fn trace;      /* NULL: trace_printk output is dropped */
    void *trace_ud;
    ebpfvm_perf_fn perf;        /* NULL: perf_event_output samples are dropped */
    void *perf_ud;
    const struct ebpfvm_fib_route *routes; /* copied; NULL/0: every lookup "not found" */
    size_t nroutes;
};

/*
 * Helper semantics (Linux 6.18's where a program can see them):
 *   - ktime_get_ns: run opts ktime_ns when non-zero, else CLOCK_MONOTONIC.
 *   - get_prandom_u32: a fixed sequence per run when opts prandom_seed is
 *     non-zero (the same in every execution mode), else a per-thread
 *     generator seeded once.
 *   - get_smp_processor_id: the run's cpu (opts.cpu).
 *   - trace_printk: %d %i %u %x %X (l, ll), %c, %s, %pks, %pus, %p, %pK,
 *     %px, %% with flags "0+- " and a width, at most 3 arguments; other
 *     conversions (%pB, %pI4, ...) are -EINVAL. %p prints the raw value in
 *     16 hex digits (the kernel prints a hash). Returns the length.
 *   - csum_diff: the kernel's, folded to 16 bits (Linux >= 6.13).
 *   - redirect(ifindex, flags): XDP_REDIRECT, or XDP_ABORTED for flags != 0.
 *   - redirect_map(map, key, flags): DEVMAP, DEVMAP_HASH, XSKMAP; a miss
 *     returns flags & 3; BPF_F_BROADCAST is recorded with target 0.
 *   - tail_call: at most 33 per run; failures return to the program; the
 *     target runs with the same ctx and a fresh stack (natively in JIT runs
 *     when it has native code). From a bpf-to-bpf subprogram: a fault.
 *   - perf_event_output: to slots of a PERF_EVENT_ARRAY opened with
 *     ebpfvm_map_update (any u32 value); samples go to opts->perf; at most
 *     512 bytes of program data plus BPF_F_CTXLEN_MASK packet bytes.
 *   - fib_lookup: IPv4/IPv6 longest-prefix match over opts->routes; fills
 *     ifindex, smac, dmac, mtu_result; a gateway replaces the destination.
 *     0 (SUCCESS), 4 (NOT_FWDED: no route), 8 (FRAG_NEEDED: tot_len above
 *     the route's mtu); -EINVAL (plen < 64, unknown flags), -EAFNOSUPPORT.
 *     Flags are accepted and ignored; no blackhole/unreachable routes, no
 *     neighbour misses, no forwarding-disabled check.
 *   - xdp_load_bytes / xdp_store_bytes: -EFAULT for offset or len above
 *     0xffff, -EINVAL past data_end.
 * In checked runs every pointer argument is checked against the run's
 * memory; a bad one stops the run: "insn N: <helper>: rK 0x...: <reason>".
 *
 * Register every helper ebpfvm implements, with Linux's IDs and prototypes:
 * the map and ring buffer helpers (as ebpfvm_vm_register_map_helpers), and
 * ktime_get_ns, trace_printk, get_prandom_u32, get_smp_processor_id,
 * tail_call, redirect, redirect_map, perf_event_output, csum_diff,
 * xdp_adjust_head, xdp_adjust_meta, xdp_adjust_tail, fib_lookup,
 * xdp_get_buff_len, xdp_load_bytes, xdp_store_bytes, skb_load_bytes (socket
 * filters), strtol, strtoul. opts may be NULL
 * (its sz must be set otherwise); callbacks and routes are kept (routes
 * copied) for the vm's lifetime. Do not call ebpfvm_vm_register_map_helpers
 * as well: the IDs collide (EBPFVM_ERR_EXIST).
 * All or nothing: on failure no helper of this call stays registered.
 * Errors: EBPFVM_ERR_INVAL, EBPFVM_ERR_EXIST (an ID already registered),
 * EBPFVM_ERR_NOMEM.
 */
EBPFVM_API int ebpfvm_vm_register_std_helpers(ebpfvm_vm *vm, const struct ebpfvm_helper_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_XDP_H */
