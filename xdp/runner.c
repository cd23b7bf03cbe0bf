/*
 * xdp/runner.c - the XDP run loop: packets from a capture (libpcap reads
 * pcap and pcapng), one fresh frame per packet, one program run, the
 * verdict counted, the packets that leave handed to the output sink and
 * to the per-packet callback.
 *
 * Owns: the rules in runner.h (skipped packets, invalid actions, timestamps
 * and seeds), and the error messages of a run ("packet N: ...").
 * Invariant: after xdp_runner_run() returns, stats count every packet read
 * (run or skipped), whatever the outcome; a failing packet is counted in
 * total_packets but in no bucket.
 */
#define _DEFAULT_SOURCE /* u_char for pcap.h */
#define _POSIX_C_SOURCE 200809L

#include "xdp/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETH_HEADER_LEN 14u
#define TIME_ALL 256u
#define TIME_EVERY 16u

struct xdp_runner {
    const ebpfvm_prog *prog;
    struct xdp_runner_opts opts;
    pcap_t *pcap;
    int linktype;
    char *path;
    xdp_pcap_writer *writer;
    uint64_t next_index; /* index of the next packet read */
    struct xdp_runner_stats stats;
    /* run_seconds is estimated: the first TIME_ALL runs are timed, then a
     * pseudo-random 1 in TIME_EVERY (two clock reads cost as much as a
     * small program). */
    uint64_t runs, timed_runs, sample_state;
    double timed_seconds;
    char errmsg[512];
    /* The frame every packet is placed in (the kernel's page). */
    _Alignas(64) uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
};

static const char *const bucket_names[XDP_RUNNER_NBUCKETS] = {
    "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT", "invalid", "oversize", "runt",
};

const char *xdp_runner_bucket_name(enum xdp_runner_bucket bucket)
{
    return (unsigned)bucket < XDP_RUNNER_NBUCKETS ? bucket_names[bucket] : "?";
}

const char *xdp_runner_action_name(uint32_t action)
{
    return action <= XDP_RUNNER_REDIRECT ? bucket_names[action] : NULL;
}

uint64_t xdp_fnv1a64(const void *data, size_t size)
{
    const uint8_t *p = data;
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static void set_err(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *buf, size_t size, const char *fmt, ...)
{
    if (!buf || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

int xdp_runner_open(const ebpfvm_prog *prog, const char *path, const struct xdp_runner_opts *opts,
                    xdp_runner **out, char *errbuf, size_t errsize)
{
    if (out)
        *out = NULL;
    if (!prog || !path || !out) {
        set_err(errbuf, errsize, "xdp_runner_open: NULL argument");
        return EBPFVM_ERR_INVAL;
    }
    /* fopen first, so that "cannot open" (I/O) and "not a capture"
     * (format) are told apart. */
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(errbuf, errsize, "%s: %s", path, strerror(errno));
        return EBPFVM_ERR_IO;
    }
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!p) {
        /* libpcap closes f only on success. */
        int io = ferror(f);
        fclose(f);
        set_err(errbuf, errsize, "%s: %s", path, pcap_err[0] ? pcap_err : "not a pcap or pcapng capture");
        return io ? EBPFVM_ERR_IO : EBPFVM_ERR_FORMAT;
    }
    int linktype = pcap_datalink(p);
    if (linktype != DLT_EN10MB) {
        const char *name = pcap_datalink_val_to_name(linktype);
        set_err(errbuf, errsize, "%s: unsupported link type %d (%s): only Ethernet (EN10MB) is supported", path,
                linktype, name ? name : "unknown");
        pcap_close(p);
        return EBPFVM_ERR_FORMAT;
    }
    xdp_runner *r = calloc(1, sizeof *r);
    char *copy = strdup(path);
    if (r)
        r->sample_state = 0x9e3779b97f4a7c15ull; /* any non-zero seed */
    if (!r || !copy) {
        free(r);
        free(copy);
        pcap_close(p);
        set_err(errbuf, errsize, "%s: out of memory", path);
        return EBPFVM_ERR_NOMEM;
    }
    r->prog = prog;
    if (opts)
        r->opts = *opts;
    if (r->opts.ifindex == 0)
        r->opts.ifindex = 1;
    if (r->opts.seed == 0)
        r->opts.seed = XDP_RUNNER_DEFAULT_SEED;
    r->pcap = p;
    r->linktype = linktype;
    r->path = copy;
    *out = r;
    return 0;
}

void xdp_runner_set_writer(xdp_runner *r, xdp_pcap_writer *w)
{
    if (r)
        r->writer = w;
}

const struct xdp_runner_stats *xdp_runner_stats(const xdp_runner *r)
{
    return &r->stats;
}

const char *xdp_runner_linktype(const xdp_runner *r)
{
    const char *name = r ? pcap_datalink_val_to_name(r->linktype) : NULL;
    return name ? name : "unknown";
}

uint64_t xdp_runner_current(const xdp_runner *r)
{
    return r && r->next_index ? r->next_index - 1 : 0;
}

const char *xdp_runner_errmsg(const xdp_runner *r)
{
    return r ? r->errmsg : "";
}

void xdp_runner_close(xdp_runner *r)
{
    if (!r)
        return;
    pcap_close(r->pcap);
    free(r->path);
    free(r);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(struct xdp_runner_stats *s, enum xdp_runner_bucket b, size_t len)
{
    s->packets[b]++;
    s->bytes[b] += len;
}

static void count_invalid(struct xdp_runner_stats *s, uint32_t value)
{
    for (size_t i = 0; i < s->ninvalid; i++)
        if (s->invalid[i].value == value) {
            s->invalid[i].packets++;
            return;
        }
    if (s->ninvalid < XDP_RUNNER_MAX_INVALID) {
        s->invalid[s->ninvalid].value = value;
        s->invalid[s->ninvalid].packets = 1;
        s->ninvalid++;
    }
}

/* A packet too short or too long for a frame: warn, count, no run. */
static void skip_packet(xdp_runner *r, struct xdp_packet *pkt)
{
    char msg[160];
    if (pkt->len_in > EBPFVM_XDP_MAX_PACKET) {
        pkt->bucket = XDP_RUNNER_OVERSIZE;
        snprintf(msg, sizeof msg, "packet %" PRIu64 ": %zu bytes is more than a frame holds (%u): skipped",
                 pkt->index, pkt->len_in, (unsigned)EBPFVM_XDP_MAX_PACKET);
    } else {
        pkt->bucket = XDP_RUNNER_RUNT;
        snprintf(msg, sizeof msg,
                 "packet %" PRIu64 ": %zu bytes is shorter than an Ethernet header (%u): skipped", pkt->index,
                 pkt->len_in, ETH_HEADER_LEN);
    }
    count(&r->stats, pkt->bucket, pkt->len_in);
    if (r->opts.warn)
        r->opts.warn(r->opts.warn_ud, pkt->index, msg);
}

/* Run the program on one packet; fills the verdict fields of pkt. */
static int run_packet(xdp_runner *r, struct xdp_packet *pkt, struct ebpfvm_xdp_buff *buff)
{
    int status = ebpfvm_xdp_buff_init(buff, r->frame, sizeof r->frame, pkt->in, pkt->len_in);
    if (status) {
        snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %" PRIu64 ": cannot build the frame: %s", r->path,
                 pkt->index, ebpfvm_strerror(status));
        return status;
    }
    buff->ingress_ifindex = r->opts.ifindex;
    buff->rx_queue_index = r->opts.rx_queue;

    struct ebpfvm_run_opts ropts = {
        .sz = sizeof ropts,
        .mode = r->opts.mode,
        .insn_budget = r->opts.insn_budget,
        .user = r->opts.user,
        .flags = r->opts.run_flags,
        .ktime_ns = 0,
        .prandom_seed = r->opts.seed + pkt->index,
    };
    if (!r->opts.real_time)
        ropts.ktime_ns = pkt->ts_ns ? pkt->ts_ns : 1; /* 0 would mean "the real clock" */
    if (ropts.prandom_seed == 0)
        ropts.prandom_seed = 1;
    struct ebpfvm_run_result res;
    bool timed = r->runs++ < TIME_ALL;
    if (!timed) { /* xorshift64 */
        r->sample_state ^= r->sample_state << 13;
        r->sample_state ^= r->sample_state >> 7;
        r->sample_state ^= r->sample_state << 17;
        timed = r->sample_state % TIME_EVERY == 0;
    }
    if (timed) {
        double start = now_seconds();
        status = ebpfvm_prog_run(r->prog, buff, sizeof *buff, &ropts, &res);
        r->timed_seconds += now_seconds() - start;
        r->timed_runs++;
    } else {
        status = ebpfvm_prog_run(r->prog, buff, sizeof *buff, &ropts, &res);
    }
    if (status) {
        snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %" PRIu64 ": %s", r->path, pkt->index,
                 res.message[0] ? res.message : ebpfvm_strerror(status));
        return status;
    }
    pkt->retval = res.r0;
    pkt->action = (uint32_t)res.r0;
    pkt->insns = res.insns_executed;
    pkt->buff = buff;
    if (pkt->action > EBPF_XDP_REDIRECT) {
        pkt->bucket = XDP_RUNNER_INVALID;
        count_invalid(&r->stats, pkt->action);
    } else {
        pkt->bucket = (enum xdp_runner_bucket)pkt->action;
    }
    count(&r->stats, pkt->bucket, pkt->len_in);
    pkt->leaves = pkt->bucket == XDP_RUNNER_PASS || pkt->bucket == XDP_RUNNER_TX ||
                  pkt->bucket == XDP_RUNNER_REDIRECT;
    uintptr_t lo = (uintptr_t)r->frame, hi = lo + sizeof r->frame;
    if (buff->data_meta < lo || buff->data_meta > buff->data || buff->data > buff->data_end ||
        buff->data_end > hi) {
        snprintf(r->errmsg, sizeof r->errmsg,
                 "%s: packet %" PRIu64 ": after the run data_meta/data/data_end lie outside the frame", r->path,
                 pkt->index);
        return EBPFVM_ERR_FAULT;
    }
    pkt->out = (const uint8_t *)(uintptr_t)buff->data;
    pkt->len_out = (size_t)(buff->data_end - buff->data);
    pkt->meta_len = (size_t)(buff->data - buff->data_meta);
    return 0;
}

int xdp_runner_run(xdp_runner *r)
{
    if (!r)
        return EBPFVM_ERR_INVAL;
    r->errmsg[0] = '\0';
    double loop_start = now_seconds();
    int rc = 0;
    for (uint64_t done = 0; r->opts.max_packets == 0 || done < r->opts.max_packets; done++) {
        struct pcap_pkthdr *hdr;
        const u_char *bytes;
        int got = pcap_next_ex(r->pcap, &hdr, &bytes);
        if (got == PCAP_ERROR_BREAK) /* end of the capture */
            break;
        if (got != 1) {
            FILE *f = pcap_file(r->pcap);
            long off = f ? ftell(f) : -1;
            if (off >= 0)
                snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %" PRIu64 " (file offset %ld): %s", r->path,
                         r->next_index, off, pcap_geterr(r->pcap));
            else
                snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %" PRIu64 ": %s", r->path, r->next_index,
                         pcap_geterr(r->pcap));
            rc = EBPFVM_ERR_FORMAT;
            break;
        }
        struct xdp_packet pkt = {
            .index = r->next_index++,
            .ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec,
            .in = bytes,
            .len_in = hdr->caplen,
        };
        struct ebpfvm_xdp_buff buff;
        r->stats.total_packets++;
        r->stats.total_bytes += pkt.len_in;
        if (pkt.len_in > EBPFVM_XDP_MAX_PACKET || pkt.len_in < ETH_HEADER_LEN) {
            skip_packet(r, &pkt);
        } else {
            rc = run_packet(r, &pkt, &buff);
            if (rc)
                break;
            if (pkt.leaves && r->writer) {
                char err[256];
                rc = xdp_pcap_writer_write(r->writer, &pkt, err, sizeof err);
                if (rc) {
                    snprintf(r->errmsg, sizeof r->errmsg, "%s", err);
                    break;
                }
            }
        }
        if (r->opts.on_packet) {
            rc = r->opts.on_packet(r->opts.on_packet_ud, &pkt);
            if (rc)
                break;
        }
    }
    r->stats.seconds += now_seconds() - loop_start;
    if (r->timed_runs)
        r->stats.run_seconds = r->timed_seconds * (double)r->runs / (double)r->timed_runs;
    return rc;
}
