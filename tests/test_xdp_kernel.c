/*
 * tests/test_xdp_kernel.c - ebpfvm against the Linux kernel on real XDP
 * objects: every example (examples/xdp/) and corpus program (tests/xdp/)
 * runs on every frame of examples/pcap/mixed.pcap in the kernel
 * (BPF_PROG_TEST_RUN through xdp/kernel.c) and in ebpfvm three times - the
 * checked interpreter, the fast interpreter and the JIT, each in its own vm
 * so the maps of each mode see the capture once. For every frame the
 * verdict and the output bytes (the kernel's data_meta..data_end against
 * ebpfvm's) must be identical; at the end every map with readable values
 * must hold the same entries (per-CPU maps: CPU 0, where both sides run),
 * and ring buffers the same records in the same order. One line per object
 * reports the agreement counts. Fast and JIT runs use programs verified by
 * ebpfvm's verifier where it accepts them; ebpfvm_verifier_accepts_the_corpus
 * checks that it accepts what the kernel accepts, except the listed known
 * rejections.
 *
 * Set-up the objects need on both sides (devmap entries naming ifindex 1,
 * prog array slots) is in the case table. Cases ebpfvm cannot run yet are in
 * known_failures[] with the reason; they must still fail (a known failure
 * that starts passing fails the test, so the list stays true).
 *
 * The oracle itself is tested too: a program the kernel rejects comes back
 * with the kernel's log, runs and map reads give what the kernel computed
 * (metadata included in the output), and its error paths say why.
 *
 * Everything skips, saying why, when bpf() is unavailable (not root, EPERM)
 * or the objects/captures were not built (no clang).
 */
#define _GNU_SOURCE /* setresuid */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ebpfvm/ebpfvm.h>

#if !defined(EBPFVM_HAVE_XDP_RUNTIME) || !defined(EBPFVM_HAVE_KERNEL_ORACLE)

Test(xdp_kernel, skipped)
{
    cr_skip_test("built without the XDP runtime library, libbpf or libelf: no kernel oracle");
}

#else

#include <ebpfvm/loader.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "xdp/kernel.h"

/* The capture; EBPFVM_XDP_KERNEL_PCAP=path runs everything on another one
 * (e.g. examples/pcap/bench.pcap, 100,000 frames). */
#define PCAP_PATH EBPFVM_BINARY_DIR "/examples/pcap/mixed.pcap"
#define MAX_REPORTED 8 /* disagreements printed per object and mode */

/* ------------------------------------------------------------ the cases */

struct map_setup {
    const char *map; /* NULL ends the list */
    uint32_t key, value;
};

struct tail_setup {
    const char *map; /* NULL ends the list */
    uint32_t index;
    const char *prog;
};

struct xdp_case {
    const char *dir;     /* under EBPFVM_BINARY_DIR */
    const char *object;  /* file name without .o */
    const char *program; /* the entry function */
    struct map_setup maps[4];
    struct tail_setup tails[4];
};

static const struct xdp_case cases[] = {
    /* examples/xdp */
    {"examples/xdp", "xdp_udp_drop", "xdp_udp_drop", {{0}}, {{0}}},
    {"examples/xdp", "xdp_swap_tx", "xdp_swap_tx", {{0}}, {{0}}},
    {"examples/xdp", "xdp_dnat", "xdp_dnat", {{0}}, {{0}}},
    {"examples/xdp", "xdp_encap", "xdp_encap", {{0}}, {{0}}},
    {"examples/xdp", "xdp_counters", "xdp_counters", {{0}}, {{0}}},
    {"examples/xdp", "xdp_tailcall", "xdp_dispatch", {{0}},
     {{"jmp_table", 0, "xdp_tcp"}, {"jmp_table", 1, "xdp_udp"}, {"jmp_table", 2, "xdp_icmp"}, {0}}},
    {"examples/xdp", "xdp_bpf2bpf", "xdp_parser", {{0}}, {{0}}},
    /* tests/xdp */
    {"tests/xdp", "eth_vlan_qinq", "eth_vlan_qinq", {{0}}, {{0}}},
    {"tests/xdp", "ipv4_parse", "ipv4_parse", {{0}}, {{0}}},
    {"tests/xdp", "ipv6_exthdr", "ipv6_exthdr", {{0}}, {{0}}},
    {"tests/xdp", "tcp_port_filter", "tcp_port_filter", {{0}}, {{0}}},
    {"tests/xdp", "udp_port_filter", "udp_port_filter", {{0}}, {{0}}},
    {"tests/xdp", "snat_lru", "snat_lru", {{0}}, {{0}}},
    {"tests/xdp", "decap_ipip", "decap_ipip", {{0}}, {{0}}},
    {"tests/xdp", "encap_vxlan", "encap_vxlan", {{0}}, {{0}}},
    {"tests/xdp", "vlan_push_pop", "vlan_push_pop", {{0}}, {{0}}},
    {"tests/xdp", "tail_grow", "tail_grow", {{0}}, {{0}}},
    {"tests/xdp", "tail_shrink", "tail_shrink", {{0}}, {{0}}},
    {"tests/xdp", "meta", "meta", {{0}}, {{0}}},
    {"tests/xdp", "maps_array", "maps_array", {{0}}, {{0}}},
    {"tests/xdp", "maps_hash", "maps_hash", {{0}}, {{0}}},
    {"tests/xdp", "lpm_route", "lpm_route", {{0}}, {{0}}},
    {"tests/xdp", "devmap_redirect", "devmap_redirect",
     {{"tx_ports", 0, 1}, {"tx_ports", 1, 1}, {"tx_ports", 2, 1}, {"tx_ports", 3, 1}}, {{0}}},
    {"tests/xdp", "devmap_hash_redirect", "devmap_hash_redirect",
     {{"by_addr", 1, 1}, {"by_addr", 0x0a000001, 1}, {0}}, {{0}}},
    {"tests/xdp", "xsk_redirect", "xsk_redirect", {{0}}, {{0}}},
    {"tests/xdp", "ringbuf_events", "ringbuf_events", {{0}}, {{0}}},
    {"tests/xdp", "csum_diff", "csum_diff", {{0}}, {{0}}},
    {"tests/xdp", "load_store_bytes", "load_store_bytes", {{0}}, {{0}}},
    {"tests/xdp", "tail_chain", "entry", {{0}}, {{"stages", 0, "stage1"}, {"stages", 1, "stage2"}, {0}}},
    {"tests/xdp", "bpf2bpf_deep", "bpf2bpf_deep", {{0}}, {{0}}},
    {"tests/xdp", "bounded_loops", "bounded_loops", {{0}}, {{0}}},
    {"tests/xdp", "global_data", "global_data", {{0}}, {{0}}},
    {"tests/xdp", "ktime_prandom", "ktime_prandom", {{0}}, {{0}}},
    {"tests/xdp", "tail_values", "parity_dispatch", {{0}}, {{0}}},
    {"tests/xdp", "icmp_echo", "icmp_echo", {{0}}, {{0}}},
    {"tests/xdp", "atomics", "atomics", {{0}}, {{0}}},
    {"tests/xdp", "lru_percpu", "lru_percpu", {{0}}, {{0}}},
    {"tests/xdp", "adjust_limits", "adjust_limits", {{0}}, {{0}}},
    {"tests/xdp", "loop_callback", "loop_callback", {{0}}, {{0}}},
    {"tests/xdp", "iter_sum", "iter_sum", {{0}}, {{0}}},
};

/*
 * KNOWN FAILURES: objects ebpfvm cannot run (yet), with the reason. The
 * test still runs them and requires them to fail; remove an entry when the
 * feature lands.
 */
static const struct known_failure {
    const char *object;
    const char *reason;
} known_failures[] = {
    {NULL, NULL}, /* none today; the sentinel keeps the array non-empty */
};

static const char *known_failure_reason(const char *object)
{
    for (size_t i = 0; i < sizeof known_failures / sizeof known_failures[0]; i++)
        if (known_failures[i].object && !strcmp(known_failures[i].object, object))
            return known_failures[i].reason;
    return NULL;
}

/*
 * KNOWN VERIFIER REJECTIONS: programs the kernel verifier accepts (as root)
 * and ebpfvm's verifier (ebpfvm_prog_verify) does not, with the text its
 * message must contain. These still run in every mode: checked runs are
 * unverified anyway, fast and JIT runs use EBPFVM_RUN_ALLOW_UNVERIFIED_FAST.
 * An unlisted rejection fails ebpfvm_verifier_accepts_the_corpus; a listed
 * one that is now accepted is only reported (the verifier is moving).
 */
static const struct known_rejection {
    const char *object;
    const char *message; /* a substring of ebpfvm's message */
    const char *reason;
} known_verifier_rejections[] = {
    /* None left (issue 4). C has no empty initialiser: a row no object
     * matches. */
    {"(none)", "", ""},
};

static const struct known_rejection *known_rejection_of(const char *object)
{
    for (size_t i = 0; i < sizeof known_verifier_rejections / sizeof known_verifier_rejections[0]; i++)
        if (!strcmp(known_verifier_rejections[i].object, object))
            return &known_verifier_rejections[i];
    return NULL;
}

/* --------------------------------------------------------- the capture */

struct packet {
    uint8_t *data;
    size_t len;
};

static struct packet *packets;
static size_t npackets, packets_cap;

static uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* Read the capture (classic pcap, either byte order); skip when absent. */
static void load_capture(void)
{
    if (npackets)
        return;
    const char *path = getenv("EBPFVM_XDP_KERNEL_PCAP");
    if (!path || !*path)
        path = PCAP_PATH;
    FILE *f = fopen(path, "rb");
    if (!f)
        cr_skip_test("%s was not generated", path);
    uint8_t hdr[24];
    cr_assert_eq(fread(hdr, 1, 24, f), 24u, "%s: short header", path);
    uint32_t magic = rd32(hdr, false);
    bool swap = magic == 0xd4c3b2a1u;
    cr_assert(swap || magic == 0xa1b2c3d4u, "%s: not a classic pcap (magic %08x)", path, magic);
    uint8_t rec[16];
    while (fread(rec, 1, 16, f) == 16) {
        if (npackets == packets_cap) {
            packets_cap = packets_cap ? 2 * packets_cap : 1024;
            packets = realloc(packets, packets_cap * sizeof *packets);
            cr_assert_not_null(packets);
        }
        uint32_t incl = rd32(rec + 8, swap);
        cr_assert_leq(incl, 65535u);
        cr_assert_geq(incl, 14u, "%s: frame %zu is shorter than an Ethernet header", path, npackets);
        packets[npackets].data = malloc(incl ? incl : 1);
        cr_assert_eq(fread(packets[npackets].data, 1, incl, f), incl);
        packets[npackets].len = incl;
        npackets++;
    }
    fclose(f);
    cr_assert_gt(npackets, 300u, "%s: only %zu frames", path, npackets);
}

/* -------------------------------------------------------------- helpers */

static char msgbuf[1 << 16];

/* Skip unless bpf() works; pin to CPU 0 so per-CPU slots compare. */
static void require_kernel(void)
{
    int rc = ebpfvm_kernel_probe(msgbuf, sizeof msgbuf);
    if (rc != 0)
        cr_skip_test("the kernel oracle is unavailable: %s", msgbuf);
    cr_assert_eq(ebpfvm_kernel_pin_cpu0(msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
}

static const char *object_path(const char *dir, const char *object)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.o", EBPFVM_BINARY_DIR, dir, object);
    return path;
}

static void require_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        cr_skip_test("%s was not built (no clang?)", path);
    fclose(f);
}

enum mode { MODE_CHECKED, MODE_FAST, MODE_JIT, NMODES };
static const char *const mode_names[NMODES] = {"checked", "fast", "jit"};

/* One ebpfvm instance of a case: its own vm, so its maps see each frame once. */
struct side {
    enum mode mode;
    ebpfvm_vm *vm;
    ebpfvm_object *obj;
    ebpfvm_prog *prog;
    char error[1024]; /* why the set-up failed, or "" */
    const char *jit_note;
    int verify_rc;           /* fast/JIT sides: the first rejection's status */
    char verify_msg[512];    /* and its message */
};

static int side_fail(struct side *s, const char *what, int rc)
{
    snprintf(s->error, sizeof s->error, "%s: %s (%s)", what, ebpfvm_vm_errmsg(s->vm), ebpfvm_strerror(rc));
    return rc;
}

static int load_program(struct side *s, const char *name, ebpfvm_prog **out)
{
    size_t index;
    int rc = ebpfvm_object_find_program(s->obj, NULL, name, &index);
    if (rc)
        return side_fail(s, "find program", rc);
    rc = ebpfvm_object_load_program(s->obj, index, out);
    if (rc)
        return side_fail(s, "load program", rc);
    /* Fast and JIT sides run verified programs where ebpfvm's verifier
     * accepts them (the production path); checked runs stay unverified. */
    if (s->mode != MODE_CHECKED) {
        rc = ebpfvm_prog_verify(*out, NULL);
        if (rc && !s->verify_rc) {
            s->verify_rc = rc;
            snprintf(s->verify_msg, sizeof s->verify_msg, "program %s: %s", name, ebpfvm_vm_errmsg(s->vm));
        }
    }
    if (s->mode == MODE_JIT) {
        rc = ebpfvm_prog_jit(*out, EBPFVM_JIT_ALLOW_UNVERIFIED);
        if (rc || !ebpfvm_prog_is_jitted(*out))
            s->jit_note = "(some programs fell back to the interpreter)";
    }
    return 0;
}

static int side_open(struct side *s, const struct xdp_case *c, const char *path)
{
    int rc = ebpfvm_vm_create(NULL, &s->vm);
    if (rc)
        return side_fail(s, "vm create", rc);
    rc = ebpfvm_vm_register_std_helpers(s->vm, NULL);
    if (rc)
        return side_fail(s, "register helpers", rc);
    rc = ebpfvm_object_open(s->vm, path, NULL, &s->obj);
    if (rc)
        return side_fail(s, "open", rc);
    rc = load_program(s, c->program, &s->prog);
    if (rc)
        return rc;
    for (const struct map_setup *m = c->maps; m->map; m++) {
        int fd;
        rc = ebpfvm_object_map_fd(s->obj, m->map, &fd);
        if (rc)
            return side_fail(s, "set-up map", rc);
        rc = ebpfvm_map_update(s->vm, fd, &m->key, &m->value, EBPFVM_ANY);
        if (rc)
            return side_fail(s, "set-up map update", rc);
    }
    for (const struct tail_setup *t = c->tails; t->map; t++) {
        ebpfvm_prog *target;
        int fd;
        rc = load_program(s, t->prog, &target);
        if (rc)
            return rc;
        rc = ebpfvm_object_map_fd(s->obj, t->map, &fd);
        if (rc)
            return side_fail(s, "prog array", rc);
        rc = ebpfvm_prog_array_set(s->vm, fd, t->index, target);
        if (rc)
            return side_fail(s, "prog array set", rc);
    }
    return 0;
}

static void side_close(struct side *s)
{
    ebpfvm_object_close(s->obj);
    ebpfvm_vm_destroy(s->vm);
}

/* Run one frame in ebpfvm: 0 and verdict/output, or the status (message in msg). */
static int side_run(struct side *s, const struct packet *p, uint32_t *verdict, uint8_t *out, size_t *out_len,
                    char *msg, size_t msg_size)
{
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    struct ebpfvm_xdp_buff buff;
    int rc = ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, p->data, p->len);
    if (rc) {
        snprintf(msg, msg_size, "ebpfvm_xdp_buff_init: %s", ebpfvm_strerror(rc));
        return rc;
    }
    struct ebpfvm_run_opts opts = {.sz = sizeof opts};
    opts.mode = s->mode == MODE_CHECKED ? EBPFVM_EXEC_CHECKED : s->mode == MODE_FAST ? EBPFVM_EXEC_FAST : EBPFVM_EXEC_JIT;
    opts.flags = s->mode == MODE_CHECKED ? 0 : EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    opts.cpu = 0;
    opts.prandom_seed = 12345;
    struct ebpfvm_run_result result;
    rc = ebpfvm_prog_run(s->prog, &buff, sizeof buff, &opts, &result);
    if (rc) {
        snprintf(msg, msg_size, "run failed: %s: %s", ebpfvm_strerror(rc), result.message);
        return rc;
    }
    *verdict = (uint32_t)result.r0;
    size_t len = (size_t)(buff.data_end - buff.data_meta);
    if (buff.data_end < buff.data_meta || len > EBPFVM_KERNEL_OUT_MAX) {
        snprintf(msg, msg_size, "bad frame after the run: data_meta %#llx data_end %#llx",
                 (unsigned long long)buff.data_meta, (unsigned long long)buff.data_end);
        return EBPFVM_ERR_RANGE;
    }
    memcpy(out, (const void *)(uintptr_t)buff.data_meta, len);
    *out_len = len;
    return 0;
}

/* ---------------------------------------------------- map comparison */

struct map_cmp {
    struct side *side;
    int fd;
    struct ebpfvm_kernel_map_info info;
    size_t kernel_entries;
    char *error;
    size_t error_size;
};

static void hex(char *buf, size_t size, const uint8_t *p, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 3 < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%02x", p[i]);
    if (o + 3 >= size && size > 4)
        strcpy(buf + size - 4, "..");
}

static int compare_entry(void *ud, const void *key, const void *kvalue)
{
    struct map_cmp *c = ud;
    c->kernel_entries++;
    /* Both sides' values start with CPU 0's copy (or the only one). */
    uint8_t *mine = calloc(1, (size_t)c->info.value_stride * EBPFVM_MAX_CPUS + 8);
    int rc = ebpfvm_map_lookup(c->side->vm, c->fd, key, mine);
    char kbuf[80], vk[200], vm[200];
    hex(kbuf, sizeof kbuf, key, c->info.key_size);
    if (rc) {
        snprintf(c->error, c->error_size, "map %s: key %s: in the kernel, not in ebpfvm (%s)", c->info.name, kbuf,
                 ebpfvm_strerror(rc));
        free(mine);
        return 1;
    }
    if (memcmp(mine, kvalue, c->info.value_size) != 0) {
        hex(vk, sizeof vk, kvalue, c->info.value_size);
        hex(vm, sizeof vm, mine, c->info.value_size);
        snprintf(c->error, c->error_size, "map %s: key %s: kernel %s, ebpfvm %s", c->info.name, kbuf, vk, vm);
        free(mine);
        return 1;
    }
    free(mine);
    return 0;
}

/* Entries ebpfvm holds (keys whose lookup succeeds). */
static size_t ebpfvm_entries(ebpfvm_vm *vm, int fd, uint32_t key_size)
{
    uint8_t key[256], next[256], value[1 << 14];
    size_t n = 0;
    const void *prev = NULL;
    if (key_size > sizeof key)
        return 0;
    while (ebpfvm_map_get_next_key(vm, fd, prev, next) == 0) {
        memcpy(key, next, key_size);
        prev = key;
        if (ebpfvm_map_lookup(vm, fd, key, value) == 0)
            n++;
        if (n > 1000000)
            break;
    }
    return n;
}

struct records {
    uint8_t *data[4096];
    size_t size[4096];
    size_t n;
};

static int keep_record(void *ud, const void *data, size_t size)
{
    struct records *r = ud;
    if (r->n >= 4096)
        return 1;
    r->data[r->n] = malloc(size ? size : 1);
    memcpy(r->data[r->n], data, size);
    r->size[r->n++] = size;
    return 0;
}

static void free_records(struct records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->data[i]);
    r->n = 0;
}

/* The kernel's ring buffer records, read once per object (reading drains
 * the ring) and compared with each side's. */
#define MAX_RINGS 8
static struct records kernel_rings[MAX_RINGS];
static bool kernel_ring_read[MAX_RINGS];

static void forget_kernel_rings(void)
{
    for (size_t i = 0; i < MAX_RINGS; i++) {
        free_records(&kernel_rings[i]);
        kernel_ring_read[i] = false;
    }
}

/* Compare every map of the kernel object with the side's map of that name.
 * Returns the number of maps compared; *agree the number that matched;
 * the first difference goes into error. */
static size_t compare_maps(ebpfvm_kernel_obj *kobj, struct side *s, size_t *agree, char *error, size_t error_size)
{
    size_t compared = 0;
    *agree = 0;
    for (size_t i = 0; i < ebpfvm_kernel_map_count(kobj); i++) {
        struct map_cmp c = {.side = s, .error = error, .error_size = error_size};
        cr_assert_eq(ebpfvm_kernel_map_info(kobj, i, &c.info), 0);
        if (c.info.type == EBPFVM_MAP_PROG_ARRAY || c.info.type == EBPFVM_MAP_XSKMAP)
            continue; /* the syscall returns no comparable values */
        compared++;
        if (ebpfvm_object_map_fd(s->obj, c.info.name, &c.fd) != 0) {
            if (!error[0])
                snprintf(error, error_size, "map %s: the kernel has it, ebpfvm's object does not", c.info.name);
            continue;
        }
        char local[512] = "";
        c.error = error[0] ? local : error;
        c.error_size = error[0] ? sizeof local : error_size;
        if (c.info.type == EBPFVM_MAP_RINGBUF) {
            static struct records er;
            size_t kn = 0, en = 0;
            cr_assert_lt(i, (size_t)MAX_RINGS);
            struct records *krp = &kernel_rings[i];
            if (!kernel_ring_read[i]) {
                cr_assert_eq(ebpfvm_kernel_ringbuf_consume(kobj, i, keep_record, krp, &kn), 0, "%s",
                             ebpfvm_kernel_errmsg(kobj));
                kernel_ring_read[i] = true;
            }
            int rc = ebpfvm_ringbuf_consume(s->vm, c.fd, keep_record, &er, &en);
            bool same = rc == 0 && krp->n == er.n;
            for (size_t r = 0; same && r < krp->n; r++)
                same = krp->size[r] == er.size[r] && !memcmp(krp->data[r], er.data[r], krp->size[r]);
            if (same)
                (*agree)++;
            else if (!c.error[0])
                snprintf(c.error, c.error_size, "ringbuf %s: kernel %zu records, ebpfvm %zu (rc %d)%s", c.info.name,
                         krp->n, er.n, rc, krp->n == er.n ? ", contents differ" : "");
            free_records(&er);
            continue;
        }
        int rc = ebpfvm_kernel_map_foreach(kobj, i, compare_entry, &c);
        if (rc == 0) {
            size_t mine = ebpfvm_entries(s->vm, c.fd, c.info.key_size);
            if (mine == c.kernel_entries)
                (*agree)++;
            else if (!c.error[0])
                snprintf(c.error, c.error_size, "map %s: kernel %zu entries, ebpfvm %zu", c.info.name,
                         c.kernel_entries, mine);
        } else if (rc < 0) {
            cr_assert_fail("map %s: %s", c.info.name, ebpfvm_kernel_errmsg(kobj));
        }
    }
    return compared;
}

/* ------------------------------------------------------ the comparison */

struct mode_stats {
    size_t agree, runs;
    size_t maps_agree, maps;
    char first[MAX_REPORTED][512];
    size_t nreported;
    char map_error[1024];
};

static void report(struct mode_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct mode_stats *st, const char *fmt, ...)
{
    if (st->nreported >= MAX_REPORTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->first[st->nreported++], sizeof st->first[0], fmt, ap);
    va_end(ap);
}

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Run the case; returns true when every mode agreed on everything (and
 * ebpfvm could load it). ebpfvm_setup_only (the comparison's self-test)
 * fills the case's maps in ebpfvm only. */
static bool run_case(const struct xdp_case *c, bool ebpfvm_setup_only, char *summary, size_t summary_size)
{
    const char *path = object_path(c->dir, c->object);
    require_file(path);
    load_capture();

    ebpfvm_kernel_obj *kobj = NULL;
    int rc = ebpfvm_kernel_open(path, NULL, c->program, &kobj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, 0, "the kernel does not load %s: %s", path, msgbuf);
    for (const struct map_setup *m = c->maps; m->map && !ebpfvm_setup_only; m++)
        cr_assert_eq(ebpfvm_kernel_map_update(kobj, m->map, &m->key, &m->value, 0), 0, "%s",
                     ebpfvm_kernel_errmsg(kobj));
    for (const struct tail_setup *t = c->tails; t->map; t++)
        cr_assert_eq(ebpfvm_kernel_prog_array_set(kobj, t->map, t->index, t->prog), 0, "%s",
                     ebpfvm_kernel_errmsg(kobj));

    struct side sides[NMODES];
    static struct mode_stats stats[NMODES];
    bool ok = true;
    memset(sides, 0, sizeof sides);
    memset(stats, 0, sizeof stats);
    for (int m = 0; m < NMODES; m++) {
        sides[m].mode = (enum mode)m;
        if (side_open(&sides[m], c, path) != 0)
            ok = false;
    }

    static uint8_t kout[EBPFVM_KERNEL_OUT_MAX], eout[EBPFVM_KERNEL_OUT_MAX];
    size_t verdicts[6] = {0}; /* the kernel's: ABORTED DROP PASS TX REDIRECT other */
    for (size_t i = 0; i < npackets; i++) {
        struct ebpfvm_kernel_run_result kr;
        rc = ebpfvm_kernel_run(kobj, packets[i].data, packets[i].len, kout, sizeof kout, &kr);
        cr_assert_eq(rc, 0, "%s: packet %zu: %s", c->object, i, ebpfvm_kernel_errmsg(kobj));
        verdicts[kr.retval < 5 ? kr.retval : 5]++;
        for (int m = 0; m < NMODES; m++) {
            if (sides[m].error[0])
                continue;
            struct mode_stats *st = &stats[m];
            uint32_t verdict = 0;
            size_t len = 0;
            char msg[300];
            st->runs++;
            rc = side_run(&sides[m], &packets[i], &verdict, eout, &len, msg, sizeof msg);
            if (rc) {
                report(st, "packet %zu (%zu bytes): kernel verdict %u, ebpfvm %s", i, packets[i].len, kr.retval, msg);
                continue;
            }
            if (verdict != kr.retval) {
                report(st, "packet %zu (%zu bytes): verdict: kernel %u, ebpfvm %u", i, packets[i].len, kr.retval,
                       verdict);
                continue;
            }
            if (len != kr.out_len || memcmp(eout, kout, len) != 0) {
                size_t at = first_difference(kout, eout, len < kr.out_len ? len : kr.out_len);
                report(st, "packet %zu (%zu bytes, verdict %u): output: kernel %zu bytes, ebpfvm %zu; first "
                           "difference at byte %zu (kernel %02x, ebpfvm %02x)",
                       i, packets[i].len, kr.retval, kr.out_len, len, at, at < kr.out_len ? kout[at] : 0,
                       at < len ? eout[at] : 0);
                continue;
            }
            st->agree++;
        }
    }

    /* Maps: compare each side with the kernel. */
    size_t off = 0;
    off += (size_t)snprintf(summary + off, summary_size - off,
                            "%s: %zu packets (kernel: %zu aborted, %zu drop, %zu pass, %zu tx, %zu redirect):",
                            c->object, npackets, verdicts[0], verdicts[1], verdicts[2], verdicts[3], verdicts[4]);
    for (int m = 0; m < NMODES; m++) {
        struct mode_stats *st = &stats[m];
        if (sides[m].error[0]) {
            off += (size_t)snprintf(summary + off, summary_size - off, " %s: not loaded (%s);", mode_names[m],
                                    sides[m].error);
            ok = false;
            continue;
        }
        st->maps = compare_maps(kobj, &sides[m], &st->maps_agree, st->map_error, sizeof st->map_error);
        off += (size_t)snprintf(summary + off, summary_size - off, " %s %zu/%zu agree, maps %zu/%zu%s;",
                                mode_names[m], st->agree, st->runs, st->maps_agree, st->maps,
                                sides[m].jit_note ? sides[m].jit_note : "");
        if (st->agree != st->runs || st->maps_agree != st->maps)
            ok = false;
        if (off >= summary_size)
            off = summary_size - 1;
    }
    if (!sides[MODE_FAST].error[0]) {
        if (sides[MODE_FAST].verify_rc)
            off += (size_t)snprintf(summary + off, summary_size - off, " ebpfvm verifier: %s: %s",
                                    ebpfvm_strerror(sides[MODE_FAST].verify_rc), sides[MODE_FAST].verify_msg);
        else
            off += (size_t)snprintf(summary + off, summary_size - off, " ebpfvm verifier: accepted");
    }
    printf("xdp_kernel: %s\n", summary);
    for (int m = 0; m < NMODES; m++) {
        for (size_t r = 0; r < stats[m].nreported; r++)
            printf("  %s %s: %s\n", c->object, mode_names[m], stats[m].first[r]);
        if (stats[m].map_error[0])
            printf("  %s %s: %s\n", c->object, mode_names[m], stats[m].map_error);
    }
    fflush(stdout);
    for (int m = 0; m < NMODES; m++)
        side_close(&sides[m]);
    forget_kernel_rings();
    ebpfvm_kernel_close(kobj);
    return ok;
}

static void check_case(const char *object)
{
    require_kernel();
    const struct xdp_case *c = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(cases[i].object, object))
            c = &cases[i];
    cr_assert(c, "no case %s", object);
    static char summary[4096];
    bool ok = run_case(c, false, summary, sizeof summary);
    const char *known = known_failure_reason(object);
    if (known) {
        cr_assert(!ok, "%s is listed as a known failure (%s) but now agrees: remove it from known_failures[]",
                  object, known);
        printf("xdp_kernel: %s: KNOWN FAILURE: %s\n", object, known);
        return;
    }
    cr_assert(ok, "ebpfvm and the kernel disagree: %s (details above)", summary);
}

#define XDP_CASE(name)                                                                                          \
    Test(xdp_kernel, name, .timeout = 300)                                                                      \
    {                                                                                                           \
        check_case(#name);                                                                                      \
    }

XDP_CASE(xdp_udp_drop)
XDP_CASE(xdp_swap_tx)
XDP_CASE(xdp_dnat)
XDP_CASE(xdp_encap)
XDP_CASE(xdp_counters)
XDP_CASE(xdp_tailcall)
XDP_CASE(xdp_bpf2bpf)
XDP_CASE(eth_vlan_qinq)
XDP_CASE(ipv4_parse)
XDP_CASE(ipv6_exthdr)
XDP_CASE(tcp_port_filter)
XDP_CASE(udp_port_filter)
XDP_CASE(snat_lru)
XDP_CASE(decap_ipip)
XDP_CASE(encap_vxlan)
XDP_CASE(vlan_push_pop)
XDP_CASE(tail_grow)
XDP_CASE(tail_shrink)
XDP_CASE(meta)
XDP_CASE(maps_array)
XDP_CASE(maps_hash)
XDP_CASE(lpm_route)
XDP_CASE(devmap_redirect)
XDP_CASE(devmap_hash_redirect)
XDP_CASE(xsk_redirect)
XDP_CASE(ringbuf_events)
XDP_CASE(csum_diff)
XDP_CASE(load_store_bytes)
XDP_CASE(tail_chain)
XDP_CASE(bpf2bpf_deep)
XDP_CASE(bounded_loops)
XDP_CASE(global_data)
XDP_CASE(ktime_prandom)
XDP_CASE(tail_values)
XDP_CASE(icmp_echo)
XDP_CASE(atomics)
XDP_CASE(lru_percpu)
XDP_CASE(adjust_limits)
XDP_CASE(loop_callback)
XDP_CASE(iter_sum)

/* Every case has a test and the corpus is as large as promised. */
Test(xdp_kernel, case_table_covers_the_corpus)
{
    size_t corpus = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        corpus += !strcmp(cases[i].dir, "tests/xdp");
    cr_assert_geq(corpus, 20u, "the corpus has %zu programs", corpus);
    cr_assert_eq(sizeof cases / sizeof cases[0] - corpus, 7u, "seven examples");
}

/* ------------------------------------------------------ the capture */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static bool sum_ok(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* mixed.pcap holds what examples/pcap/gen_pcaps.c promises, with correct
 * checksums wherever the headers are complete. */
Test(xdp_capture, mixed_pcap_has_every_category_with_correct_checksums)
{
    const char *other = getenv("EBPFVM_XDP_KERNEL_PCAP");
    if (other && *other)
        cr_skip_test("EBPFVM_XDP_KERNEL_PCAP is set: this test is about mixed.pcap");
    load_capture();
    size_t vlan = 0, qinq = 0, v4 = 0, v6 = 0, arp = 0, frags = 0, options = 0, tiny = 0, full = 0;
    size_t drop_port = 0, vip = 0, checked = 0, ipip = 0, icmp6 = 0;
    for (size_t i = 0; i < npackets; i++) {
        const uint8_t *p = packets[i].data;
        size_t len = packets[i].len, off = 12;
        cr_assert_geq(len, 14u);
        tiny += len <= 60;
        full += len == 1514;
        uint16_t type = (uint16_t)(p[off] << 8 | p[off + 1]);
        if (type == 0x88a8)
            qinq++;
        else if (type == 0x8100)
            vlan++;
        while ((type == 0x8100 || type == 0x88a8) && off + 6 <= len) {
            off += 4;
            type = (uint16_t)(p[off] << 8 | p[off + 1]);
        }
        off += 2;
        arp += type == 0x0806;
        if (type == 0x86dd && off + 40 <= len) {
            v6++;
            size_t plen = (size_t)(p[off + 4] << 8 | p[off + 5]), l4 = off + 40;
            uint8_t next = p[off + 6];
            if (next == 0 && l4 + 8 <= len) {
                next = p[l4];
                l4 += 8;
            }
            if (off + 40 + plen == len && (next == 6 || next == 17 || next == 58)) {
                size_t l4len = len - l4;
                uint32_t sum = sum16(p + off + 8, 32, 0) + (uint32_t)l4len + next;
                cr_assert(sum_ok(sum16(p + l4, l4len, sum)), "packet %zu: IPv6 L4 checksum", i);
                checked++;
                icmp6 += next == 58;
                if (next == 17 && p[l4 + 2] == 0x27 && p[l4 + 3] == 0x0f)
                    drop_port++;
            }
        }
        if (type != 0x0800 || off + 20 > len)
            continue;
        v4++;
        size_t ihl = (size_t)(p[off] & 15) * 4, tot = (size_t)(p[off + 2] << 8 | p[off + 3]);
        if (ihl < 20 || off + tot > len || tot < ihl)
            continue; /* truncated on purpose */
        options += ihl > 20;
        cr_assert(sum_ok(sum16(p + off, ihl, 0)), "packet %zu: IPv4 header checksum", i);
        uint16_t frag = (uint16_t)(p[off + 6] << 8 | p[off + 7]);
        uint8_t proto = p[off + 9];
        ipip += proto == 4;
        if (frag & 0x3fff) {
            frags++;
            continue;
        }
        const uint8_t *l4 = p + off + ihl;
        size_t l4len = tot - ihl;
        uint32_t pseudo = sum16(p + off + 12, 8, 0) + proto + (uint32_t)l4len;
        if ((proto == 6 && l4len >= 20) || (proto == 17 && l4len >= 8 && (l4[6] | l4[7]))) {
            cr_assert(sum_ok(sum16(l4, l4len, pseudo)), "packet %zu: IPv4 %s checksum", i,
                      proto == 6 ? "TCP" : "UDP");
            checked++;
        } else if (proto == 1) {
            cr_assert(sum_ok(sum16(l4, l4len, 0)), "packet %zu: ICMP checksum", i);
            checked++;
        }
        if (proto == 17 && l4len >= 8 && l4[2] == 0x27 && l4[3] == 0x0f)
            drop_port++;
        if (proto == 6 || proto == 17)
            vip += p[off + 16] == 10 && p[off + 17] == 0 && p[off + 18] == 0 && p[off + 19] == 100;
    }
    cr_assert_gt(vlan, 5u);
    cr_assert_gt(qinq, 5u);
    cr_assert_gt(v4, 100u);
    cr_assert_gt(v6, 30u);
    cr_assert_gt(icmp6, 3u);
    cr_assert_gt(arp, 5u);
    cr_assert_gt(frags, 5u);
    cr_assert_gt(options, 5u);
    cr_assert_gt(ipip, 5u);
    cr_assert_geq(tiny, 47u, "every length 14..60");
    cr_assert_geq(full, 3u);
    cr_assert_gt(drop_port, 10u, "UDP to 9999");
    cr_assert_gt(vip, 5u, "traffic to 10.0.0.100");
    cr_assert_gt(checked, 200u);
}

/* ebpfvm's verifier accepts what the kernel's accepts (every case loads in
 * the kernel), except the known rejections above. */
Test(xdp_kernel, ebpfvm_verifier_accepts_the_corpus)
{
    size_t accepted = 0, known = 0, unexpected = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct xdp_case *c = &cases[i];
        if (known_failure_reason(c->object))
            continue;
        const char *path = object_path(c->dir, c->object);
        require_file(path);
        struct side s = {.mode = MODE_FAST};
        int rc = side_open(&s, c, path);
        cr_assert_eq(rc, 0, "%s: %s", c->object, s.error);
        const struct known_rejection *k = known_rejection_of(c->object);
        if (!s.verify_rc) {
            accepted++;
            if (k)
                printf("xdp_kernel: %s: ebpfvm's verifier now accepts it: remove it from "
                       "known_verifier_rejections[]\n", c->object);
        } else if (k && strstr(s.verify_msg, k->message)) {
            known++;
            printf("xdp_kernel: %s: KNOWN VERIFIER REJECTION: %s (%s)\n", c->object, s.verify_msg, k->reason);
        } else {
            unexpected++;
            printf("xdp_kernel: %s: UNEXPECTED VERIFIER REJECTION: %s: %s\n", c->object,
                   ebpfvm_strerror(s.verify_rc), s.verify_msg);
        }
        side_close(&s);
    }
    printf("xdp_kernel: ebpfvm verifier: %zu accepted, %zu known rejections, %zu unexpected\n", accepted, known,
           unexpected);
    fflush(stdout);
    cr_assert_eq(unexpected, 0u, "ebpfvm's verifier rejects %zu programs the kernel accepts (listed above)",
                 unexpected);
    cr_assert_gt(accepted, 0u);
}

/* The comparison is not vacuous: with the devmap filled in ebpfvm only,
 * IPv4/IPv6/VLAN frames are redirected by ebpfvm and aborted/dropped by the
 * kernel, and both maps (tx_ports, .bss) differ - all reported. */
Test(xdp_kernel, comparison_detects_differences)
{
    require_kernel();
    struct xdp_case c = {"tests/xdp", "devmap_redirect", "devmap_redirect",
                         {{"tx_ports", 0, 1}, {"tx_ports", 1, 1}, {"tx_ports", 3, 1}, {0}}, {{0}}};
    static char summary[4096];
    printf("xdp_kernel: self-test (devmap filled in ebpfvm only): the disagreements below are expected\n");
    cr_assert(!run_case(&c, true, summary, sizeof summary), "a disagreement went unnoticed: %s", summary);
    cr_assert(strstr(summary, "maps 0/2"), "both maps differ: %s", summary);
        cr_assert(strstr(summary, "agree") != NULL);
    size_t agree = 0, runs = 0;
    const char *at = strstr(summary, "checked ");
    cr_assert(at && sscanf(at, "checked %zu/%zu", &agree, &runs) == 2, "%s", summary);
    cr_assert_lt(agree, runs, "IPv4 frames disagree: %s", summary);
    cr_assert_gt(agree, 0u, "ARP and tiny frames agree: %s", summary);
}

/* -------------------------------------------------- the oracle itself */

#define CORPUS(name) object_path("tests/xdp", name)
#define EXAMPLE(name) object_path("examples/xdp", name)

Test(xdp_kernel_oracle, rejection_carries_the_verifier_log)
{
    require_kernel();
    const char *path = object_path("tests/xdp/bad", "ringbuf_after_submit");
    require_file(path);
    ebpfvm_kernel_obj *obj = (ebpfvm_kernel_obj *)1;
    int rc = ebpfvm_kernel_open(path, "xdp", NULL, &obj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, EBPFVM_ERR_VERIFY, "rc %d: %s", rc, msgbuf);
    cr_assert_null(obj);
    cr_assert(strstr(msgbuf, "program ringbuf_after_submit: the kernel verifier rejected it ("), "%s", msgbuf);
    cr_assert(strstr(msgbuf, "invalid mem access 'scalar'"), "the kernel's reason is missing: %s", msgbuf);
    cr_assert(strstr(msgbuf, "bpf_ringbuf_submit"), "the log is missing: %s", msgbuf);

    /* A small buffer keeps the head and the end of the log. */
    char small[200];
    rc = ebpfvm_kernel_open(path, "xdp", NULL, &obj, small, sizeof small);
    cr_assert_eq(rc, EBPFVM_ERR_VERIFY);
    cr_assert(strstr(small, "the kernel verifier rejected it"), "%s", small);
    cr_assert(strstr(small, "\n...\n"), "%s", small);
    cr_assert(strstr(small, "peak_states"), "the log's end is kept: %s", small);
}

/* Without privileges the probe says why (the test drops root in its own
 * process: criterion runs each test in a fork). */
Test(xdp_kernel_oracle, probe_reports_why_bpf_is_unavailable)
{
    if (geteuid() == 0)
        cr_assert_eq(setresuid(65534, 65534, 65534), 0, "cannot drop root");
    int rc = ebpfvm_kernel_probe(msgbuf, sizeof msgbuf);
    if (rc == 0)
        cr_skip_test("bpf() works without privileges here (unprivileged BPF enabled, XDP allowed)");
    cr_assert_eq(rc, EBPFVM_ERR_PERM, "rc %d: %s", rc, msgbuf);
    cr_assert(!strncmp(msgbuf, "bpf() not permitted: Operation not permitted (run as root", 57) ||
                  !strncmp(msgbuf, "bpf() cannot load an XDP program: Operation not permitted", 57),
              "%s", msgbuf);
}

/* A map the kernel refuses: the message carries libbpf's account. */
Test(xdp_kernel_oracle, refused_object_carries_libbpf_messages)
{
    require_kernel();
    const char *path = object_path("tests/xdp/bad", "map_zero_entries");
    require_file(path);
    ebpfvm_kernel_obj *obj;
    int rc = ebpfvm_kernel_open(path, NULL, NULL, &obj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, EBPFVM_ERR_INVAL, "rc %d: %s", rc, msgbuf);
    cr_assert(strstr(msgbuf, "map_zero_entries.o: the kernel refused to load it (Invalid argument):\n"), "%s",
              msgbuf);
    cr_assert(strstr(msgbuf, "map 'empty': failed to create"), "%s", msgbuf);
}

Test(xdp_kernel_oracle, open_errors)
{
    require_kernel();
    ebpfvm_kernel_obj *obj;
    int rc = ebpfvm_kernel_open("/nonexistent/x.o", NULL, NULL, &obj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, EBPFVM_ERR_IO);
    cr_assert(strstr(msgbuf, "/nonexistent/x.o: libbpf cannot open it: No such file or directory"), "%s", msgbuf);
    cr_assert_null(obj);

    const char *path = EXAMPLE("xdp_udp_drop");
    require_file(path);
    rc = ebpfvm_kernel_open(path, "xdp", "nosuch", &obj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, EBPFVM_ERR_NOENT);
    cr_assert(strstr(msgbuf, "xdp_udp_drop.o: no program in section xdp called nosuch"), "%s", msgbuf);
    rc = ebpfvm_kernel_open(path, "tc", NULL, &obj, msgbuf, sizeof msgbuf);
    cr_assert_eq(rc, EBPFVM_ERR_NOENT);
    cr_assert(strstr(msgbuf, "no program in section tc"), "%s", msgbuf);
    cr_assert_eq(ebpfvm_kernel_open(NULL, NULL, NULL, &obj, msgbuf, sizeof msgbuf), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(msgbuf, "ebpfvm_kernel_open: NULL path");
    cr_assert_eq(ebpfvm_kernel_open(path, NULL, NULL, NULL, msgbuf, sizeof msgbuf), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(msgbuf, "ebpfvm_kernel_open: NULL out");
    ebpfvm_kernel_close(NULL);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(NULL), "");
}

/* A UDP/IPv4 frame to port dport with a payload of plen bytes (checksums
 * are not needed by these programs). */
static size_t udp_frame(uint8_t *f, uint16_t dport, size_t plen)
{
    memset(f, 0, 42 + plen);
    f[12] = 0x08;
    f[14] = 0x45;
    size_t iplen = 20 + 8 + plen;
    f[16] = (uint8_t)(iplen >> 8);
    f[17] = (uint8_t)iplen;
    f[22] = 64;
    f[23] = 17;
    f[36] = (uint8_t)(dport >> 8);
    f[37] = (uint8_t)dport;
    for (size_t i = 0; i < plen; i++)
        f[42 + i] = (uint8_t)i;
    return 42 + plen;
}

Test(xdp_kernel_oracle, run_returns_verdict_and_bytes)
{
    require_kernel();
    const char *path = EXAMPLE("xdp_udp_drop");
    require_file(path);
    ebpfvm_kernel_obj *obj;
    cr_assert_eq(ebpfvm_kernel_open(path, "xdp", NULL, &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    cr_assert_str_eq(ebpfvm_kernel_program_name(obj), "xdp_udp_drop");
    cr_assert_geq(ebpfvm_kernel_program_fd(obj), 0);
    uint8_t frame[128], out[EBPFVM_KERNEL_OUT_MAX];
    size_t len = udp_frame(frame, 9999, 20);
    struct ebpfvm_kernel_run_result r;
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(r.retval, 1u, "XDP_DROP for the blocked port");
    cr_assert_eq(r.out_len, len);
    cr_assert_arr_eq(out, frame, len);
    len = udp_frame(frame, 53, 20);
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 2u, "XDP_PASS otherwise");

    /* Errors: too short a frame (the kernel wants an Ethernet header), too
     * small an output buffer. */
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, 10, out, sizeof out, &r), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_kernel_errmsg(obj), "program xdp_udp_drop: BPF_PROG_TEST_RUN on 10 bytes failed: "
                                                "Invalid argument"),
              "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, 16, &r), EBPFVM_ERR_RANGE);
    cr_assert(strstr(ebpfvm_kernel_errmsg(obj), "No space left on device"), "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_run(obj, NULL, len, out, sizeof out, &r), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "ebpfvm_kernel_run: NULL argument");

    /* .rodata is a map called .rodata holding the port. */
    size_t index;
    cr_assert_eq(ebpfvm_kernel_map_find(obj, ".rodata", &index), 0);
    uint32_t zero = 0;
    uint8_t ro[64] = {0};
    cr_assert_eq(ebpfvm_kernel_map_lookup(obj, ".rodata", &zero, ro), 0, "%s", ebpfvm_kernel_errmsg(obj));
    uint16_t port;
    memcpy(&port, ro, 2);
    cr_assert_eq(port, 9999);
    cr_assert_eq(ebpfvm_kernel_map_lookup(obj, "nosuch", &zero, ro), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "no map called nosuch");
    ebpfvm_kernel_close(obj);
}

/* The kernel's output starts at data_meta: metadata is part of it. */
Test(xdp_kernel_oracle, output_includes_metadata)
{
    require_kernel();
    const char *path = CORPUS("meta");
    require_file(path);
    ebpfvm_kernel_obj *obj;
    cr_assert_eq(ebpfvm_kernel_open(path, NULL, "meta", &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    uint8_t frame[128], out[EBPFVM_KERNEL_OUT_MAX];
    size_t len = udp_frame(frame, 53, 30);
    struct ebpfvm_kernel_run_result r;
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(r.retval, 3u, "XDP_TX for UDP");
    cr_assert_eq(r.out_len, len + 8, "8 bytes of metadata before the frame");
    uint32_t magic;
    memcpy(&magic, out, 4);
    cr_assert_eq(magic, 0x4d455441u);
    cr_assert_eq(out[6], 17, "the protocol in the metadata");
    cr_assert_arr_eq(out + 8, frame, len);
    ebpfvm_kernel_close(obj);
}

static int count_entry(void *ud, const void *key, const void *value)
{
    (void)key;
    (void)value;
    ++*(size_t *)ud;
    return 0;
}

static int stop_at_first(void *ud, const void *data, size_t size)
{
    (void)data;
    *(size_t *)ud = size;
    return 1;
}

Test(xdp_kernel_oracle, maps_read_update_and_reset)
{
    require_kernel();
    const char *path = EXAMPLE("xdp_counters");
    require_file(path);
    ebpfvm_kernel_obj *obj;
    cr_assert_eq(ebpfvm_kernel_open(path, "xdp", NULL, &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    uint8_t frame[128], out[EBPFVM_KERNEL_OUT_MAX];
    size_t len = udp_frame(frame, 53, 10);
    struct ebpfvm_kernel_run_result r;
    for (int i = 0; i < 3; i++) {
        frame[29] = (uint8_t)i; /* three sources */
        cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    }
    frame[29] = 0;
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    size_t src, act, n = 0;
    cr_assert_eq(ebpfvm_kernel_map_find(obj, "src_stats", &src), 0);
    cr_assert_eq(ebpfvm_kernel_map_find(obj, "action_stats", &act), 0);
    struct ebpfvm_kernel_map_info info;
    cr_assert_eq(ebpfvm_kernel_map_info(obj, act, &info), 0);
    cr_assert_str_eq(info.name, "action_stats");
    cr_assert_eq(info.type, (uint32_t)EBPFVM_MAP_PERCPU_ARRAY);
    cr_assert_eq(info.value_stride, 8u);
    cr_assert_geq(info.ncpus, 1u);
    cr_assert_eq(ebpfvm_kernel_map_foreach(obj, src, count_entry, &n), 0);
    cr_assert_eq(n, 3u, "one entry per source");
    uint64_t counters[2];
    uint32_t saddr = 0;
    cr_assert_eq(ebpfvm_kernel_map_lookup(obj, "src_stats", &saddr, counters), 0);
    cr_assert_eq(counters[0], 2u, "source 0.0.0.0 sent two packets");
    cr_assert_eq(counters[1], 2 * len);
    uint64_t *percpu = calloc(info.ncpus, 8);
    uint32_t pass = 2;
    cr_assert_eq(ebpfvm_kernel_map_lookup(obj, "action_stats", &pass, percpu), 0);
    cr_assert_eq(percpu[0], 4u, "pinned to CPU 0: every run counted in slot 0");

    cr_assert_eq(ebpfvm_kernel_maps_reset(obj), 0, "%s", ebpfvm_kernel_errmsg(obj));
    n = 0;
    cr_assert_eq(ebpfvm_kernel_map_foreach(obj, src, count_entry, &n), 0);
    cr_assert_eq(n, 0u, "the hash is empty after a reset");
    cr_assert_eq(ebpfvm_kernel_map_lookup(obj, "action_stats", &pass, percpu), 0);
    cr_assert_eq(percpu[0], 0u, "the per-CPU array is zero after a reset");
    free(percpu);
    cr_assert_eq(ebpfvm_kernel_map_foreach(obj, 99, count_entry, &n), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "no map 99 (the object has 2)");
    cr_assert_eq(ebpfvm_kernel_ringbuf_consume(obj, src, stop_at_first, &n, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "map src_stats is not a ringbuf");
    ebpfvm_kernel_close(obj);

    /* prog arrays: not readable, settable by program name. */
    path = EXAMPLE("xdp_tailcall");
    require_file(path);
    cr_assert_eq(ebpfvm_kernel_open(path, NULL, "xdp_dispatch", &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    size_t jt;
    cr_assert_eq(ebpfvm_kernel_map_find(obj, "jmp_table", &jt), 0);
    cr_assert_eq(ebpfvm_kernel_map_foreach(obj, jt, count_entry, &n), EBPFVM_ERR_UNSUPP);
    cr_assert(strstr(ebpfvm_kernel_errmsg(obj), "map jmp_table: the kernel does not return the values"), "%s",
              ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_prog_array_set(obj, ".rodata", 1, "xdp_udp"), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "no map called .rodata");
    cr_assert_eq(ebpfvm_kernel_prog_array_set(obj, "jmp_table", 1, "nosuch"), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_kernel_errmsg(obj), "no program called nosuch");
    len = udp_frame(frame, 100, 10); /* UDP to a port below 1024 */
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 2u, "an empty slot falls through to XDP_PASS");
    cr_assert_eq(ebpfvm_kernel_prog_array_set(obj, "jmp_table", 1, "xdp_udp"), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 1u, "xdp_udp drops it");
    cr_assert_eq(ebpfvm_kernel_prog_array_set(obj, "jmp_table", 1, NULL), 0);
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 2u, "emptied again");
    ebpfvm_kernel_close(obj);
}

Test(xdp_kernel_oracle, ringbuf_records_and_devmap_updates)
{
    require_kernel();
    const char *path = CORPUS("ringbuf_events");
    require_file(path);
    ebpfvm_kernel_obj *obj;
    cr_assert_eq(ebpfvm_kernel_open(path, NULL, NULL, &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    uint8_t frame[128], out[EBPFVM_KERNEL_OUT_MAX];
    size_t len = udp_frame(frame, 53, 30), index, n = 0, count = 0;
    struct ebpfvm_kernel_run_result r;
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(ebpfvm_kernel_map_find(obj, "events", &index), 0);
    cr_assert_eq(ebpfvm_kernel_ringbuf_consume(obj, index, stop_at_first, &n, &count), 0, "%s",
                 ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(count, 1u, "stopped after the first record");
    cr_assert_eq(n, 16u, "struct event is 16 bytes");
    cr_assert_eq(ebpfvm_kernel_ringbuf_consume(obj, index, stop_at_first, &n, &count), 0);
    cr_assert_eq(count, 1u, "the second record is still there");
    cr_assert_eq(ebpfvm_kernel_ringbuf_consume(obj, index, stop_at_first, &n, &count), 0);
    cr_assert_eq(count, 0u, "drained");
    ebpfvm_kernel_close(obj);

    path = CORPUS("devmap_redirect");
    require_file(path);
    cr_assert_eq(ebpfvm_kernel_open(path, NULL, NULL, &obj, msgbuf, sizeof msgbuf), 0, "%s", msgbuf);
    uint32_t key = 0, ifindex = 1, bad = 999999;
    cr_assert_eq(ebpfvm_kernel_map_update(obj, "tx_ports", &key, &bad, 0), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_kernel_errmsg(obj), "map tx_ports: BPF_MAP_UPDATE_ELEM: "), "%s",
              ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_map_update(obj, "tx_ports", &key, &ifindex, 0), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_map_find(obj, "tx_ports", &index), 0);
    n = 0;
    cr_assert_eq(ebpfvm_kernel_map_foreach(obj, index, count_entry, &n), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(n, 1u, "empty devmap slots are skipped");
    len = udp_frame(frame, 53, 10);
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 4u, "XDP_REDIRECT into slot 0");
    cr_assert_eq(ebpfvm_kernel_maps_reset(obj), 0, "%s", ebpfvm_kernel_errmsg(obj));
    cr_assert_eq(ebpfvm_kernel_run(obj, frame, len, out, sizeof out, &r), 0);
    cr_assert_eq(r.retval, 0u, "slot 0 emptied by the reset: the fallback (flags 0 = XDP_ABORTED)");
    ebpfvm_kernel_close(obj);
}

#endif
