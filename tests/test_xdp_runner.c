/*
 * tests/test_xdp_runner.c - the XDP runner library (xdp/runner.h) and its
 * packet writer (xdp/pcap_out.c): captures written with libpcap's own
 * pcap_dump (nanosecond timestamps) into a temporary directory, small
 * programs assembled in the test and loaded as XDP programs, and assertions
 * on the counters, the callback, the skipped packets, the error messages
 * and the files the writer produces (read back with libpcap).
 *
 * Invariant: each test uses its own temporary directory, removed at the end.
 */
#define _GNU_SOURCE /* u_char for pcap.h, memmem */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#ifdef EBPFVM_HAVE_XDP_RUNTIME

#include <pcap/pcap.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/xdp.h>

#include "xdp/runner.h"

static char tmpdir[64];
static char path_buf[4][256];

static const char *tmp_path(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", tmpdir, name);
    return path_buf[slot];
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ebpfvm-test-xdp-runner-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

TestSuite(xdp_runner, .init = setup, .fini = teardown);

#define TS_BASE 1700000000ull

/* Packet i: `len` bytes, byte 14 = sel[i], others a pattern;
 * timestamp TS_BASE + i seconds and 1000 + i nanoseconds. */
static void write_capture(const char *path, const uint8_t *sel, const uint32_t *lens, size_t n, int linktype)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
    cr_assert_not_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    cr_assert_not_null(d, "%s", pcap_geterr(dead));
    static uint8_t pkt[8192];
    for (size_t i = 0; i < n; i++) {
        uint32_t len = lens ? lens[i] : 60;
        for (uint32_t j = 0; j < len; j++)
            pkt[j] = (uint8_t)(j + i);
        if (len > 14)
            pkt[14] = sel ? sel[i] : 0;
        struct pcap_pkthdr h = {.caplen = len, .len = len};
        h.ts.tv_sec = (time_t)(TS_BASE + i);
        h.ts.tv_usec = (suseconds_t)(1000 + i); /* nanoseconds with NANO precision */
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static ebpfvm_vm *vm;

static ebpfvm_prog *load(const char *text)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpf_insn *insns;
    size_t count;
    cr_assert_eq(ebpfvm_assemble(vm, text, &insns, &count), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP, .name = "test"};
    ebpfvm_prog *prog;
    int rc = ebpfvm_prog_load(vm, insns, count, &lo, &prog);
    ebpfvm_free(vm, insns);
    cr_assert_eq(rc, 0, "%s", ebpfvm_vm_errmsg(vm));
    return prog;
}

/* r0 = the packet's byte 14. */
static const char prog_byte14[] = "ldxw %r2, [%r1+0]\n"
                                  "ldxb %r0, [%r2+14]\n"
                                  "exit\n";

struct seen {
    size_t n;
    uint64_t index[16];
    uint32_t action[16];
    size_t len_in[16], len_out[16];
    int stop_at; /* return 99 at this index, -1: never */
};

static int record(void *ud, const struct xdp_packet *pkt)
{
    struct seen *s = ud;
    if (s->n < 16) {
        s->index[s->n] = pkt->index;
        s->action[s->n] = pkt->action;
        s->len_in[s->n] = pkt->len_in;
        s->len_out[s->n] = pkt->leaves ? pkt->len_out : 0;
        s->n++;
    }
    return (int)pkt->index == s->stop_at ? 99 : 0;
}

static char warnings[1024];
static void warn(void *ud, uint64_t index, const char *msg)
{
    (void)ud;
    (void)index;
    strncat(warnings, msg, sizeof warnings - strlen(warnings) - 2);
    strcat(warnings, "\n");
}

Test(xdp_runner, fnv1a64_and_names)
{
    cr_assert_eq(xdp_fnv1a64("", 0), 0xcbf29ce484222325ull);
    cr_assert_eq(xdp_fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
    cr_assert_eq(xdp_fnv1a64("foobar", 6), 0x85944171f73967e8ull);
    cr_assert_str_eq(xdp_runner_action_name(3), "XDP_TX");
    cr_assert_null(xdp_runner_action_name(5));
    cr_assert_str_eq(xdp_runner_bucket_name(XDP_RUNNER_OVERSIZE), "oversize");
    cr_assert_eq(xdp_out_format_for("x.pcap"), XDP_OUT_PCAP);
    cr_assert_eq(xdp_out_format_for("x.pcapng"), XDP_OUT_PCAPNG);
    cr_assert_eq(xdp_out_format_for("x"), XDP_OUT_PCAPNG);
}

Test(xdp_runner, open_errors)
{
    ebpfvm_prog *prog = load("mov %r0, 2\nexit\n");
    xdp_runner *r = (xdp_runner *)1;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, tmp_path(0, "missing.pcap"), NULL, &r, err, sizeof err), EBPFVM_ERR_IO);
    cr_assert_null(r);
    cr_assert_not_null(strstr(err, "missing.pcap: No such file or directory"), "%s", err);

    FILE *f = fopen(tmp_path(0, "junk.pcap"), "wb");
    fputs("definitely not a capture file", f);
    fclose(f);
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], NULL, &r, err, sizeof err), EBPFVM_ERR_FORMAT);
    cr_assert_not_null(strstr(err, "junk.pcap: unknown file format"), "%s", err);

    write_capture(tmp_path(0, "raw.pcap"), NULL, NULL, 1, DLT_RAW);
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], NULL, &r, err, sizeof err), EBPFVM_ERR_FORMAT);
    cr_assert_not_null(strstr(err, "raw.pcap: unsupported link type"), "%s", err);
    cr_assert_not_null(strstr(err, "(RAW): only Ethernet (EN10MB) is supported"), "%s", err);

    cr_assert_eq(xdp_runner_open(NULL, path_buf[0], NULL, &r, err, sizeof err), EBPFVM_ERR_INVAL);
    xdp_runner_close(NULL);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, counts_verdicts_and_calls_back)
{
    static const uint8_t sel[] = {2, 3, 1, 0, 2, 7, 9, 7};
    write_capture(tmp_path(0, "in.pcap"), sel, NULL, sizeof sel, DLT_EN10MB);
    ebpfvm_prog *prog = load(prog_byte14);
    struct seen seen = {.stop_at = -1};
    struct xdp_runner_opts o = {.mode = EBPFVM_EXEC_CHECKED, .on_packet = record, .on_packet_ud = &seen};
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(xdp_runner_linktype(r), "EN10MB");
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    const struct xdp_runner_stats *s = xdp_runner_stats(r);
    cr_assert_eq(s->total_packets, 8);
    cr_assert_eq(s->total_bytes, 480);
    cr_assert_eq(s->packets[XDP_RUNNER_PASS], 2);
    cr_assert_eq(s->bytes[XDP_RUNNER_PASS], 120);
    cr_assert_eq(s->packets[XDP_RUNNER_TX], 1);
    cr_assert_eq(s->packets[XDP_RUNNER_DROP], 1);
    cr_assert_eq(s->packets[XDP_RUNNER_ABORTED], 1);
    cr_assert_eq(s->packets[XDP_RUNNER_REDIRECT], 0);
    cr_assert_eq(s->packets[XDP_RUNNER_INVALID], 3);
    cr_assert_eq(s->ninvalid, 2);
    cr_assert_eq(s->invalid[0].value, 7);
    cr_assert_eq(s->invalid[0].packets, 2);
    cr_assert_eq(s->invalid[1].value, 9);
    cr_assert_eq(s->invalid[1].packets, 1);
    cr_assert_eq(seen.n, 8);
    for (size_t i = 0; i < 8; i++) {
        cr_assert_eq(seen.index[i], i);
        cr_assert_eq(seen.action[i], sel[i]);
        cr_assert_eq(seen.len_in[i], 60);
        cr_assert_eq(seen.len_out[i], sel[i] == 2 || sel[i] == 3 ? 60u : 0u);
    }
    /* At the end of the capture a second run reads nothing more. */
    cr_assert_eq(xdp_runner_run(r), 0);
    cr_assert_eq(s->total_packets, 8);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, max_packets_and_callback_stop)
{
    static const uint8_t sel[] = {2, 2, 2, 2, 2};
    write_capture(tmp_path(0, "in.pcap"), sel, NULL, 5, DLT_EN10MB);
    ebpfvm_prog *prog = load("mov %r0, 1\nexit\n");
    struct seen seen = {.stop_at = -1};
    struct xdp_runner_opts o = {.max_packets = 2, .on_packet = record, .on_packet_ud = &seen};
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0);
    cr_assert_eq(xdp_runner_stats(r)->packets[XDP_RUNNER_DROP], 2);
    /* The next call goes on from packet 2; the callback stops it at 3. */
    seen.stop_at = 3;
    cr_assert_eq(xdp_runner_run(r), 99);
    cr_assert_eq(xdp_runner_stats(r)->total_packets, 4);
    cr_assert_eq(seen.n, 4);
    cr_assert_eq(seen.index[3], 3);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, skips_oversize_and_runt_packets)
{
    static const uint32_t lens[] = {60, EBPFVM_XDP_MAX_PACKET, EBPFVM_XDP_MAX_PACKET + 1, 13, 14};
    static const uint8_t sel[] = {2, 2, 2, 2, 2};
    write_capture(tmp_path(0, "in.pcap"), sel, lens, 5, DLT_EN10MB);
    ebpfvm_prog *prog = load("mov %r0, 2\nexit\n");
    struct seen seen = {.stop_at = -1};
    warnings[0] = '\0';
    struct xdp_runner_opts o = {.on_packet = record, .on_packet_ud = &seen, .warn = warn};
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    const struct xdp_runner_stats *s = xdp_runner_stats(r);
    cr_assert_eq(s->total_packets, 5);
    cr_assert_eq(s->packets[XDP_RUNNER_PASS], 3);
    cr_assert_eq(s->packets[XDP_RUNNER_OVERSIZE], 1);
    cr_assert_eq(s->bytes[XDP_RUNNER_OVERSIZE], EBPFVM_XDP_MAX_PACKET + 1);
    cr_assert_eq(s->packets[XDP_RUNNER_RUNT], 1);
    cr_assert_str_eq(warnings, "packet 2: 3521 bytes is more than a frame holds (3520): skipped\n"
                               "packet 3: 13 bytes is shorter than an Ethernet header (14): skipped\n");
    cr_assert_eq(seen.n, 5); /* skipped packets reach the callback too */
    cr_assert_eq(seen.len_out[1], EBPFVM_XDP_MAX_PACKET);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, fault_names_packet_and_insn)
{
    static const uint8_t sel[] = {2, 200};
    write_capture(tmp_path(0, "in.pcap"), sel, NULL, 2, DLT_EN10MB);
    /* Reads 4000 bytes past the packet when byte 14 is 200. */
    ebpfvm_prog *prog = load("ldxw %r2, [%r1+0]\n"
                             "ldxb %r0, [%r2+14]\n"
                             "jne %r0, 200, +1\n"
                             "ldxb %r0, [%r2+4000]\n"
                             "exit\n");
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), EBPFVM_ERR_FAULT);
    const char *msg = xdp_runner_errmsg(r);
    cr_assert_not_null(strstr(msg, "in.pcap: packet 1: insn 3: "), "%s", msg);
    cr_assert_eq(xdp_runner_stats(r)->packets[XDP_RUNNER_PASS], 1);
    cr_assert_eq(xdp_runner_stats(r)->total_packets, 2);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, truncated_capture_names_packet_and_offset)
{
    write_capture(tmp_path(0, "in.pcap"), NULL, NULL, 3, DLT_EN10MB);
    FILE *f = fopen(path_buf[0], "rb");
    static uint8_t data[1024];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    f = fopen(tmp_path(1, "cut.pcap"), "wb");
    fwrite(data, 1, n - 7, f);
    fclose(f);
    ebpfvm_prog *prog = load("mov %r0, 2\nexit\n");
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[1], NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), EBPFVM_ERR_FORMAT);
    const char *msg = xdp_runner_errmsg(r);
    cr_assert_not_null(strstr(msg, "cut.pcap: packet 2 (file offset "), "%s", msg);
    cr_assert_not_null(strstr(msg, "truncated dump file; tried to read 60 captured bytes, only got 53"), "%s", msg);
    cr_assert_eq(xdp_runner_stats(r)->packets[XDP_RUNNER_PASS], 2);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

/* r0 = low 32 bits of bpf_ktime_get_ns(): an invalid action that records it. */
Test(xdp_runner, ktime_follows_the_capture_and_ctx_fields)
{
    write_capture(tmp_path(0, "in.pcap"), NULL, NULL, 2, DLT_EN10MB);
    ebpfvm_prog *prog = load("call 5\nexit\n");
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    const struct xdp_runner_stats *s = xdp_runner_stats(r);
    cr_assert_eq(s->ninvalid, 2);
    cr_assert_eq(s->invalid[0].value, (uint32_t)(TS_BASE * 1000000000ull + 1000));
    cr_assert_eq(s->invalid[1].value, (uint32_t)((TS_BASE + 1) * 1000000000ull + 1001));
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);

    /* r0 = ingress_ifindex * 16 + rx_queue_index */
    prog = load("ldxw %r2, [%r1+12]\n"
                "ldxw %r0, [%r1+16]\n"
                "lsh %r2, 4\n"
                "add %r0, %r2\n"
                "exit\n");
    struct xdp_runner_opts o = {.ifindex = 5, .rx_queue = 3};
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    cr_assert_eq(xdp_runner_stats(r)->invalid[0].value, 5 * 16 + 3);
    cr_assert_eq(xdp_runner_stats(r)->invalid[0].packets, 2);
    xdp_runner_close(r);
    /* Defaults: ifindex 1, queue 0 -> 16 */
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    cr_assert_eq(xdp_runner_stats(r)->invalid[0].value, 16);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

/* r0 = bpf_get_prandom_u32() | 8 (always invalid): seeded per packet. */
static void prandom_values(uint64_t seed, uint32_t out[2])
{
    ebpfvm_prog *prog = load("call 7\nor %r0, 8\nexit\n");
    xdp_runner *r;
    char err[256];
    struct xdp_runner_opts o = {.seed = seed};
    cr_assert_eq(xdp_runner_open(prog, path_buf[0], &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    const struct xdp_runner_stats *s = xdp_runner_stats(r);
    cr_assert_eq(s->ninvalid, 2);
    out[0] = s->invalid[0].value;
    out[1] = s->invalid[1].value;
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, prandom_is_seeded_per_packet)
{
    write_capture(tmp_path(0, "in.pcap"), NULL, NULL, 2, DLT_EN10MB);
    uint32_t a[2], b[2], c[2], d[2];
    prandom_values(0, a);           /* the default seed */
    prandom_values(XDP_RUNNER_DEFAULT_SEED, b);
    prandom_values(1000, c);
    prandom_values(1001, d);
    cr_assert_eq(a[0], b[0]);
    cr_assert_eq(a[1], b[1]);
    cr_assert_neq(a[0], c[0]);
    cr_assert_eq(c[1], d[0], "packet 1 of seed 1000 is seeded like packet 0 of seed 1001");
}

/* The writer's output, read back with libpcap: packets, bytes, timestamps. */
static void check_written(const char *path, size_t expect_packets, const uint8_t *sel_out)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    cr_assert_not_null(p, "%s", perr);
    cr_assert_eq(pcap_datalink(p), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *data;
    size_t n = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        cr_assert_lt(n, expect_packets);
        cr_assert_eq(h->caplen, 60);
        cr_assert_eq(data[14], sel_out[n]);
        n++;
    }
    cr_assert_eq(n, expect_packets);
    pcap_close(p);
}

static void run_with_writer(const char *in, const char *out, enum xdp_out_format fmt)
{
    ebpfvm_prog *prog = load(prog_byte14);
    xdp_runner *r;
    xdp_pcap_writer *w;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, in, NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_pcap_writer_open(out, fmt, &w, err, sizeof err), 0, "%s", err);
    xdp_runner_set_writer(r, w);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    cr_assert_eq(xdp_pcap_writer_close(w, err, sizeof err), 0, "%s", err);
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_runner, writers_round_trip_through_libpcap)
{
    static const uint8_t sel[] = {2, 1, 3, 0, 2};
    static const uint8_t left[] = {2, 3, 2};
    write_capture(tmp_path(0, "in.pcap"), sel, NULL, 5, DLT_EN10MB);
    run_with_writer(path_buf[0], tmp_path(1, "out.pcapng"), XDP_OUT_PCAPNG);
    check_written(path_buf[1], 3, left);
    run_with_writer(path_buf[0], tmp_path(2, "out.pcap"), XDP_OUT_PCAP);
    check_written(path_buf[2], 3, left);

    /* The pcapng output is itself a valid runner input, timestamps kept. */
    ebpfvm_prog *prog = load("call 5\nexit\n");
    xdp_runner *r;
    char err[256];
    cr_assert_eq(xdp_runner_open(prog, path_buf[1], NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(xdp_runner_run(r), 0, "%s", xdp_runner_errmsg(r));
    cr_assert_eq(xdp_runner_stats(r)->invalid[1].value, (uint32_t)((TS_BASE + 2) * 1000000000ull + 1002));
    xdp_runner_close(r);
    ebpfvm_vm_destroy(vm);

    /* The comments are in the file. */
    FILE *f = fopen(path_buf[1], "rb");
    static char data[4096];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    cr_assert(memmem(data, n, "action=XDP_PASS index=0", 23));
    cr_assert(memmem(data, n, "action=XDP_TX index=2\0\0\0", 24));
    cr_assert(memmem(data, n, "action=XDP_PASS index=4", 23));
    cr_assert_null(memmem(data, n, "index=1", 7));
}

Test(xdp_runner, writer_errors)
{
    xdp_pcap_writer *w = (xdp_pcap_writer *)1;
    char err[256];
    cr_assert_eq(xdp_pcap_writer_open("/nonexistent-dir/x.pcapng", XDP_OUT_PCAPNG, &w, err, sizeof err),
                 EBPFVM_ERR_IO);
    cr_assert_null(w);
    cr_assert_str_eq(err, "/nonexistent-dir/x.pcapng: No such file or directory");
    if (access("/dev/full", W_OK) != 0)
        return;
    cr_assert_eq(xdp_pcap_writer_open("/dev/full", XDP_OUT_PCAP, &w, err, sizeof err), 0, "%s", err);
    static uint8_t pkt[3000];
    struct xdp_packet p = {.leaves = true, .out = pkt, .len_out = sizeof pkt, .action = 2, .bucket = 2};
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = xdp_pcap_writer_write(w, &p, err, sizeof err);
    if (rc == 0)
        rc = xdp_pcap_writer_close(w, err, sizeof err);
    else
        xdp_pcap_writer_close(w, NULL, 0);
    cr_assert_eq(rc, EBPFVM_ERR_IO);
    cr_assert_str_eq(err, "/dev/full: write error: No space left on device");
}

Test(xdp_runner, packet_comment)
{
    struct ebpfvm_xdp_buff b = {.redirect_kind = EBPFVM_XDP_REDIRECT_MAP, .redirect_map_fd = 2,
                                .redirect_ifindex = 1, .redirect_target = 9};
    struct xdp_packet p = {.index = 7, .action = 4, .bucket = XDP_RUNNER_REDIRECT, .leaves = true, .buff = &b};
    char buf[128];
    xdp_packet_comment(&p, buf, sizeof buf);
    cr_assert_str_eq(buf, "action=XDP_REDIRECT index=7 redirect=map:2 key=1 target=9");
    b.redirect_kind = EBPFVM_XDP_REDIRECT_IFINDEX;
    b.redirect_ifindex = 4;
    xdp_packet_comment(&p, buf, sizeof buf);
    cr_assert_str_eq(buf, "action=XDP_REDIRECT index=7 redirect=ifindex:4");
    p.action = 3;
    p.bucket = XDP_RUNNER_TX;
    xdp_packet_comment(&p, buf, sizeof buf);
    cr_assert_str_eq(buf, "action=XDP_TX index=7");
}

#else

Test(xdp_runner, skipped)
{
    cr_skip_test("built without the XDP runtime (libpcap or libelf missing)");
}

#endif
