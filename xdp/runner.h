/*
 * xdp/runner.h - the XDP run loop as a small library (used by `ebpfvm run`,
 * the tests and the benchmarks): read a capture with libpcap, run a loaded
 * XDP program on every packet, count the verdicts, hand the packets that
 * leave (PASS, TX, REDIRECT) to an output sink.
 *
 * Not installed; not the core: memory is the C library's, messages are
 * written into the runner's error buffer (xdp_runner_errmsg) and warnings go
 * to a callback. Functions return 0 or a negative enum ebpfvm_status:
 *   EBPFVM_ERR_IO      a file cannot be opened, read or written
 *   EBPFVM_ERR_FORMAT  a truncated or corrupt capture, a link type other
 *                      than Ethernet (DLT_EN10MB)
 *   EBPFVM_ERR_FAULT / EBPFVM_ERR_BUDGET  the program faulted on a packet
 *                      ("packet N: insn K: reason")
 *   EBPFVM_ERR_INVAL   bad arguments; EBPFVM_ERR_NOMEM out of memory
 *
 * Per-packet rules (documented in `ebpfvm run --help` too):
 *   - each packet gets a fresh EBPFVM_XDP_FRAME_SIZE frame from
 *     ebpfvm_xdp_buff_init() (the kernel's BPF_PROG_TEST_RUN layout);
 *   - packets longer than EBPFVM_XDP_MAX_PACKET or shorter than an
 *     Ethernet header (14 bytes) are not run: they are skipped with a
 *     warning and counted as "oversize" / "runt";
 *   - the action is the low 32 bits of r0, as in the kernel; a value that
 *     is no XDP action is counted under "invalid action N" and the packet is
 *     dropped, as the kernel does (it warns and treats it as XDP_ABORTED);
 *   - the bytes counted for an action are the input lengths; the bytes
 *     written out are data..data_end after the run (what the wire sees);
 *   - bpf_ktime_get_ns returns the packet's capture timestamp in ns unless
 *     real_time is set (a timestamp of 0 is given as 1 ns, since 0 means
 *     "the clock" to ebpfvm_prog_run); bpf_get_prandom_u32 is seeded with
 *     seed + index (0 is given as 1).
 */
#ifndef EBPFVM_XDP_RUNNER_H
#define EBPFVM_XDP_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/xdp.h>

/* The verdict buckets the runner counts. */
enum xdp_runner_bucket {
    XDP_RUNNER_ABORTED = 0, /* the five XDP actions keep their values */
    XDP_RUNNER_DROP,
    XDP_RUNNER_PASS,
    XDP_RUNNER_TX,
    XDP_RUNNER_REDIRECT,
    XDP_RUNNER_INVALID,     /* r0 not an XDP action (all values together) */
    XDP_RUNNER_OVERSIZE,    /* skipped: longer than EBPFVM_XDP_MAX_PACKET */
    XDP_RUNNER_RUNT,        /* skipped: shorter than 14 bytes */
    XDP_RUNNER_NBUCKETS
};

/* "XDP_PASS", ..., "invalid", "oversize", "runt". */
const char *xdp_runner_bucket_name(enum xdp_runner_bucket bucket);

/* The name of an action value: "XDP_ABORTED".."XDP_REDIRECT", NULL otherwise. */
const char *xdp_runner_action_name(uint32_t action);

/* Distinct invalid return values are counted separately up to this many;
 * further ones are only in the INVALID bucket. */
#define XDP_RUNNER_MAX_INVALID 16

struct xdp_runner_stats {
    uint64_t packets[XDP_RUNNER_NBUCKETS];
    uint64_t bytes[XDP_RUNNER_NBUCKETS]; /* input lengths */
    uint64_t total_packets;              /* packets read from the capture */
    uint64_t total_bytes;
    size_t ninvalid;                     /* entries of invalid[] used */
    struct {
        uint32_t value;
        uint64_t packets;
    } invalid[XDP_RUNNER_MAX_INVALID];
    double seconds;                      /* wall time of the loop (runs only) */
    double run_seconds;                  /* time inside ebpfvm_prog_run: measured
                                          * on the first 256 runs and a random
                                          * 1 in 16 after, scaled to all runs
                                          * (set when xdp_runner_run returns) */
};

/* What the runner tells the per-packet callback and the output sink. */
struct xdp_packet {
    uint64_t index;        /* 0-based position in the capture */
    uint64_t ts_ns;        /* capture timestamp, ns since the epoch */
    const uint8_t *in;     /* the packet as read (len_in bytes) */
    size_t len_in;
    enum xdp_runner_bucket bucket;
    uint32_t action;       /* low 32 bits of r0 (0 for skipped packets) */
    uint64_t retval;       /* r0 */
    bool leaves;           /* PASS, TX or REDIRECT: the packet is written out */
    const uint8_t *out;    /* data..data_end after the run (borrowed; set for
                            * every packet that ran, NULL if skipped) */
    size_t len_out;
    size_t meta_len;       /* metadata bytes just before out (data_meta..data) */
    const struct ebpfvm_xdp_buff *buff; /* after the run (redirect fields); NULL if skipped */
    uint64_t insns;        /* instructions executed (checked mode), else 0 */
};

/* Return 0 to go on; non-zero stops the loop, which then returns that value. */
typedef int (*xdp_packet_fn)(void *ud, const struct xdp_packet *pkt);
/* A warning about packet `index` (skipped packets); msg has no newline. */
typedef void (*xdp_warn_fn)(void *ud, uint64_t index, const char *msg);

struct xdp_runner_opts {
    enum ebpfvm_exec_mode mode; /* default (0): AUTO */
    uint32_t run_flags;         /* EBPFVM_RUN_* (e.g. ALLOW_UNVERIFIED_FAST) */
    uint64_t insn_budget;       /* 0: the library's default */
    uint32_t ifindex;           /* ingress_ifindex; 0 means 1 */
    uint32_t rx_queue;          /* rx_queue_index */
    bool real_time;             /* bpf_ktime_get_ns from CLOCK_MONOTONIC */
    uint64_t seed;              /* prandom seed base; 0 means XDP_RUNNER_DEFAULT_SEED */
    uint64_t max_packets;       /* stop after this many packets; 0: all */
    void *user;                 /* ebpfvm_run_opts.user for helpers */
    xdp_packet_fn on_packet;    /* called after every packet (skipped too); may be NULL */
    void *on_packet_ud;
    xdp_warn_fn warn;           /* may be NULL */
    void *warn_ud;
};

#define XDP_RUNNER_DEFAULT_SEED 0x5eedull

/* ------------------------------------------------------------ sinks */

/* Output formats of the packet writer (xdp/pcap_out.c). */
enum xdp_out_format {
    XDP_OUT_PCAPNG = 0, /* one EPB per packet with an opt_comment
                         * "action=XDP_TX index=N[ redirect=...]" */
    XDP_OUT_PCAP        /* classic pcap, nanosecond timestamps, no verdicts */
};

typedef struct xdp_pcap_writer xdp_pcap_writer;

/* The format for a file name: XDP_OUT_PCAP when it ends in ".pcap",
 * XDP_OUT_PCAPNG otherwise. */
enum xdp_out_format xdp_out_format_for(const char *path);

/*
 * Create path (truncated) and write the file header (little-endian,
 * Ethernet link type). On failure *out is NULL and errbuf holds
 * "PATH: reason". Errors: EBPFVM_ERR_IO, EBPFVM_ERR_NOMEM.
 */
int xdp_pcap_writer_open(const char *path, enum xdp_out_format format, xdp_pcap_writer **out, char *errbuf,
                         size_t errsize);

/* Append one packet that left (pkt->leaves; others are ignored). 0 or
 * EBPFVM_ERR_IO with the message in errbuf. */
int xdp_pcap_writer_write(xdp_pcap_writer *w, const struct xdp_packet *pkt, char *errbuf, size_t errsize);

/* Flush and close; NULL is a no-op. 0 or EBPFVM_ERR_IO (message in errbuf). */
int xdp_pcap_writer_close(xdp_pcap_writer *w, char *errbuf, size_t errsize);

/* The comment written for a packet: "action=XDP_PASS index=3", plus
 * " redirect=ifindex:N" or " redirect=map:FD key=K target=T". */
void xdp_packet_comment(const struct xdp_packet *pkt, char *buf, size_t size);

/* ----------------------------------------------------------- runner */

typedef struct xdp_runner xdp_runner;

/*
 * Open the capture at path (pcap or pcapng, nanosecond timestamps) for prog
 * (borrowed; must be an XDP program and outlive the runner). opts may be
 * NULL (copied). The link type must be Ethernet. On failure *out is NULL and
 * errbuf holds "PATH: reason". Errors: EBPFVM_ERR_IO (cannot open),
 * EBPFVM_ERR_FORMAT (not a capture, other link type), EBPFVM_ERR_INVAL,
 * EBPFVM_ERR_NOMEM.
 */
int xdp_runner_open(const ebpfvm_prog *prog, const char *path, const struct xdp_runner_opts *opts,
                    xdp_runner **out, char *errbuf, size_t errsize);

/* Send the packets that leave to w (borrowed; NULL: none). */
void xdp_runner_set_writer(xdp_runner *r, xdp_pcap_writer *w);

/*
 * Run the program over the capture (or the next max_packets). Returns 0 at
 * the end of the capture, a callback's non-zero value, or an error with
 * the message from xdp_runner_errmsg(): EBPFVM_ERR_FORMAT ("packet N: ..."
 * with libpcap's reason and the file offset), EBPFVM_ERR_FAULT /
 * EBPFVM_ERR_BUDGET ("packet N: insn K: reason"), EBPFVM_ERR_IO (writer).
 * The statistics up to the failure stay readable.
 */
int xdp_runner_run(xdp_runner *r);

/* The statistics so far (borrowed, valid while r lives). */
const struct xdp_runner_stats *xdp_runner_stats(const xdp_runner *r);

/* The link type name of the capture ("EN10MB"). */
const char *xdp_runner_linktype(const xdp_runner *r);

/* The index of the packet being run (during xdp_runner_run, e.g. from a
 * helper's callback), else of the last packet read; 0 before the first. */
uint64_t xdp_runner_current(const xdp_runner *r);

/* The last error message ("" when none). */
const char *xdp_runner_errmsg(const xdp_runner *r);

/* Close the capture and free r. NULL is a no-op. */
void xdp_runner_close(xdp_runner *r);

/* ------------------------------------------------------ small utilities */

/* FNV-1a 64 of size bytes (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3): the digest `ebpfvm run --json` prints for output bytes. */
uint64_t xdp_fnv1a64(const void *data, size_t size);

#endif /* EBPFVM_XDP_RUNNER_H */
