/*
 * tests/test_cli_run.c - `ebpfvm run` and `ebpfvm dump` as a user sees them:
 * the built binary is spawned with stdout/stderr captured, on clang-built
 * objects (tests/bpf/xdp_drop.c, runner_actions.c, runner_notxdp.c) and on
 * captures each test writes itself (classic pcap, written byte by byte
 * here). Each test asserts the output, the diagnostics and the exit code:
 * verdict counts, the -w file's exact bytes (pcapng with comments, classic
 * pcap), the JSON lines, every option and every error path.
 *
 * Invariant: every test works in its own temporary directory, removed at the
 * end; a test that needs the BPF objects skips when they were not built.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cli_assert.h"
#include "cli_spawn.h"

#define BPF_DIR EBPFVM_BINARY_DIR "/tests/bpf"

static char tmpdir[64];

static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

/* Set by a test to run the command as user nobody (through setpriv). */
static bool as_nobody;

#define run_cli(r, ...) spawn_cli_list((r), tmpdir, as_nobody ? SPAWN_AS_NOBODY : 0, __VA_ARGS__)

static void remove_tree(void)
{
    spawn_tmpdir_remove(tmpdir);
}

static void setup(void)
{
    spawn_tmpdir_create(tmpdir, sizeof tmpdir, "run");
}

static void need_object(const char *name)
{
#ifndef EBPFVM_HAVE_XDP_RUNTIME
    cr_skip_test("built without the XDP runtime (libpcap): no `ebpfvm run`");
#endif
    char path[256];
    snprintf(path, sizeof path, "%s/%s", BPF_DIR, name);
    if (access(path, R_OK) != 0)
        cr_skip_test("%s was not built (no clang)", path);
}

#define OBJ(name) BPF_DIR "/" name

/* `ebpfvm run runner_actions.o --unverified --pcap in` and the further
 * arguments (NULL-terminated). */
#define run_actions(r, in, ...)                                                                               \
    run_cli((r), "run", OBJ("runner_actions.o"), "--unverified", "--pcap", (in), __VA_ARGS__)

/* ------------------------------------------------------ byte builders */

struct buf {
    uint8_t data[65536];
    size_t len;
};

static void b_put(struct buf *b, const void *p, size_t n)
{
    cr_assert_leq(b->len + n, sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void b_u16(struct buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    b_put(b, x, 2);
}

static void b_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    b_put(b, x, 4);
}

#define TS_SEC 1700000000u
#define TS_USEC 123456u

/* A 60-byte Ethernet/IPv4-ish frame whose byte 14 selects runner_actions'
 * verdict and byte 15 is its argument. */
static size_t make_packet(uint8_t *p, size_t len, uint8_t selector, uint8_t arg)
{
    static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x08;
    p[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        p[i] = (uint8_t)(i * 7);
    p[14] = selector;
    p[15] = arg;
    return len;
}

/* A classic pcap (microseconds, little-endian) with one packet per
 * selector; packet i has timestamp TS_SEC + i, TS_USEC. */
static void write_capture(const char *name, const uint8_t *selectors, size_t n, uint32_t linktype)
{
    struct buf *b = calloc(1, sizeof *b);
    cr_assert_not_null(b);
    b_u32(b, 0xa1b2c3d4u);
    b_u16(b, 2);
    b_u16(b, 4);
    b_u32(b, 0);
    b_u32(b, 0);
    b_u32(b, 65535);
    b_u32(b, linktype);
    for (size_t i = 0; i < n; i++) {
        uint8_t pkt[60];
        make_packet(pkt, sizeof pkt, selectors[i], (uint8_t)(i + 7));
        b_u32(b, TS_SEC + (uint32_t)i);
        b_u32(b, TS_USEC);
        b_u32(b, sizeof pkt);
        b_u32(b, sizeof pkt);
        b_put(b, pkt, sizeof pkt);
    }
    char path[256];
    FILE *f = fopen(tmp_path(name, path, sizeof path), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
    free(b);
}

/* write_capture of "in.pcap" (Ethernet), its path in `in`. */
static void write_in_pcap(const uint8_t *selectors, size_t n, char *in, size_t size)
{
    write_capture("in.pcap", selectors, n, 1);
    tmp_path("in.pcap", in, size);
}

static void write_raw(const char *name, const void *data, size_t size)
{
    char path[256];
    FILE *f = fopen(tmp_path(name, path, sizeof path), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static size_t read_raw(const char *name, uint8_t *data, size_t size)
{
    char path[256];
    FILE *f = fopen(tmp_path(name, path, sizeof path), "rb");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(data, 1, size, f);
    fclose(f);
    return n;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

TestSuite(cli_run, .init = setup, .fini = remove_tree);

/* ---------------------------------------------------------------- help */

Test(cli_run, help)
{
    struct spawn_result r;
    run_cli(&r, "--help", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "  run ");
    assert_has(r.out, "  dump ");
    run_cli(&r, "run", "--help", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm run PROG.o --pcap IN");
    assert_has(r.out, "N + I (default N = 0x5eed)");
    assert_has(r.out, "when\n                         OUT ends in .pcap");
    assert_has(r.out, "FNV-1a 64");
    assert_has(r.out, "\"invalid action N\" and the packet is dropped");
    assert_has(r.out, "  --compare-kernel       also load the object into the Linux kernel");
    assert_has(r.out, "6 --compare-kernel found a\ndifference from the kernel");
    run_cli(&r, "dump", "--help", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm dump PROG.o");
}

/* --------------------------------------------------------- usage errors */

Test(cli_run, usage_errors)
{
    struct spawn_result r;
    run_cli(&r, "run", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: run: no object file");
    assert_has(r.err, "Try 'ebpfvm run --help'.");
    run_cli(&r, "run", "x.o", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "no capture: --pcap IN is required");
    run_cli(&r, "run", "x.o", "--pcap", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "option --pcap needs a value");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--fast", "--jit", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--interp, --fast and --jit exclude each other");
    run_cli(&r, "run", "x.o", "--pcap", "in", "-c", "0", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "-c needs a positive number, not '0'");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--seed", "abc", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--seed needs a positive number, not 'abc'");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--ifindex", "4294967296", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--ifindex needs a number from 0 to 4294967295, not '4294967296'");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--rx-queue", "-1", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--rx-queue needs a number");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--bogus", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "unknown option '--bogus'");
    run_cli(&r, "run", "x.o", "y.o", "--pcap", "in", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "more than one object file ('x.o' and 'y.o')");
    run_cli(&r, "run", "x.o", "--pcap", "in", "--fast", "--budget", "10", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--budget only applies to the checked interpreter");
    run_cli(&r, "dump", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: dump: no object file");
    run_cli(&r, "dump", "x.o", "--what", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "unknown option '--what'");
}

/* ----------------------------------------------------------- bad input */

Test(cli_run, missing_files)
{
    need_object("xdp_drop.o");
    struct spawn_result r;
    char in[256], missing[256];
    static const uint8_t sel[] = {1};
    write_in_pcap(sel, 1, in, sizeof in);
    tmp_path("nothing.o", missing, sizeof missing);
    run_cli(&r, "run", missing, "--pcap", in, NULL);
    assert_exit(r, 5);
    assert_has(r.err, "nothing.o");
    assert_has(r.err, "No such file or directory");
    tmp_path("nothing.pcap", missing, sizeof missing);
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", missing, NULL);
    assert_exit(r, 5);
    assert_has(r.err, "nothing.pcap: No such file or directory");
    run_cli(&r, "dump", missing, NULL);
    assert_exit(r, 5);
    assert_has(r.err, "No such file or directory");
}

Test(cli_run, corrupt_and_truncated_capture)
{
    need_object("xdp_drop.o");
    struct spawn_result r;
    char path[256];
    write_raw("garbage.pcap", "this is not a capture at all, not even close", 44);
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("garbage.pcap", path, sizeof path), NULL);
    assert_exit(r, 5);
    assert_has(r.err, "garbage.pcap: unknown file format");

    /* Three packets, the last one cut 20 bytes short. */
    static const uint8_t sel[] = {1, 1, 1};
    write_capture("full.pcap", sel, 3, 1);
    uint8_t data[1024];
    size_t n = read_raw("full.pcap", data, sizeof data);
    cr_assert_eq(n, 24 + 3 * (16 + 60));
    write_raw("cut.pcap", data, n - 20);
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("cut.pcap", path, sizeof path), NULL);
    assert_exit(r, 5);
    assert_has(r.err, "cut.pcap: packet 2 (file offset ");
    assert_has(r.err, "truncated dump file; tried to read 60 captured bytes, only got 40");
    /* A record header cut short. */
    write_raw("cuthdr.pcap", data, 24 + 76 + 8);
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("cuthdr.pcap", path, sizeof path), NULL);
    assert_exit(r, 5);
    assert_has(r.err, "cuthdr.pcap: packet 1 (file offset ");
    assert_has(r.err, "truncated dump file");
    /* Only the file header cut. */
    write_raw("cutfile.pcap", data, 10);
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("cutfile.pcap", path, sizeof path), NULL);
    assert_exit(r, 5);
    assert_has(r.err, "cutfile.pcap: truncated dump file");
}

Test(cli_run, unsupported_link_type)
{
    need_object("xdp_drop.o");
    static const uint8_t sel[] = {1};
    write_capture("sll.pcap", sel, 1, 113);
    struct spawn_result r;
    char path[256];
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("sll.pcap", path, sizeof path), NULL);
    assert_exit(r, 5);
    assert_has(r.err, "sll.pcap: unsupported link type 113 (LINUX_SLL): only Ethernet (EN10MB) is supported");
}

Test(cli_run, empty_capture)
{
    need_object("xdp_drop.o");
    write_capture("empty.pcap", NULL, 0, 1);
    struct spawn_result r;
    char path[256];
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", tmp_path("empty.pcap", path, sizeof path), NULL);
    assert_exit(r, 0);
    assert_has(r.out, "empty.pcap: 0 packets, 0 bytes (jit)");
    assert_has(r.out, "XDP_DROP                          0              0     0.0%");
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", path, "--json", NULL);
    assert_exit(r, 0);
    static const char want[] = "{\"summary\":{\"engine\":\"jit\",\"packets\":0,\"bytes\":0,";
    cr_assert_eq(strncmp(r.out, want, strlen(want)), 0, "%s", r.out);
}

Test(cli_run, program_selection_errors)
{
    need_object("runner_actions.o");
    need_object("runner_notxdp.o");
    static const uint8_t sel[] = {2};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result r;
    run_cli(&r, "run", OBJ("runner_notxdp.o"), "--pcap", in, NULL);
    assert_exit(r, 3);
    assert_has(r.err, "runner_notxdp.o: no XDP program in ");
    assert_has(r.err, "(programs: only_tc (section tc))");
    run_actions(&r, in, "-s", "nope", NULL);
    assert_exit(r, 3);
    assert_has(r.err, "no program in section 'nope' (programs: runner_actions (section xdp), runner_pass (section "
                      "xdp/pass), runner_ctx (section xdp/ctx), runner_tc (section tc))");
    run_actions(&r, in, "-n", "nope", NULL);
    assert_exit(r, 3);
    assert_has(r.err, "no program named 'nope' (programs: runner_actions");
    run_actions(&r, in, "-n", "runner_tc", NULL);
    assert_exit(r, 3);
    assert_has(r.err, "program runner_tc (section tc) is not an XDP program");
    run_cli(&r, "dump", OBJ("runner_actions.o"), "-s", "nope", NULL);
    assert_exit(r, 3);
    assert_has(r.err, "no program in section 'nope'");
    /* Not an ELF object at all. */
    run_cli(&r, "run", in, "--pcap", in, NULL);
    assert_exit(r, 3);
    assert_has(r.err, "in.pcap: not an ELF file");
}

Test(cli_run, load_errors)
{
    need_object("bpf2bpf.o");
    need_object("bad_core.o");
    static const uint8_t sel[] = {2};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result r;
    /* bpf_loop's callback runs (0 + 1 + 2 + 3): action 6 is no action. */
    run_cli(&r, "run", OBJ("bpf2bpf.o"), "-n", "with_callback", "--pcap", in, NULL);
    assert_exit(r, 0);
    assert_has(r.out, "invalid action 6");
    run_cli(&r, "run", OBJ("bad_core.o"), "--pcap", in, NULL);
    assert_exit(r, 3);
    assert_has(r.err, "bad_core.o: section .BTF.ext: CO-RE relocations are not supported");
    run_cli(&r, "dump", OBJ("bad_core.o"), NULL);
    assert_exit(r, 3);
    assert_has(r.err, "CO-RE relocations are not supported");
}

/* ------------------------------------------------------------ real runs */

Test(cli_run, xdp_drop_counts)
{
    need_object("xdp_drop.o");
    static const uint8_t sel[] = {0, 1, 2};
    char in[256], out[256];
    write_in_pcap(sel, 3, in, sizeof in);
    tmp_path("out.pcapng", out, sizeof out);
    struct spawn_result r;
    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", in, "-w", out, NULL);
    assert_exit(r, 0);
    assert_has(r.out, "in.pcap: 3 packets, 180 bytes (jit)");
    assert_has(r.out, "XDP_DROP                          3            180   100.0%");
    assert_has(r.out, "XDP_PASS                          0              0     0.0%");
    assert_has(r.out, "packets/s");
    /* Nothing left: the output holds the two header blocks only. */
    uint8_t data[512];
    cr_assert_eq(read_raw("out.pcapng", data, sizeof data), 48 + 32);
}

/* The selectors of the main capture and what runner_actions makes of them. */
static const uint8_t main_selectors[] = {2, 3, 1, 0, 4, 0x10, 0x11, 9, 2};

Test(cli_run, verdicts_text_and_verbose)
{
    need_object("runner_actions.o");
    char in[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "-v", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "packet 0: 60 bytes -> XDP_PASS, 60 bytes out\n");
    assert_has(r.out, "packet 1: 60 bytes -> XDP_TX, 60 bytes out\n");
    assert_has(r.out, "packet 2: 60 bytes -> XDP_DROP\n");
    assert_has(r.out, "packet 3: 60 bytes -> XDP_ABORTED\n");
    assert_has(r.out, "packet 4: 60 bytes -> XDP_REDIRECT, 60 bytes out to ifindex 7\n");
    assert_has(r.out, "packet 5: 60 bytes -> XDP_TX, 60 bytes out\n");
    assert_has(r.out, "packet 6: 60 bytes -> XDP_PASS, 46 bytes out\n");
    assert_has(r.out, "packet 7: 60 bytes -> invalid action 9 (dropped)\n");
    assert_has(r.out, "in.pcap: 9 packets, 540 bytes (checked interpreter)");
    assert_has(r.out, "XDP_ABORTED                       1             60    11.1%");
    assert_has(r.out, "XDP_DROP                          1             60    11.1%");
    assert_has(r.out, "XDP_PASS                          3            180    33.3%");
    assert_has(r.out, "XDP_TX                            2            120    22.2%");
    assert_has(r.out, "XDP_REDIRECT                      1             60    11.1%");
    assert_has(r.out, "invalid (dropped)                 1             60    11.1%");
    assert_has(r.out, "  invalid action 9                1\n");

    /* -c stops early; no -v: no per-packet lines. */
    run_actions(&r, in, "-c", "2", NULL);
    assert_exit(r, 0);
    assert_lacks(r.out, "packet 0:");
    assert_has(r.out, "in.pcap: 2 packets, 120 bytes");
    assert_has(r.out, "XDP_PASS                          1             60    50.0%");
    assert_has(r.out, "XDP_TX                            1             60    50.0%");

    /* -s / -n pick another program. */
    run_actions(&r, in, "-s", "xdp/pass", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "XDP_PASS                          9            540   100.0%");
    run_actions(&r, in, "-n", "runner_pass", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "XDP_PASS                          9            540   100.0%");
}

/* The expected pcapng: SHB, IDB, then one EPB per packet that left. */
static void expect_block_headers(struct buf *b)
{
    static const char appl[] = "ebpfvm run";
    b_u32(b, 0x0A0D0D0Au);
    b_u32(b, 48);
    b_u32(b, 0x1A2B3C4Du);
    b_u16(b, 1);
    b_u16(b, 0);
    b_u32(b, 0xffffffffu);
    b_u32(b, 0xffffffffu);
    b_u16(b, 4); /* shb_userappl */
    b_u16(b, 10);
    b_put(b, appl, 10);
    b_u16(b, 0); /* padding */
    b_u32(b, 0); /* opt_endofopt */
    b_u32(b, 48);
    b_u32(b, 1); /* IDB */
    b_u32(b, 32);
    b_u16(b, 1);
    b_u16(b, 0);
    b_u32(b, 262144);
    b_u16(b, 9); /* if_tsresol = 9 */
    b_u16(b, 1);
    b_u32(b, 9);
    b_u32(b, 0);
    b_u32(b, 32);
}

static void expect_epb(struct buf *b, size_t index, const uint8_t *pkt, size_t len, const char *comment)
{
    uint64_t ts = (uint64_t)(TS_SEC + index) * 1000000000ull + TS_USEC * 1000ull;
    size_t clen = strlen(comment), pad = (4 - len % 4) % 4, cpad = (4 - clen % 4) % 4;
    uint32_t total = (uint32_t)(28 + len + pad + 4 + clen + cpad + 4 + 4);
    b_u32(b, 6);
    b_u32(b, total);
    b_u32(b, 0);
    b_u32(b, (uint32_t)(ts >> 32));
    b_u32(b, (uint32_t)ts);
    b_u32(b, (uint32_t)len);
    b_u32(b, (uint32_t)len);
    b_put(b, pkt, len);
    static const uint8_t zero[4];
    b_put(b, zero, pad);
    b_u16(b, 1);
    b_u16(b, (uint16_t)clen);
    b_put(b, comment, clen);
    b_put(b, zero, cpad);
    b_u32(b, 0);
    b_u32(b, total);
}

Test(cli_run, write_pcapng_exact_bytes)
{
    need_object("runner_actions.o");
    char in[256], out[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    tmp_path("out.pcapng", out, sizeof out);
    struct spawn_result r;
    run_actions(&r, in, "-w", out, NULL);
    assert_exit(r, 0);

    static struct buf want, got;
    want.len = 0;
    expect_block_headers(&want);
    uint8_t pkt[60];
    make_packet(pkt, 60, 2, 7);
    expect_epb(&want, 0, pkt, 60, "action=XDP_PASS index=0");
    make_packet(pkt, 60, 3, 8);
    expect_epb(&want, 1, pkt, 60, "action=XDP_TX index=1");
    make_packet(pkt, 60, 4, 11);
    expect_epb(&want, 4, pkt, 60, "action=XDP_REDIRECT index=4 redirect=ifindex:7");
    make_packet(pkt, 60, 0x10, 12); /* MAC addresses swapped */
    uint8_t mac[6];
    memcpy(mac, pkt, 6);
    memcpy(pkt, pkt + 6, 6);
    memcpy(pkt + 6, mac, 6);
    expect_epb(&want, 5, pkt, 60, "action=XDP_TX index=5");
    make_packet(pkt, 60, 0x11, 13); /* the Ethernet header cut */
    expect_epb(&want, 6, pkt + 14, 46, "action=XDP_PASS index=6");
    make_packet(pkt, 60, 2, 15);
    expect_epb(&want, 8, pkt, 60, "action=XDP_PASS index=8");

    got.len = read_raw("out.pcapng", got.data, sizeof got.data);
    cr_assert_eq(got.len, want.len, "file is %zu bytes, expected %zu", got.len, want.len);
    for (size_t i = 0; i < want.len; i++)
        cr_assert_eq(got.data[i], want.data[i], "byte %zu: 0x%02x, expected 0x%02x", i, got.data[i], want.data[i]);
}

Test(cli_run, write_classic_pcap_exact_bytes)
{
    need_object("runner_actions.o");
    static const uint8_t sel[] = {1, 0x11, 3};
    char in[256], out[256];
    write_in_pcap(sel, 3, in, sizeof in);
    tmp_path("out.pcap", out, sizeof out);
    struct spawn_result r;
    run_actions(&r, in, "-w", out, NULL);
    assert_exit(r, 0);
    static struct buf want, got;
    want.len = 0;
    b_u32(&want, 0xa1b23c4du); /* nanosecond pcap */
    b_u16(&want, 2);
    b_u16(&want, 4);
    b_u32(&want, 0);
    b_u32(&want, 0);
    b_u32(&want, 262144);
    b_u32(&want, 1);
    uint8_t pkt[60];
    make_packet(pkt, 60, 0x11, 8);
    b_u32(&want, TS_SEC + 1);
    b_u32(&want, TS_USEC * 1000);
    b_u32(&want, 46);
    b_u32(&want, 46);
    b_put(&want, pkt + 14, 46);
    make_packet(pkt, 60, 3, 9);
    b_u32(&want, TS_SEC + 2);
    b_u32(&want, TS_USEC * 1000);
    b_u32(&want, 60);
    b_u32(&want, 60);
    b_put(&want, pkt, 60);
    got.len = read_raw("out.pcap", got.data, sizeof got.data);
    cr_assert_eq(got.len, want.len, "file is %zu bytes, expected %zu", got.len, want.len);
    cr_assert_eq(memcmp(got.data, want.data, want.len), 0);
}

Test(cli_run, write_error)
{
    need_object("runner_actions.o");
    static const uint8_t sel[] = {2};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "-w", in, NULL);
    assert_exit(r, 2);
    assert_has(r.err, "in.pcap would overwrite the capture being read");
    run_actions(&r, in, "-w", "/nonexistent-dir/out.pcapng", NULL);
    assert_exit(r, 5);
    assert_has(r.err, "/nonexistent-dir/out.pcapng: No such file or directory");
    if (access("/dev/full", W_OK) == 0) {
        /* The disk fills up: the buffered writes fail at the latest on close. */
        run_actions(&r, in, "-w", "/dev/full", NULL);
        assert_exit(r, 5);
        assert_has(r.err, "ebpfvm: /dev/full: write error: No space left on device");
    }
}

Test(cli_run, json_lines)
{
    need_object("runner_actions.o");
    char in[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "--json", NULL);
    assert_exit(r, 0);
    uint8_t pkt[60];
    char line[512];
    make_packet(pkt, 60, 2, 7);
    snprintf(line, sizeof line,
             "{\"index\":0,\"ts_ns\":1700000000123456000,\"action\":\"XDP_PASS\",\"retval\":2,\"len_in\":60,"
             "\"len_out\":60,\"fnv1a64\":\"%016" PRIx64 "\"}\n",
             fnv1a64(pkt, 60));
    cr_assert_eq(strncmp(r.out, line, strlen(line)), 0, "got:\n%s\nexpected:\n%s", r.out, line);
    assert_has(r.out, "{\"index\":2,\"ts_ns\":1700000002123456000,\"action\":\"XDP_DROP\",\"retval\":1,\"len_in\":60,"
                      "\"len_out\":0}\n");
    make_packet(pkt, 60, 4, 11);
    snprintf(line, sizeof line,
             "{\"index\":4,\"ts_ns\":1700000004123456000,\"action\":\"XDP_REDIRECT\",\"retval\":4,\"len_in\":60,"
             "\"len_out\":60,\"fnv1a64\":\"%016" PRIx64 "\",\"redirect\":{\"ifindex\":7}}\n",
             fnv1a64(pkt, 60));
    assert_has(r.out, line);
    make_packet(pkt, 60, 0x11, 13);
    snprintf(line, sizeof line,
             "\"action\":\"XDP_PASS\",\"retval\":2,\"len_in\":60,\"len_out\":46,\"fnv1a64\":\"%016" PRIx64 "\"}\n",
             fnv1a64(pkt + 14, 46));
    assert_has(r.out, line);
    assert_has(r.out, "\"action\":\"invalid\",\"retval\":9,\"len_in\":60,\"len_out\":0}\n");
    assert_has(r.out, "{\"summary\":{\"engine\":\"checked interpreter\",\"packets\":9,\"bytes\":540,\"actions\":{"
                      "\"XDP_ABORTED\":{\"packets\":1,\"bytes\":60},\"XDP_DROP\":{\"packets\":1,\"bytes\":60},"
                      "\"XDP_PASS\":{\"packets\":3,\"bytes\":180},\"XDP_TX\":{\"packets\":2,\"bytes\":120},"
                      "\"XDP_REDIRECT\":{\"packets\":1,\"bytes\":60},\"invalid\":{\"packets\":1,\"bytes\":60},"
                      "\"oversize\":{\"packets\":0,\"bytes\":0},\"runt\":{\"packets\":0,\"bytes\":0}},"
                      "\"invalid_actions\":[{\"value\":9,\"packets\":1}],\"seconds\":");
    /* -v adds the output bytes as hex. */
    run_actions(&r, in, "--json", "-v", "-c", "1", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "\"len_out\":60,\"fnv1a64\":\"");
    assert_has(r.out, ",\"hex\":\"020000000001020000000002080002");
}

Test(cli_run, dump_maps)
{
    need_object("runner_actions.o");
    char in[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "--dump-maps", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "map counters: array, key 4 bytes, value 8 bytes, max_entries 32\n");
    assert_has(r.out, "  key 00 00 00 00: 01 00 00 00 00 00 00 00\n");
    assert_has(r.out, "  key 02 00 00 00: 02 00 00 00 00 00 00 00\n");
    assert_has(r.out, "  key 10 00 00 00: 01 00 00 00 00 00 00 00\n");
    assert_has(r.out, "  key 05 00 00 00: 00 00 00 00 00 00 00 00\n");
    assert_has(r.out, "map info: array, key 4 bytes, value 24 bytes, max_entries 1\n");
    run_actions(&r, in, "--dump-maps", "--json", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "{\"maps\":[{\"name\":\"counters\",\"fd\":");
    assert_has(r.out, "\"type\":\"array\",\"type_id\":2,\"key_size\":4,\"value_size\":8,\"max_entries\":32,"
                      "\"entries\":[{\"key\":\"00000000\",\"value\":\"0100000000000000\"},"
                      "{\"key\":\"01000000\",\"value\":\"0100000000000000\"},"
                      "{\"key\":\"02000000\",\"value\":\"0200000000000000\"}");
}

Test(cli_run, dump_maps_hash_and_percpu)
{
    need_object("maps_btf.o");
    static const uint8_t sel[] = {1, 1, 1};
    char in[256];
    write_in_pcap(sel, 3, in, sizeof in);
    struct spawn_result r;
    run_cli(&r, "run", OBJ("maps_btf.o"), "--pcap", in, "--dump-maps", NULL);
    assert_exit(r, 0);
    /* count_packets returns 42: an invalid action, three times. */
    assert_has(r.out, "  invalid action 42               3\n");
    assert_has(r.out, "map counts: hash, key 4 bytes, value 8 bytes, max_entries 16\n"
                      "  key 00 00 00 00: 03 00 00 00 00 00 00 00\n");
    assert_has(r.out, "map percpu: percpu_array, key 4 bytes, value 8 bytes, max_entries 2\n"
                      "  key 00 00 00 00\n    cpu 0: 03 00 00 00 00 00 00 00\n");
    assert_has(r.out, "map lru: lru_hash, key 8 bytes, value 12 bytes, max_entries 8\n  (empty)\n");
    run_cli(&r, "run", OBJ("maps_btf.o"), "--pcap", in, "--dump-maps", "--json", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "\"entries\":[{\"key\":\"00000000\",\"values\":[\"0300000000000000\"]},");
    assert_has(r.out, "{\"name\":\"lru\",\"fd\":");
    assert_has(r.out, "\"max_entries\":8,\"entries\":[]}]}\n");
}

Test(cli_run, oversize_and_runt_packets_are_skipped)
{
    need_object("runner_actions.o");
    /* Packet 0: 60 bytes; 1: 4000 bytes; 2: 10 bytes; 3: 60 bytes. */
    static struct buf b;
    b.len = 0;
    b_u32(&b, 0xa1b2c3d4u);
    b_u16(&b, 2);
    b_u16(&b, 4);
    b_u32(&b, 0);
    b_u32(&b, 0);
    b_u32(&b, 65535);
    b_u32(&b, 1);
    static const uint32_t lens[] = {60, 4000, 10, 60};
    static uint8_t pkt[4000];
    for (size_t i = 0; i < 4; i++) {
        make_packet(pkt, lens[i] < 16 ? 16 : lens[i], 2, 0);
        b_u32(&b, TS_SEC);
        b_u32(&b, 0);
        b_u32(&b, lens[i]);
        b_u32(&b, lens[i]);
        b_put(&b, pkt, lens[i]);
    }
    write_raw("sizes.pcap", b.data, b.len);
    char in[256];
    tmp_path("sizes.pcap", in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "-v", NULL);
    assert_exit(r, 0);
    assert_has(r.err, "sizes.pcap: warning: packet 1: 4000 bytes is more than a frame holds (3520): skipped");
    assert_has(r.err, "sizes.pcap: warning: packet 2: 10 bytes is shorter than an Ethernet header (14): skipped");
    assert_has(r.out, "packet 1: 4000 bytes -> skipped (oversize)\n");
    assert_has(r.out, "packet 2: 10 bytes -> skipped (runt)\n");
    assert_has(r.out, "sizes.pcap: 4 packets, 4130 bytes");
    assert_has(r.out, "XDP_PASS                          2            120    50.0%");
    assert_has(r.out, "oversize (skipped)                1           4000    25.0%");
    assert_has(r.out, "runt (skipped)                    1             10    25.0%");
}

Test(cli_run, runtime_fault)
{
    need_object("runner_actions.o");
    static const uint8_t sel[] = {2, 0x13, 2};
    char in[256];
    write_in_pcap(sel, 3, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, NULL);
    assert_exit(r, 4);
    assert_has(r.err, "in.pcap: packet 1: insn ");
    assert_lacks(r.out, "packets/s");
}

Test(cli_run, trace_printk_to_stderr)
{
    need_object("runner_actions.o");
    static const uint8_t sel[] = {2, 0x12};
    char in[256];
    write_in_pcap(sel, 2, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, NULL);
    assert_exit(r, 0);
    assert_has(r.err, "trace: packet 1: hello 8\n");
    assert_lacks(r.out, "hello");
}

/* The value of runner_ctx's `info` map after a run, from --dump-maps. */
static void ctx_info(const char *in, const char *extra1, const char *extra2, char *line, size_t size)
{
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    run_cli(r, "run", OBJ("runner_actions.o"), "--pcap", in, "-s", "xdp/ctx", "--dump-maps", extra1, extra2, NULL);
    assert_exit(*r, 0);
    const char *at = strstr(r->out, "map info:");
    cr_assert_not_null(at, "%s", r->out);
    at = strstr(at, "  key 00 00 00 00: ");
    cr_assert_not_null(at, "%s", r->out);
    at += strlen("  key 00 00 00 00: ");
    const char *nl = strchr(at, '\n');
    snprintf(line, size, "%.*s", (int)(nl - at), at);
    free(r);
}

Test(cli_run, context_time_and_seed)
{
    need_object("runner_actions.o");
    static const uint8_t sel[] = {1, 1};
    char in[256], a[128], b[128], c[128];
    write_in_pcap(sel, 2, in, sizeof in);
    /* Defaults: ktime = the last packet's timestamp, ifindex 1, queue 0. */
    uint64_t ts = (uint64_t)(TS_SEC + 1) * 1000000000ull + TS_USEC * 1000ull;
    char ktime[32];
    snprintf(ktime, sizeof ktime, "%02x %02x %02x %02x %02x %02x %02x %02x", (unsigned)(ts & 0xff),
             (unsigned)(ts >> 8 & 0xff), (unsigned)(ts >> 16 & 0xff), (unsigned)(ts >> 24 & 0xff),
             (unsigned)(ts >> 32 & 0xff), (unsigned)(ts >> 40 & 0xff), (unsigned)(ts >> 48 & 0xff),
             (unsigned)(ts >> 56));
    ctx_info(in, NULL, NULL, a, sizeof a);
    cr_assert_eq(strncmp(a, ktime, strlen(ktime)), 0, "%s vs %s", a, ktime);
    assert_has(a, " 01 00 00 00 00 00 00 00 00 00 00 00");
    /* The same default seed gives the same random number; another differs. */
    ctx_info(in, NULL, NULL, b, sizeof b);
    cr_assert_str_eq(a, b);
    ctx_info(in, "--seed", "12345", c, sizeof c);
    cr_assert_eq(strncmp(a, c, 23), 0);
    cr_assert_neq(strcmp(a, c), 0, "the seed changed nothing: %s", a);
    ctx_info(in, "--seed", "12345", b, sizeof b);
    cr_assert_str_eq(b, c);
    /* --ifindex / --rx-queue. */
    struct spawn_result *r = malloc(sizeof *r);
    run_cli(r, "run", OBJ("runner_actions.o"), "--pcap", in, "-s", "xdp/ctx", "--dump-maps", "--ifindex", "5",
            "--rx-queue", "3", NULL);
    assert_exit(*r, 0);
    assert_has(r->out, " 05 00 00 00 03 00 00 00 00 00 00 00\n");
    free(r);
    /* --real-time: the clock, not the capture. */
    ctx_info(in, "--real-time", NULL, b, sizeof b);
    cr_assert_neq(strncmp(b, ktime, strlen(ktime)), 0);
}

Test(cli_run, fast_and_jit_engines)
{
    need_object("runner_actions.o");
    char in[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "--fast", NULL);
    assert_exit(r, 0);
    assert_has(r.err, "warning: running an unverified program in the fast interpreter, without memory checks");
    assert_has(r.out, "(fast interpreter)");
    assert_has(r.out, "XDP_PASS                          3            180    33.3%");
    run_actions(&r, in, "--interp", NULL);
    assert_exit(r, 0);
    assert_lacks(r.err, "warning");
    assert_has(r.out, "(checked interpreter)");
    /* The checked interpreter's budget. */
    run_actions(&r, in, "--budget", "3", NULL);
    assert_exit(r, 4);
    assert_has(r.err, "in.pcap: packet 0: ");
}

Test(cli_run, jit_engine)
{
    need_object("runner_actions.o");
    char in[256];
    write_in_pcap(main_selectors, sizeof main_selectors, in, sizeof in);
    struct spawn_result r;
    run_actions(&r, in, "--jit", "-v", NULL);
    assert_exit(r, 0);
#if defined(__x86_64__)
    if (strstr(r.err, "note: no native code") == NULL) {
        assert_has(r.err, "warning: running an unverified program as native code, without memory checks");
        assert_has(r.out, "(jit)");
    }
#else
    assert_has(r.err, "note: no native code");
#endif
    /* The same verdicts as the interpreter. */
    assert_has(r.out, "packet 6: 60 bytes -> XDP_PASS, 46 bytes out\n");
    assert_has(r.out, "XDP_PASS                          3            180    33.3%");
    assert_has(r.out, "XDP_TX                            2            120    22.2%");
    assert_has(r.out, "XDP_REDIRECT                      1             60    11.1%");
}

/* IPv4 packets to 10.1.2.3 (tot_len 46) and 192.168.1.1, and to 10.1.2.3
 * with a tot_len of 1400. */
static void write_ipv4_capture(const char *name)
{
    static struct buf b;
    b.len = 0;
    b_u32(&b, 0xa1b2c3d4u);
    b_u16(&b, 2);
    b_u16(&b, 4);
    b_u32(&b, 0);
    b_u32(&b, 0);
    b_u32(&b, 65535);
    b_u32(&b, 1);
    static const uint8_t dsts[3][4] = {{10, 1, 2, 3}, {192, 168, 1, 1}, {10, 1, 2, 3}};
    static const uint16_t tot_lens[3] = {46, 46, 1400};
    for (size_t i = 0; i < 3; i++) {
        uint8_t pkt[60];
        make_packet(pkt, 60, 0x45, 0);
        memset(pkt + 15, 0, 20 - 1);
        pkt[16] = (uint8_t)(tot_lens[i] >> 8);
        pkt[17] = (uint8_t)tot_lens[i];
        pkt[22] = 64;  /* ttl */
        pkt[23] = 17;  /* udp */
        memcpy(pkt + 26, "\x0a\x00\x00\x01", 4);
        memcpy(pkt + 30, dsts[i], 4);
        b_u32(&b, TS_SEC);
        b_u32(&b, 0);
        b_u32(&b, 60);
        b_u32(&b, 60);
        b_put(&b, pkt, 60);
    }
    write_raw(name, b.data, b.len);
}

Test(cli_run, route_for_fib_lookup)
{
    need_object("runner_fib.o");
    write_ipv4_capture("ip.pcap");
    char in[256];
    tmp_path("ip.pcap", in, sizeof in);
    struct spawn_result r;
    run_cli(&r, "run", OBJ("runner_fib.o"), "--pcap", in, "-v", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "XDP_PASS                          3            180   100.0%");
    run_cli(&r, "run", OBJ("runner_fib.o"), "--pcap", in, "--json", "-v", "--route",
            "10.0.0.0/8,dev=3,smac=02:00:00:00:00:aa,dmac=02:00:00:00:00:bb,mtu=1000", "--route",
            "10.1.0.0/16,dev=4,via=10.1.0.1,smac=02:00:00:00:00:cc,dmac=02:00:00:00:00:dd", NULL);
    assert_exit(r, 0);
    /* The longer prefix wins: out of ifindex 4, MACs rewritten. */
    assert_has(r.out, "{\"index\":0,\"ts_ns\":1700000000000000000,\"action\":\"XDP_REDIRECT\",\"retval\":4,"
                      "\"len_in\":60,\"len_out\":60,\"fnv1a64\":\"");
    assert_has(r.out, "\"hex\":\"0200000000dd0200000000cc080045");
    assert_has(r.out, "\"redirect\":{\"ifindex\":4}}\n");
    assert_has(r.out, "{\"index\":1,\"ts_ns\":1700000000000000000,\"action\":\"XDP_PASS\"");
    /* Packet 2 (tot_len 1400) fits the /16 route's default mtu of 1500. */
    assert_has(r.out, "{\"index\":2,\"ts_ns\":1700000000000000000,\"action\":\"XDP_REDIRECT\"");
    run_cli(&r, "run", OBJ("runner_fib.o"), "--pcap", in, "--route", "10.0.0.0/8,dev=3,mtu=1000", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "XDP_DROP                          1             60    33.3%"); /* fragmentation needed */
    assert_has(r.out, "XDP_PASS                          1             60    33.3%");
    assert_has(r.out, "XDP_REDIRECT                      1             60    33.3%");

    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.0,dev=1", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--route '10.0.0.0,dev=1': expected PREFIX/LEN first");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.0/33,dev=1", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "bad prefix length '33'");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.300/8,dev=1", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "'10.0.0.300' is not an IPv4 or IPv6 address");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "fd00::/8", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--route 'fd00::/8': dev=IFINDEX is required");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.0/8,dev=1,smac=02:00", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "bad MAC address '02:00'");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.0/8,dev=1,color=red", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "unknown key 'color' (dev, via, smac, dmac, mtu)");
    run_cli(&r, "run", "x.o", "--pcap", in, "--route", "10.0.0.0/8,dev=1,via=fd00::1", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "bad gateway 'fd00::1'");
}

/* ---------------------------------------------------------------- dump */

Test(cli_run, dump_objects)
{
    need_object("runner_actions.o");
    need_object("bpf2bpf.o");
    struct spawn_result r;
    run_cli(&r, "dump", OBJ("xdp_drop.o"), NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out,
                     "section xdp, program xdp_drop_prog: 2 instructions\n<xdp_drop_prog>:\n   0: w0 = 1\n   1: exit\n");
    run_cli(&r, "dump", OBJ("runner_actions.o"), "-n", "runner_actions", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "section xdp, program runner_actions: ");
    assert_has(r.out, ": r1 = map[counters] ll\n");
    assert_has(r.out, ": call map_lookup_elem\n");
    assert_has(r.out, ": call redirect\n");
    assert_has(r.out, ": r1 = map[.rodata][0]+0 ll\n");
    assert_lacks(r.out, "runner_pass");
    run_cli(&r, "dump", OBJ("runner_actions.o"), "-s", "xdp/pass", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out,
                     "section xdp/pass, program runner_pass: 2 instructions\n<runner_pass>:\n   0: w0 = 2\n   1: exit\n");
    run_cli(&r, "dump", OBJ("runner_actions.o"), NULL);
    assert_exit(r, 0);
    assert_has(r.out, "program runner_actions:");
    assert_has(r.out, "\n\nsection xdp/pass, program runner_pass: 2 instructions\n");
    assert_has(r.out, "section tc, program runner_tc: 2 instructions\n");
    run_cli(&r, "dump", OBJ("bpf2bpf.o"), "-n", "calls_one", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "section xdp, program calls_one: 6 instructions\n<calls_one>:\n   0: ");
    assert_has(r.out, "   1: call pc+1 -> 3 <square>\n");
    assert_has(r.out, "   2: ");
    assert_has(r.out, "\n<square>:\n   3: ");
    run_cli(&r, "dump", OBJ("bpf2bpf.o"), "-n", "calls", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "   2: call pc+1 -> 4 <add_squares>\n");
    assert_has(r.out, "\n<add_squares>:\n   4: ");
    assert_has(r.out, "   5: call pc+5 -> 11 <square>\n");
    assert_has(r.out, "   8: call pc+2 -> 11 <square>\n");
    assert_has(r.out, "\n<square>:\n  11: ");
}

Test(cli_run, dump_jited)
{
    need_object("xdp_drop.o");
    struct spawn_result r;
    run_cli(&r, "dump", OBJ("xdp_drop.o"), "--jited", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "section xdp, program xdp_drop_prog: 2 instructions\n");
#if defined(__x86_64__)
    assert_has(r.out, "native code: ");
    assert_has(r.out, " bytes (x86-64)\n");
    assert_has(r.out, "  (entry and prologue)\n    0000: ");
    /* Each BPF instruction before its native bytes. */
    assert_has(r.out, "\n     0: w0 = 1\n    00");
    assert_has(r.out, "\n     1: exit\n    00");
#else
    assert_has(r.out, "native code: none");
#endif
}

/* ------------------------------------------------- --compare-kernel */

#define EXAMPLES_DIR EBPFVM_BINARY_DIR "/examples"

/* Skip unless bpf() works (root) and the object was built; a run refused
 * for lack of bpf() skips too (a container without CAP_BPF). */
static void need_kernel(const char *object)
{
    if (access(object, R_OK) != 0)
        cr_skip_test("%s was not built (no clang)", object);
    if (geteuid() != 0)
        cr_skip_test("--compare-kernel needs root (bpf())");
}

static void skip_without_bpf(const struct spawn_result *r)
{
    if (r->status == 2 && strstr(r->err, "the kernel cannot run XDP programs here"))
        cr_skip_test("bpf() is unavailable: %s", r->err);
}

/* Real objects on the generated capture: every packet and map agrees, in
 * each engine. */
Test(cli_run, compare_kernel_agrees)
{
    need_kernel(EXAMPLES_DIR "/xdp/xdp_counters.o");
    need_kernel(EXAMPLES_DIR "/pcap/mixed.pcap");
    static const char *const engines[] = {"--interp", "--fast", "--jit"};
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    for (size_t e = 0; e < 3; e++) {
        run_cli(r, "run", EXAMPLES_DIR "/xdp/xdp_counters.o", "--pcap", EXAMPLES_DIR "/pcap/mixed.pcap",
                "--compare-kernel", engines[e], NULL);
        skip_without_bpf(r);
        assert_exit(*r, 0);
        const char *at = strstr(r->out, "kernel: ");
        unsigned agree = 0, total = 0, magree = 0, maps = 0;
        cr_assert(at && sscanf(at, "kernel: %u/%u packets agree (verdict and bytes), maps: %u/%u agree", &agree,
                               &total, &magree, &maps) == 4,
                  "%s", r->out);
        cr_assert_gt(total, 100u, "%s", r->out);
        cr_assert_eq(agree, total, "%s", r->out);
        cr_assert_eq(maps, 2u, "%s", r->out); /* the counters and .bss */
        cr_assert_eq(magree, maps, "%s", r->out);
    }
    need_object("run_compare.o");
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", EXAMPLES_DIR "/pcap/mixed.pcap", "--compare-kernel", NULL);
    assert_exit(*r, 0);
    assert_has(r->out, "packets agree (verdict and bytes), maps: 3/3 agree\n");
    assert_lacks(r->out, "kernel: packet");
    assert_lacks(r->out, "kernel: map");
    free(r);
}

/* --ifindex 7: the kernel runs with ifindex 1, so run_compare writes
 * another first byte and counts under another key: every packet and the
 * by_ifindex map differ; the verdicts, `total` and `percpu_total` agree. */
Test(cli_run, compare_kernel_reports_differences)
{
    need_object("run_compare.o");
    need_kernel(OBJ("run_compare.o"));
    uint8_t sel[25];
    memset(sel, 1, sizeof sel);
    write_capture("many.pcap", sel, sizeof sel, 1);
    char in[256], many[256];
    write_in_pcap(sel, 3, in, sizeof in);
    tmp_path("many.pcap", many, sizeof many);
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", in, "--compare-kernel", "--ifindex", "7", NULL);
    skip_without_bpf(r);
    assert_exit(*r, 6);
    assert_has(r->err, "run_compare.o: note: the kernel runs every packet with ingress_ifindex 1 and "
                       "rx_queue_index 0, not --ifindex 7 --rx-queue 0\n");
    for (int i = 0; i < 3; i++) {
        char line[200];
        snprintf(line, sizeof line,
                 "kernel: packet %d: XDP_PASS: output differs at byte 0 of data_meta..data_end (kernel 60 bytes, "
                 "ebpfvm 60; byte: kernel 01, ebpfvm 07)\n",
                 i);
        assert_has(r->out, line);
    }
    assert_has(r->out, "kernel: map by_ifindex: key 01000000: only in the kernel (value 0300000000000000)\n"
                       "kernel: map by_ifindex: key 07000000: only in ebpfvm (value 0300000000000000)\n"
                       "kernel: 0/3 packets agree (verdict and bytes), maps: 2/3 agree\n");
    /* The same run without --ifindex agrees. */
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", in, "--compare-kernel", NULL);
    assert_exit(*r, 0);
    assert_has(r->out, "kernel: 3/3 packets agree (verdict and bytes), maps: 3/3 agree\n");
    assert_lacks(r->err, "note:");
    /* Without -v the first 20 differing packets are shown, then a count. */
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", many, "--compare-kernel", "--ifindex", "7", NULL);
    assert_exit(*r, 6);
    assert_has(r->out, "kernel: packet 19: ");
    assert_lacks(r->out, "kernel: packet 20: ");
    assert_has(r->out, "kernel: 5 more packets differ (-v shows every one)\n");
    assert_has(r->out, "kernel: 0/25 packets agree (verdict and bytes), maps: 2/3 agree\n");
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", many, "--compare-kernel", "--ifindex", "7", "-v", NULL);
    assert_exit(*r, 6);
    assert_has(r->out, "packet 24: 60 bytes -> XDP_PASS, 60 bytes out\nkernel: packet 24: XDP_PASS: output differs");
    assert_lacks(r->out, "more packets differ");
    free(r);
}

/* A verdict difference: xdp_fields returns len + 1000 * ingress_ifindex. */
Test(cli_run, compare_kernel_verdict_difference)
{
    need_object("xdp_ctx.o");
    need_kernel(OBJ("xdp_ctx.o"));
    static const uint8_t sel[] = {1};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    run_cli(r, "run", OBJ("xdp_ctx.o"), "-n", "xdp_fields", "--pcap", in, "--compare-kernel", "--ifindex", "7",
            NULL);
    skip_without_bpf(r);
    assert_exit(*r, 6);
    assert_has(r->out, "kernel: packet 0: verdict: kernel 1060 (no XDP action), ebpfvm 7060 (no XDP action)\n");
    assert_has(r->out, "kernel: 0/1 packets agree (verdict and bytes), maps: 0/0 agree\n");
    run_cli(r, "run", OBJ("xdp_ctx.o"), "-n", "xdp_fields", "--pcap", in, "--compare-kernel", NULL);
    assert_exit(*r, 0);
    assert_has(r->out, "kernel: 1/1 packets agree (verdict and bytes), maps: 0/0 agree\n");
    free(r);
}

Test(cli_run, compare_kernel_json)
{
    need_object("run_compare.o");
    need_kernel(OBJ("run_compare.o"));
    static const uint8_t sel[] = {1, 1};
    char in[256];
    write_in_pcap(sel, 2, in, sizeof in);
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", in, "--compare-kernel", "--json", NULL);
    skip_without_bpf(r);
    assert_exit(*r, 0);
    /* Both sides wrote byte 0 = 1 (the capture has 02): the same digest. */
    uint8_t pkt[60];
    make_packet(pkt, sizeof pkt, 1, 7);
    pkt[0] = 1;
    char fields[300];
    snprintf(fields, sizeof fields,
             "\"len_out\":60,\"fnv1a64\":\"%016" PRIx64 "\",\"kernel\":{\"retval\":2,\"len_out\":60,\"fnv1a64\":\"%016" PRIx64
             "\",\"agree\":true}}\n",
             fnv1a64(pkt, 60), fnv1a64(pkt, 60));
    assert_has(r->out, fields);
    assert_has(r->out, "{\"kernel\":{\"program\":\"run_compare\",\"packets\":2,\"agree\":2,\"maps\":3,\"maps_agree\":3,"
                       "\"map_differences\":[]}}\n");
    run_cli(r, "run", OBJ("run_compare.o"), "--pcap", in, "--compare-kernel", "--json", "--ifindex", "7", NULL);
    assert_exit(*r, 6);
    assert_has(r->out, "\"agree\":false,\"differs\":\"bytes\",\"offset\":0,\"ebpfvm_len\":60}}\n");
    assert_has(r->out, "{\"kernel\":{\"program\":\"run_compare\",\"packets\":2,\"agree\":0,\"maps\":3,\"maps_agree\":2,"
                       "\"map_differences\":[\"map by_ifindex: key 01000000: only in the kernel (value "
                       "0200000000000000)\",\"map by_ifindex: key 07000000: only in ebpfvm (value "
                       "0200000000000000)\"]}}\n");
    free(r);
}

Test(cli_run, compare_kernel_errors)
{
    need_object("runner_actions.o");
    need_kernel(OBJ("runner_actions.o"));
    static const uint8_t sel[] = {1};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    /* runner_actions has a program reading past data_end: the kernel
     * verifier refuses the object, with its log. */
    run_actions(r, in, "--compare-kernel", NULL);
    skip_without_bpf(r);
    assert_exit(*r, 3);
    assert_has(r->err, "ebpfvm: --compare-kernel: ");
    assert_has(r->err, "the kernel verifier rejected it (");
    assert_lacks(r->out, "kernel: ");
    /* As nobody, bpf() is not permitted: a usage error saying why. */
    cr_assert_eq(chmod(tmpdir, 0755), 0);
    cr_assert_eq(chmod(in, 0644), 0);
    as_nobody = true;
    run_actions(r, in, "--compare-kernel", NULL);
    as_nobody = false;
    if (r->status == 0 || r->status == 3)
        cr_skip_test("bpf() works for nobody here (unprivileged BPF)");
    assert_exit(*r, 2);
    assert_has(r->err, "ebpfvm: --compare-kernel: the kernel cannot run XDP programs here: bpf() ");
    assert_has(r->err, "not permitted");
    assert_lacks(r->out, "packets");
    free(r);
}

/* `run` verifies first: a program the verifier rejects does not run unless
 * --unverified is given; a verified one runs as native code by default and
 * in the fast interpreter without any "unverified" warning. */
Test(cli_run, verifies_before_running)
{
    need_object("runner_actions.o");
    need_object("xdp_drop.o");
    static const uint8_t sel[] = {1};
    char in[256];
    write_in_pcap(sel, 1, in, sizeof in);
    struct spawn_result r;

    run_cli(&r, "run", OBJ("runner_actions.o"), "--pcap", in, NULL);
    assert_exit(r, 3);
    assert_has(r.err, "xdp/runner_actions: verifier: insn 52: R8 invalid mem access 'pkt_end'");
    assert_has(r.err, "the verifier rejected the program: `ebpfvm verify ");
    assert_has(r.err, "--unverified runs it in the checked interpreter");
    assert_lacks(r.out, "packets");

    run_actions(&r, in, NULL);
    assert_exit(r, 0);
    assert_has(r.out, "(checked interpreter)");

    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", in, "--fast", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "(fast interpreter)");
    assert_lacks(r.err, "unverified");

    run_cli(&r, "run", OBJ("xdp_drop.o"), "--pcap", in, NULL);
    assert_exit(r, 0);
    assert_has(r.out, "(jit)");
    assert_lacks(r.err, "warning");
}
