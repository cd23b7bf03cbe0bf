/*
 * legacy_verdicts - the kernel's legacy verifier tests
 * (the files tools/testing/selftests/bpf/verifier/NAME.c, fragments of
 * test_verifier.c's `struct bpf_test tests[]`) loaded into the running
 * kernel and into ebpfvm, one line per test:
 *
 *   verifier/<file>/<index>:<descr> TAB - TAB <type> TAB
 *   kernel=accept|reject|skip TAB ebpfvm=accept|reject|outside TAB
 *   expect=success|failure TAB <kernel message> TAB <ebpfvm message> TAB
 *   <ebpfvm ms>
 *
 * the shape of kselftest_verdicts' lines (the second field, an ELF section
 * there, is "-"). Messages are the last meaningful line of the kernel's
 * verifier log and ebpfvm's error message, "-" when accepted; for a test
 * outside the comparison the ebpfvm message says why and the kernel is not
 * asked (skip).
 *
 * The test files are compiled in from the extracted kernel source (the
 * generated legacy_tests.h includes each of them into its own array); the
 * struct below has the member names the files use, written here.
 *
 * Compared: SOCKET_FILTER (prog_type 0 included) and XDP tests, loaded as
 * root (privileged) only: result_unpriv / errstr_unpriv are not compared.
 * Outside: other program types, programs built by a fill_helper, tests that
 * need BTF, kfuncs or kptr maps, and strict alignment (not modelled, as in
 * kselftest_verdicts). Each side gets the maps its fixups
 * ask for, with test_verifier.c's shapes, and a fresh set per test.
 *
 * The ebpfvm side runs in a child process (a crash or hang of the verifier
 * becomes a reject with the signal as its message, not the end of the run).
 *
 * Usage: legacy_verdicts [SUBSTRING]   only tests whose name contains it
 * Exit: 0 done, 77 not root or bpf() unavailable, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/btf.h>
#include <linux/if_ether.h>

#include "ebpfvm/ebpfvm.h"
#include "ebpfvm/verifier.h"
#include "ebpfvm/xdp.h"

/* tools/include/linux/filter.h of the extracted tree: the BPF_* insn macros. */
#include LEGACY_FILTER_H

/* ------------------------------------------------ what the test files use */

#define LEGACY_MAX_INSNS 4096 /* BPF_MAXINSNS */
#define LEGACY_MAX_FIXUPS 8
#define LEGACY_MAX_RUNS 8
#define LEGACY_MAX_FUNC_INFOS 8

/* Names the fragments refer to, with test_verifier.c's values. */
#define MAX_ENTRIES 11
#define TEST_DATA_LEN 64
#define POINTER_VALUE 0xcafe4all
#define INSN_OFF_MASK ((__s16)0xFFFF)
#define INSN_IMM_MASK ((__s32)0xFFFFFFFF)
#define SKIP_INSNS() BPF_RAW_INSN(0xde, 0xa, 0xd, 0xbeef, 0xdeadbeef)
#define F_NEEDS_EFFICIENT_UNALIGNED_ACCESS (1 << 0)
#define F_LOAD_WITH_STRICT_ALIGNMENT (1 << 1)
#define F_NEEDS_JIT_ENABLED (1 << 2)
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* The 48-byte map value most map tests index into. */
struct test_val {
    unsigned int index;
    int foo[MAX_ENTRIES];
};

/* The 16-byte value of fixup_map_hash_16b. */
struct other_val {
    long long foo;
    long long bar;
};

struct kfunc_btf_id_pair {
    const char *kfunc;
    int insn_idx;
};

/* One run's input and expected return (not used here: no test runs). */
#define LEGACY_RUN_DATA                   \
    struct {                              \
        uint32_t retval, retval_unpriv;   \
        union {                           \
            __u8 data[TEST_DATA_LEN];     \
            __u64 data64[TEST_DATA_LEN / 8]; \
        };                                \
    }

struct bpf_test {
    const char *descr;
    struct bpf_insn insns[LEGACY_MAX_INSNS];
    struct bpf_insn expected_insns[32];
    struct bpf_insn unexpected_insns[32];
    int fixup_map_hash_8b[LEGACY_MAX_FIXUPS];
    int fixup_map_hash_48b[LEGACY_MAX_FIXUPS];
    int fixup_map_array_48b[LEGACY_MAX_FIXUPS];
    int fixup_map_array_small[LEGACY_MAX_FIXUPS];
    int fixup_map_event_output[LEGACY_MAX_FIXUPS];
    int fixup_map_ringbuf[LEGACY_MAX_FIXUPS];
    int fixup_map_kptr[LEGACY_MAX_FIXUPS];
    struct kfunc_btf_id_pair fixup_kfunc_btf_id[LEGACY_MAX_FIXUPS];
    const char *errstr;
    const char *errstr_unpriv;
    enum { UNDEF, ACCEPT, REJECT, VERBOSE_ACCEPT } result, result_unpriv;
    enum bpf_prog_type prog_type;
    uint8_t flags;
    void (*fill_helper)(struct bpf_test *self);
    int runs;
    union {
        LEGACY_RUN_DATA;
        LEGACY_RUN_DATA retvals[LEGACY_MAX_RUNS];
    };
    enum bpf_attach_type expected_attach_type;
    const char *kfunc;
    struct bpf_func_info func_info[LEGACY_MAX_FUNC_INFOS];
    int func_info_cnt;
    char btf_strings[256];
    __u32 btf_types[256];
};

/* Programs built by a function at run time: not reproduced here, reported
 * outside. One placeholder stands for every generator the files name. */
static void legacy_generated_program(struct bpf_test *self)
{
    (void)self;
}
#define bpf_fill_big_prog_with_loop_1 legacy_generated_program
#define bpf_fill_torturous_jumps legacy_generated_program
#define bpf_fill_ld_abs_vlan_push_pop legacy_generated_program
#define bpf_fill_jump_around_ld_abs legacy_generated_program
#define bpf_fill_rand_ld_dw legacy_generated_program
#define bpf_fill_scale legacy_generated_program

/* Instruction sequences the fragments splice in (semantics as documented in
 * test_verifier.c; written here). */

/* 13 insns: a zeroed struct bpf_sock_tuple at fp-48, then
 * r0 = func(ctx, &tuple, sizeof(tuple), 0, 0). */
#define BPF_SK_LOOKUP(func)                                         \
    BPF_MOV64_IMM(BPF_REG_2, 0),                                    \
    BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_2, -8),                  \
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -16),                \
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -24),                \
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -32),                \
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -40),                \
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -48),                \
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),                           \
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -48),                         \
    BPF_MOV64_IMM(BPF_REG_3, sizeof(struct bpf_sock_tuple)),        \
    BPF_MOV64_IMM(BPF_REG_4, 0),                                    \
    BPF_MOV64_IMM(BPF_REG_5, 0),                                    \
    BPF_EMIT_CALL(BPF_FUNC_##func)

/* 7 insns: r0 = 0; r2 = skb->data, r3 = skb->data_end; exit unless
 * r2 + 8 <= r3 (8 bytes of packet readable through r2). */
#define BPF_DIRECT_PKT_R2                                                       \
    BPF_MOV64_IMM(BPF_REG_0, 0),                                                \
    BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct __sk_buff, data)), \
    BPF_LDX_MEM(BPF_W, BPF_REG_3, BPF_REG_1, offsetof(struct __sk_buff, data_end)), \
    BPF_MOV64_REG(BPF_REG_4, BPF_REG_2),                                        \
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 8),                                       \
    BPF_JMP_REG(BPF_JLE, BPF_REG_4, BPF_REG_3, 1),                              \
    BPF_EXIT_INSN()

/* 4 insns: r7 = a random u31, zero-extended. */
#define BPF_RAND_UEXT_R7                                            \
    BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32), \
    BPF_MOV64_REG(BPF_REG_7, BPF_REG_0),                            \
    BPF_ALU64_IMM(BPF_LSH, BPF_REG_7, 33),                          \
    BPF_ALU64_IMM(BPF_RSH, BPF_REG_7, 33)

/* 5 insns: r7 = a random negative s32, sign-extended to 64 bits. */
#define BPF_RAND_SEXT_R7                                            \
    BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32), \
    BPF_MOV64_REG(BPF_REG_7, BPF_REG_0),                            \
    BPF_ALU64_IMM(BPF_OR, BPF_REG_7, 0x80000000),                   \
    BPF_ALU64_IMM(BPF_LSH, BPF_REG_7, 32),                          \
    BPF_ALU64_IMM(BPF_ARSH, BPF_REG_7, 32)

#include "test_btf.h"

struct legacy_file {
    const char *name; /* "basic" for verifier/basic.c */
    struct bpf_test *tests;
    size_t count;
};

/* Generated: one array per verifier/<file>.c and legacy_files[]. */
#include "legacy_tests.h"

/* ------------------------------------------------------------- the run */

#define LEGACY_MSG_MAX 512
#define LEGACY_KLOG_SIZE (16u << 20) /* a rotating kernel log must not fill */
#define LEGACY_VLOG_SIZE (1u << 20)
#define LEGACY_CHILD_TIMEOUT_S 120

enum verdict { V_OUTSIDE = 0, V_ACCEPT, V_REJECT };

static const char *verdict_name(enum verdict v)
{
    return v == V_ACCEPT ? "accept" : v == V_REJECT ? "reject" : "outside";
}

/* The maps a test's fixups ask for; fds of one side (kernel or ebpfvm). */
enum legacy_map {
    MAP_HASH_8B,
    MAP_HASH_48B,
    MAP_ARRAY_48B,
    MAP_ARRAY_SMALL,
    MAP_EVENT_OUTPUT,
    MAP_RINGBUF,
    MAP_COUNT
};

static const int *fixups_of(const struct bpf_test *test, enum legacy_map m)
{
    switch (m) {
    case MAP_HASH_8B: return test->fixup_map_hash_8b;
    case MAP_HASH_48B: return test->fixup_map_hash_48b;
    case MAP_ARRAY_48B: return test->fixup_map_array_48b;
    case MAP_ARRAY_SMALL: return test->fixup_map_array_small;
    case MAP_EVENT_OUTPUT: return test->fixup_map_event_output;
    case MAP_RINGBUF: return test->fixup_map_ringbuf;
    case MAP_COUNT: break;
    }
    return NULL;
}

/* test_verifier.c's create_map() shapes: type, key, value, entries, flags,
 * and whether element 0 gets update_map()'s test_val. */
struct map_shape {
    enum bpf_map_type type;
    uint32_t key_size, value_size, max_entries, flags;
    int seed;
};

static const struct map_shape map_shapes[MAP_COUNT] = {
    [MAP_HASH_8B] = {BPF_MAP_TYPE_HASH, 8, 8, 1, BPF_F_NO_PREALLOC, 0},
    [MAP_HASH_48B] = {BPF_MAP_TYPE_HASH, 8, sizeof(struct test_val), 1, BPF_F_NO_PREALLOC, 0},
    [MAP_ARRAY_48B] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct test_val), 1, 0, 1},
    [MAP_ARRAY_SMALL] = {BPF_MAP_TYPE_ARRAY, 4, 1, 1, 0, 1},
    [MAP_EVENT_OUTPUT] = {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, 0, 0},
    [MAP_RINGBUF] = {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0},
};

/* update_map(): element 0 = { .index = 28, .foo[6] = 0xabcdef12 }. */
static struct test_val seed_value(void)
{
    struct test_val v;

    memset(&v, 0, sizeof v);
    v.index = (6 + 1) * sizeof(int);
    v.foo[6] = (int)0xabcdef12u;
    return v;
}

/* probe_filter_length(): the program ends at its last non-zero insn. */
static size_t program_length(const struct bpf_test *test)
{
    size_t len;

    for (len = LEGACY_MAX_INSNS - 1; len > 0; len--)
        if (test->insns[len].code != 0 || test->insns[len].imm != 0)
            break;
    return len + 1;
}

static int is_compared_type(enum bpf_prog_type type)
{
    return type == BPF_PROG_TYPE_SOCKET_FILTER || type == BPF_PROG_TYPE_XDP;
}

/* Why a test is not compared, or NULL. */
static const char *outside_reason(const struct bpf_test *test, enum bpf_prog_type type, char *buf,
                                  size_t size)
{
    if (!is_compared_type(type)) {
        const char *name = libbpf_bpf_prog_type_str(type);

        snprintf(buf, size, "program type %s", name ? name : "unknown");
        return buf;
    }
    if (test->fill_helper)
        return "generated program (fill_helper)";
    if (test->fixup_kfunc_btf_id[0].kfunc || test->kfunc)
        return "kfunc calls (need BTF) not provided";
    if (test->fixup_map_kptr[0])
        return "kptr map (needs BTF) not provided";
    if (test->btf_types[0] || test->func_info_cnt)
        return "BTF (func_info) not provided";
    if (test->flags & F_LOAD_WITH_STRICT_ALIGNMENT)
        return "strict alignment not modelled";
    return NULL;
}

/* One line of text for a TSV field: tabs and newlines become spaces. */
static void set_msg(char *dst, const char *src)
{
    size_t i;

    for (i = 0; src[i] && i + 1 < LEGACY_MSG_MAX; i++)
        dst[i] = (src[i] == '\t' || src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
    dst[i] = '\0';
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(s, prefix, n) == 0;
}

/* The reason in a rejecting verifier log: its last line that is not one of
 * the statistics ("processed N insns ...", "verification time", "stack
 * depth"). */
static void log_reason(const char *log, char *out)
{
    const char *line = log, *best = NULL;
    size_t best_len = 0;

    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);

        if (len > 0 && !starts_with(line, len, "processed ") &&
            !starts_with(line, len, "verification time") && !starts_with(line, len, "stack depth")) {
            best = line;
            best_len = len;
        }
        line += len + (end ? 1 : 0);
    }
    set_msg(out, "-");
    if (best) {
        char tmp[LEGACY_MSG_MAX];

        if (best_len >= sizeof tmp)
            best_len = sizeof tmp - 1;
        memcpy(tmp, best, best_len);
        tmp[best_len] = '\0';
        set_msg(out, tmp);
    }
}

/* ---------------------------------------------------------- the kernel */

static char kernel_log[LEGACY_KLOG_SIZE];
static uint32_t kernel_test_flags; /* testing_prog_flags(): what this kernel takes */

static int kernel_trivial_load(uint32_t prog_flags)
{
    const struct bpf_insn insns[] = {BPF_MOV64_IMM(BPF_REG_0, 0), BPF_EXIT_INSN()};
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = prog_flags);
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe", "GPL", insns, 2, &opts);

    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

/* Load a copy of test's program with fresh maps; *msg gets the reason. */
static enum verdict kernel_verdict(const struct bpf_test *test, enum bpf_prog_type type, char *msg)
{
    struct bpf_insn prog[LEGACY_MAX_INSNS];
    size_t len = program_length(test);
    int fds[MAP_COUNT];
    uint32_t flags = kernel_test_flags;
    enum verdict v = V_REJECT;
    int m, fd;

    memcpy(prog, test->insns, len * sizeof prog[0]);
    for (m = 0; m < MAP_COUNT; m++) {
        const int *fix = fixups_of(test, (enum legacy_map)m);
        const struct map_shape *s = &map_shapes[m];
        LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = s->flags);

        fds[m] = -1;
        if (!fix[0])
            continue;
        fds[m] = bpf_map_create(s->type, NULL, s->key_size, s->value_size, s->max_entries, &mopts);
        if (fds[m] < 0) {
            snprintf(msg, LEGACY_MSG_MAX, "map create (type %d): %s", s->type, strerror(errno));
            goto out;
        }
        if (s->seed) {
            struct test_val value = seed_value();
            int key = 0;

            if (bpf_map_update_elem(fds[m], &key, &value, BPF_ANY) < 0) {
                snprintf(msg, LEGACY_MSG_MAX, "map update: %s", strerror(errno));
                goto out;
            }
        }
        for (; *fix; fix++)
            prog[*fix].imm = fds[m];
    }

    if (test->flags & F_LOAD_WITH_STRICT_ALIGNMENT)
        flags |= BPF_F_STRICT_ALIGNMENT;
    if (test->flags & F_NEEDS_EFFICIENT_UNALIGNED_ACCESS)
        flags |= BPF_F_ANY_ALIGNMENT;
    if (test->flags & ~3)
        flags |= test->flags; /* as test_verifier.c: the rest are BPF_F_* */

    {
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = kernel_log, .log_size = sizeof kernel_log,
                    .log_level = 1, .prog_flags = flags,
                    .expected_attach_type = test->expected_attach_type);

        kernel_log[0] = '\0';
        fd = bpf_prog_load(type, NULL, "GPL", prog, len, &opts);
        if (fd >= 0) {
            v = V_ACCEPT;
            close(fd);
        }
        if (fd >= 0)
            set_msg(msg, "-");
        else if (kernel_log[0] == '\0')
            snprintf(msg, LEGACY_MSG_MAX, "bpf(BPF_PROG_LOAD): %s", strerror(errno));
        else
            log_reason(kernel_log, msg);
    }
out:
    for (m = 0; m < MAP_COUNT; m++)
        if (fds[m] >= 0)
            close(fds[m]);
    return v;
}

/* ---------------------------------------------------------- ebpfvm */

struct ebpfvm_result {
    int verdict; /* enum verdict */
    double ms;   /* time in ebpfvm: vm, maps, load and verify */
    char msg[LEGACY_MSG_MAX];
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char ebpfvm_log[LEGACY_VLOG_SIZE];

/* A setup or load error: a reject with the vm's message ("load: ..."). */
static void ebpfvm_fail(ebpfvm_vm *vm, const char *what, struct ebpfvm_result *r)
{
    char tmp[LEGACY_MSG_MAX];
    const char *why = ebpfvm_vm_errmsg(vm);

    if (strncmp(why, what, strlen(what)) == 0)
        set_msg(r->msg, why);
    else {
        snprintf(tmp, sizeof tmp, "%s: %s", what, why);
        set_msg(r->msg, tmp);
    }
    r->verdict = V_REJECT;
}

static void ebpfvm_verdict_inproc(const struct bpf_test *test, enum bpf_prog_type type,
                                  struct ebpfvm_result *r)
{
    static struct ebpf_insn prog[LEGACY_MAX_INSNS];
    size_t len = program_length(test), i;
    struct ebpfvm_load_opts lopts;
    struct ebpfvm_verify_opts vopts;
    ebpfvm_prog *p = NULL;
    ebpfvm_vm *vm = NULL;
    int m, err;

    r->verdict = V_REJECT;
    if (ebpfvm_vm_create(NULL, &vm) != 0) {
        set_msg(r->msg, "ebpfvm_vm_create failed");
        return;
    }
    err = ebpfvm_vm_register_std_helpers(vm, NULL);
    if (err != 0) {
        ebpfvm_fail(vm, "register helpers", r);
        goto out;
    }
    for (i = 0; i < len; i++) {
        prog[i].opcode = test->insns[i].code;
        prog[i].dst_reg = test->insns[i].dst_reg & 0xf;
        prog[i].src_reg = test->insns[i].src_reg & 0xf;
        prog[i].off = test->insns[i].off;
        prog[i].imm = test->insns[i].imm;
    }
    for (m = 0; m < MAP_COUNT; m++) {
        const int *fix = fixups_of(test, (enum legacy_map)m);
        const struct map_shape *s = &map_shapes[m];
        struct ebpfvm_map_def def;
        int fd;

        if (!fix[0])
            continue;
        memset(&def, 0, sizeof def);
        def.sz = sizeof def;
        def.type = (enum ebpfvm_map_type)s->type;
        def.key_size = s->key_size;
        def.value_size = s->value_size;
        def.max_entries = s->max_entries;
        def.map_flags = s->flags;
        if (ebpfvm_map_create(vm, &def, &fd) != 0) {
            ebpfvm_fail(vm, "map create", r);
            goto out;
        }
        if (s->seed) {
            struct test_val value = seed_value();
            uint32_t key = 0;

            if (ebpfvm_map_update(vm, fd, &key, &value, EBPFVM_ANY) != 0) {
                ebpfvm_fail(vm, "map update", r);
                goto out;
            }
        }
        for (; *fix; fix++)
            prog[*fix].imm = fd;
    }

    memset(&lopts, 0, sizeof lopts);
    lopts.sz = sizeof lopts;
    lopts.prog_type = type == BPF_PROG_TYPE_XDP ? EBPFVM_PROG_TYPE_XDP : EBPFVM_PROG_TYPE_SOCKET_FILTER;
    lopts.name = test->descr;
    if (ebpfvm_prog_load(vm, prog, len, &lopts, &p) != 0) {
        ebpfvm_fail(vm, "load", r);
        goto out;
    }
    memset(&vopts, 0, sizeof vopts);
    vopts.sz = sizeof vopts;
    vopts.log_level = 1;
    vopts.log_buf = ebpfvm_log;
    vopts.log_size = sizeof ebpfvm_log;
    ebpfvm_log[0] = '\0';
    if (ebpfvm_prog_verify(p, &vopts) != 0) {
        set_msg(r->msg, ebpfvm_vm_errmsg(vm));
        goto out;
    }
    r->verdict = V_ACCEPT;
    set_msg(r->msg, "-");
out:
    ebpfvm_vm_destroy(vm);
}

/* Run the ebpfvm side in a child: a crash or a hang is a reject. */
static void ebpfvm_verdict(const struct bpf_test *test, enum bpf_prog_type type, struct ebpfvm_result *r)
{
    int pipefd[2], status;
    size_t got = 0;
    pid_t pid;

    memset(r, 0, sizeof *r);
    r->verdict = V_REJECT;
    fflush(stdout);
    if (pipe(pipefd) != 0) {
        set_msg(r->msg, "pipe failed");
        return;
    }
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        set_msg(r->msg, "fork failed");
        return;
    }
    if (pid == 0) {
        struct ebpfvm_result out;
        const char *p = (const char *)&out;
        size_t left = sizeof out;
        double t0;

        close(pipefd[0]);
        alarm(LEGACY_CHILD_TIMEOUT_S);
        memset(&out, 0, sizeof out);
        t0 = now_ms();
        ebpfvm_verdict_inproc(test, type, &out);
        out.ms = now_ms() - t0;
        while (left > 0) {
            ssize_t n = write(pipefd[1], p, left);

            if (n <= 0)
                _exit(3);
            p += n;
            left -= (size_t)n;
        }
        _exit(0);
    }
    close(pipefd[1]);
    while (got < sizeof *r) {
        ssize_t n = read(pipefd[0], (char *)r + got, sizeof *r - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        r->verdict = V_REJECT;
        if (WIFSIGNALED(status))
            snprintf(r->msg, sizeof r->msg, "ebpfvm crashed (signal %d: %s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(r->msg, sizeof r->msg, "ebpfvm child exited with %d", WEXITSTATUS(status));
    }
    r->msg[sizeof r->msg - 1] = '\0';
}

/* ---------------------------------------------------------- main */

static int silent_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
    (void)level;
    (void)fmt;
    (void)args;
    return 0;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    size_t f, i, total = 0, compared = 0, agree = 0;
    int err;

    if (argc > 2 || (filter && (strcmp(filter, "-h") == 0 || strcmp(filter, "--help") == 0))) {
        fprintf(stderr, "usage: %s [SUBSTRING]\n", argv[0]);
        return 2;
    }
    libbpf_set_print(silent_libbpf);
    if (geteuid() != 0) {
        printf("SKIP: not root (the kernel side needs bpf() as root)\n");
        return 77;
    }
    err = kernel_trivial_load(0);
    if (err != 0) {
        printf("SKIP: bpf(BPF_PROG_LOAD) unavailable: %s\n", strerror(-err));
        return 77;
    }
    if (kernel_trivial_load(BPF_F_TEST_RND_HI32) == 0)
        kernel_test_flags |= BPF_F_TEST_RND_HI32;
    if (kernel_trivial_load(BPF_F_TEST_REG_INVARIANTS) == 0)
        kernel_test_flags |= BPF_F_TEST_REG_INVARIANTS;

    for (f = 0; f < sizeof legacy_files / sizeof legacy_files[0]; f++) {
        const struct legacy_file *file = &legacy_files[f];

        for (i = 0; i < file->count; i++) {
            const struct bpf_test *test = &file->tests[i];
            enum bpf_prog_type type = test->prog_type ? test->prog_type : BPF_PROG_TYPE_SOCKET_FILTER;
            const char *type_name = libbpf_bpf_prog_type_str(type);
            char name[LEGACY_MSG_MAX], kmsg[LEGACY_MSG_MAX] = "-", why[128], ms[32];
            const char *outside = outside_reason(test, type, why, sizeof why);
            enum verdict kv = V_OUTSIDE;
            struct ebpfvm_result er;

            snprintf(name, sizeof name, "verifier/%s/%zu:%s", file->name, i,
                     test->descr ? test->descr : "");
            set_msg(name, name);
            if (filter && !strstr(name, filter))
                continue;
            total++;
            memset(&er, 0, sizeof er);
            if (outside) {
                er.verdict = V_OUTSIDE;
                set_msg(er.msg, outside);
                set_msg(ms, "-");
            } else {
                kv = kernel_verdict(test, type, kmsg);
                ebpfvm_verdict(test, type, &er);
                snprintf(ms, sizeof ms, "%.3f", er.ms);
                compared++;
                agree += kv == (enum verdict)er.verdict;
            }
            printf("%s\t-\t%s\tkernel=%s\tebpfvm=%s\texpect=%s\t%s\t%s\t%s\n", name,
                   type_name ? type_name : "unknown", kv == V_OUTSIDE ? "skip" : verdict_name(kv),
                   verdict_name((enum verdict)er.verdict), test->result == REJECT ? "failure" : "success",
                   kmsg, er.msg[0] ? er.msg : "-", ms);
        }
    }
    fflush(stdout);
    fprintf(stderr, "legacy_verdicts: %zu tests, %zu compared, %zu agree, %zu diverge\n", total, compared,
            agree, compared - agree);
    return 0;
}
