/*
 * tests/kselftest/kselftest_verdicts.c - load every test program of the
 * kernel's verifier selftests (objects built from
 * tools/testing/selftests/bpf/progs/verifier_*.c) into the running kernel
 * and into ebpfvm's verifier, and print both verdicts.
 *
 *   kselftest_verdicts [--no-kernel] [--prefix P] OBJ.o...
 *
 * One tab-separated line per program that is not __auxiliary:
 *
 *   P/<object>/<func> <section> <type> kernel=accept|reject|error|skip
 *   ebpfvm=accept|reject|outside expect=success|failure|- <kernel message>
 *   <ebpfvm message> <ebpfvm ms>
 *
 * P is "progs" unless --prefix says otherwise; <object> is the file name
 * without ".o". The expectation is the selftest's own for privileged mode
 * (__success / __failure; "success" when the program has no annotation at
 * all, as the selftests' test_loader assumes; "-" when it only has
 * unprivileged annotations). Messages are the last meaningful line of the
 * kernel's verifier log (or of libbpf's messages when the verifier said
 * nothing) and of ebpfvm's error message; "-" when accepted.
 *
 * The kernel side mirrors the selftests' test_loader: the object is opened
 * for each program, only that program and the __auxiliary ones are loaded,
 * with the flags of its __flag() tags on top of BPF_F_TEST_RND_HI32 and
 * BPF_F_TEST_REG_INVARIANTS (when the kernel knows them). kernel=error
 * means libbpf failed before BPF_PROG_LOAD (it could not open the object,
 * does not know the section, could not apply a CO-RE relocation or create
 * a map): no verdict. An object libbpf cannot open at all gives one line,
 * P/<object>/(all) with type "-".
 *
 * ebpfvm verifies only XDP and SOCKET_FILTER programs; the others, and
 * programs that ask for BPF_F_STRICT_ALIGNMENT (not modelled), are
 * "outside" with the reason as their ebpfvm message.
 *
 * Exit status: 0 done, 2 bad arguments, 77 bpf() unavailable (not root, no
 * BPF syscall) unless --no-kernel, 1 other failures (out of memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "ebpfvm/ebpfvm.h"
#include "ebpfvm/loader.h"
#include "ebpfvm/skb.h"
#include "ebpfvm/verifier.h"
#include "ebpfvm/xdp.h"

/* Flags newer than the uapi headers of Debian 12. */
#ifndef BPF_F_TEST_REG_INVARIANTS
#define BPF_F_TEST_REG_INVARIANTS (1U << 7)
#endif
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

#define KERNEL_LOG_SIZE (4u << 20) /* verifier log buffer per load */
#define MSG_SIZE 512u              /* one message column */
#define SLOW_MS 2000.0             /* ebpfvm verifications worth a note */

#define TAG_PFX "comment:"

/* What the selftest annotations say about one program. */
struct prog_spec {
    char *name;
    char *section;
    enum bpf_prog_type type;
    bool auxiliary;         /* __auxiliary or __auxiliary_unpriv */
    bool priv;              /* has privileged-mode annotations (or none) */
    bool unpriv;            /* has unprivileged-mode annotations */
    bool expect_failure;    /* privileged expectation */
    uint32_t flags_set;     /* from __flag(X) */
    uint32_t flags_clear;   /* from __flag(!X) */
};

struct options {
    bool kernel;
    const char *prefix;
};

static uint32_t testing_flags; /* BPF_F_TEST_* the kernel accepts */
static char libbpf_last[MSG_SIZE]; /* last warning libbpf printed */
static bool libbpf_prog_load_failed; /* it said BPF_PROG_LOAD failed */
static char *kernel_log;

/* ------------------------------------------------------------ messages */

/* Copy src into dst (MSG_SIZE), tabs and newlines made spaces, trailing
 * blanks dropped; "-" for an empty string. */
static void set_msg(char *dst, const char *src)
{
    size_t n = 0;
    for (; src && src[n] && n < MSG_SIZE - 1; n++)
        dst[n] = (src[n] == '\t' || src[n] == '\n' || src[n] == '\r') ? ' ' : src[n];
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
    if (n == 0)
        strcpy(dst, "-");
}

static bool line_is_noise(const char *line, size_t len)
{
    static const char *const noise[] = {"processed ", "verification time", "stack depth", "Func#", "max_states_per_insn"};
    if (len == 0)
        return true;
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++) {
        size_t plen = strlen(noise[i]);
        if (len >= plen && strncmp(line, noise[i], plen) == 0)
            return true;
    }
    return false;
}

/* The last line of text that is not empty nor a statistics line, into dst. */
static void last_meaningful_line(char *dst, const char *text)
{
    const char *best = NULL;
    size_t best_len = 0;
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!line_is_noise(p, len)) {
            best = p;
            best_len = len;
        }
        p += len + (end ? 1 : 0);
    }
    char line[MSG_SIZE];
    if (best_len >= sizeof line)
        best_len = sizeof line - 1;
    if (best)
        memcpy(line, best, best_len);
    line[best ? best_len : 0] = '\0';
    set_msg(dst, line);
}

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char buf[MSG_SIZE];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    /* Keep the line that says what failed: not libbpf's echo of the
     * verifier log, nor the summaries that follow the reason. */
    static const char *const noise[] = {"PROG LOAD LOG", "failed to load object", "failed to load: ",
                                        "permission error while running as root", "BTF is optional"};
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++)
        if (strstr(buf, noise[i]))
            return 0;
    if (len > 0) {
        set_msg(libbpf_last, buf);
        if (strstr(buf, "BPF program load failed"))
            libbpf_prog_load_failed = true;
    }
    return 0;
}

/* ------------------------------------------------------ annotations */

static bool has_pfx(const char *s, const char *pfx)
{
    return strncmp(s, pfx, strlen(pfx)) == 0;
}

static uint32_t flag_value(const char *val)
{
    static const struct {
        const char *name;
        uint32_t value;
    } known[] = {
        {"BPF_F_STRICT_ALIGNMENT", BPF_F_STRICT_ALIGNMENT},
        {"BPF_F_ANY_ALIGNMENT", BPF_F_ANY_ALIGNMENT},
        {"BPF_F_TEST_RND_HI32", BPF_F_TEST_RND_HI32},
        {"BPF_F_TEST_STATE_FREQ", BPF_F_TEST_STATE_FREQ},
        {"BPF_F_SLEEPABLE", BPF_F_SLEEPABLE},
        {"BPF_F_XDP_HAS_FRAGS", BPF_F_XDP_HAS_FRAGS},
        {"BPF_F_TEST_REG_INVARIANTS", BPF_F_TEST_REG_INVARIANTS},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(val, known[i].name) == 0)
            return known[i].value;
    return (uint32_t)strtoul(val, NULL, 0);
}

/* Read the decl tags of prog's FUNC into spec (test_loader's rules). */
static void read_tags(const struct btf *btf, const char *func, struct prog_spec *spec)
{
    bool any_priv = false, any_unpriv = false;
    spec->priv = false;
    spec->unpriv = false;
    if (!btf)
        return;
    int func_id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
    if (func_id < 0)
        return;
    uint32_t count = btf__type_cnt(btf);
    for (uint32_t id = 1; id < count; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!btf_is_decl_tag(t) || t->type != (uint32_t)func_id || btf_decl_tag(t)->component_idx != -1)
            continue;
        const char *s = btf__name_by_offset(btf, t->name_off);
        if (!s || !has_pfx(s, TAG_PFX))
            continue;
        s += strlen(TAG_PFX);
        if (strcmp(s, "test_expect_failure") == 0) {
            spec->expect_failure = true;
            any_priv = true;
        } else if (strcmp(s, "test_expect_success") == 0) {
            spec->expect_failure = false;
            any_priv = true;
        } else if (strcmp(s, "test_expect_failure_unpriv") == 0 || strcmp(s, "test_expect_success_unpriv") == 0 ||
                   has_pfx(s, "test_expect_msg_unpriv=") || has_pfx(s, "test_expect_xlated_unpriv=") ||
                   has_pfx(s, "test_jited_unpriv=") || has_pfx(s, "test_retval_unpriv=")) {
            any_unpriv = true;
        } else if (strcmp(s, "test_auxiliary") == 0) {
            spec->auxiliary = true;
            any_priv = true;
        } else if (strcmp(s, "test_auxiliary_unpriv") == 0) {
            spec->auxiliary = true;
            any_unpriv = true;
        } else if (has_pfx(s, "test_expect_msg=") || has_pfx(s, "test_expect_xlated=") || has_pfx(s, "test_jited=") ||
                   has_pfx(s, "test_retval=")) {
            any_priv = true;
        } else if (has_pfx(s, "test_prog_flags=")) {
            const char *val = s + strlen("test_prog_flags=");
            if (val[0] == '!')
                spec->flags_clear |= flag_value(val + 1);
            else
                spec->flags_set |= flag_value(val);
        }
    }
    spec->priv = any_priv || !any_unpriv;
    spec->unpriv = any_unpriv;
}

/* ------------------------------------------------------------ kernel */

/* Whether bpf() lets us load a program, and which testing flags it takes
 * (the selftests' testing_prog_flags()). Returns false when bpf() is not
 * usable at all; *why then says why. */
static bool probe_kernel(char *why, size_t why_size)
{
    const struct bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
    if (fd < 0) {
        snprintf(why, why_size, "bpf(BPF_PROG_LOAD) of a 2-insn program failed: %s", strerror(errno));
        return false;
    }
    close(fd);
    const uint32_t candidates[] = {BPF_F_TEST_RND_HI32, BPF_F_TEST_REG_INVARIANTS};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = candidates[i]);
        fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, &opts);
        if (fd >= 0) {
            testing_flags |= candidates[i];
            close(fd);
        }
    }
    return true;
}

/* Load specs[index] (with the auxiliary programs) into the kernel. Returns
 * "accept", "reject" or "error"; msg gets the reason. */
static const char *kernel_verdict(const char *path, const struct prog_spec *specs, size_t nspecs, size_t index,
                                  char *msg)
{
    libbpf_last[0] = '\0';
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj) {
        set_msg(msg, libbpf_last[0] ? libbpf_last : "libbpf could not open the object");
        return "error";
    }
    struct bpf_program *target = NULL;
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj)
    {
        const char *name = bpf_program__name(prog);
        bool load = false;
        for (size_t i = 0; i < nspecs; i++) {
            if (strcmp(specs[i].name, name) != 0)
                continue;
            if (i == index) {
                target = prog;
                load = true;
            } else if (specs[i].auxiliary) {
                load = true;
            }
        }
        bpf_program__set_autoload(prog, load);
    }
    if (!target) {
        bpf_object__close(obj);
        set_msg(msg, "libbpf does not list the program");
        return "error";
    }
    const struct prog_spec *spec = &specs[index];
    uint32_t flags = (bpf_program__flags(target) | testing_flags | spec->flags_set) & ~spec->flags_clear;
    bpf_program__set_flags(target, flags);
    kernel_log[0] = '\0';
    bpf_program__set_log_buf(target, kernel_log, KERNEL_LOG_SIZE);
    bpf_program__set_log_level(target, 0); /* libbpf retries with a log on failure */
    libbpf_last[0] = '\0';
    libbpf_prog_load_failed = false;
    int err = bpf_object__load(obj);
    const char *verdict = err ? "reject" : "accept";
    /* libbpf failed before asking the kernel (unknown section, CO-RE
     * relocation, map creation): no verdict. */
    if (err && !kernel_log[0] && !libbpf_prog_load_failed)
        verdict = "error";
    if (err) {
        if (kernel_log[0])
            last_meaningful_line(msg, kernel_log);
        else if (libbpf_last[0])
            set_msg(msg, libbpf_last);
        else
            set_msg(msg, strerror(-err));
    } else {
        set_msg(msg, NULL);
    }
    bpf_object__close(obj);
    return verdict;
}

/* ------------------------------------------------------------ ebpfvm */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The last line of ebpfvm's message for status into msg. */
static void ebpfvm_msg(char *msg, const ebpfvm_vm *vm, int status)
{
    const char *text = vm ? ebpfvm_vm_errmsg(vm) : "";
    if (!text[0])
        text = ebpfvm_strerror(status);
    last_meaningful_line(msg, text);
}

/* Accepted programs that faulted in the checked interpreter (a verifier
 * soundness bug): main() fails the run when there is one. */
static unsigned unsound;

/*
 * Soundness: run an accepted program in the checked interpreter on frames
 * of several sizes (a pattern of bytes, an Ethernet/IPv4 header) and
 * return 0, or -1 with the fault in msg. A program the verifier accepted
 * must never fault there.
 */
static int checked_runs(ebpfvm_prog *prog, enum ebpfvm_prog_type type, char *msg)
{
    static const uint32_t lens[] = {14, 60, 64, 128, 1500};
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    uint8_t pkt[1500];
    for (size_t k = 0; k < sizeof pkt; k++)
        pkt[k] = (uint8_t)(k * 7 + 3);
    pkt[12] = 0x08, pkt[13] = 0x00, pkt[14] = 0x45;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED, .prandom_seed = 1};
        struct ebpfvm_run_result res;
        int status;
        if (type == EBPFVM_PROG_TYPE_XDP) {
            struct ebpfvm_xdp_buff buff;
            if (ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, lens[i]) != 0)
                continue;
            status = ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res);
        } else {
            struct ebpfvm_sk_buff skb;
            ebpfvm_sk_buff_init(&skb, pkt, lens[i]);
            status = ebpfvm_prog_run(prog, &skb, sizeof skb, &ro, &res);
        }
        if (status != EBPFVM_OK) {
            snprintf(msg, MSG_SIZE, "checked run on a %u-byte frame: %s", lens[i], res.message);
            return -1;
        }
    }
    return 0;
}

/* Open path (named stem in messages) in a fresh vm, load program name as
 * type and verify it; an accepted program also runs (checked_runs).
 * Returns "accept" or "reject"; msg gets the reason, *ms the time of the
 * open, load and verification. */
static const char *ebpfvm_verdict(const char *path, const char *stem, const char *name, enum ebpfvm_prog_type type,
                                  char *msg, double *ms)
{
    struct ebpfvm_object_opts open_opts = {.sz = sizeof open_opts, .object_name = stem};
    double start = now_ms();
    ebpfvm_vm *vm = NULL;
    ebpfvm_object *obj = NULL;
    ebpfvm_prog *prog = NULL;
    size_t index = 0;
    int status = ebpfvm_vm_create(NULL, &vm);
    if (!status)
        status = ebpfvm_vm_register_std_helpers(vm, NULL);
    if (!status)
        status = ebpfvm_object_open(vm, path, &open_opts, &obj);
    if (!status)
        status = ebpfvm_object_find_program(obj, NULL, name, &index);
    if (!status)
        status = ebpfvm_object_set_program_type(obj, index, type);
    if (!status)
        status = ebpfvm_object_load_program(obj, index, &prog);
    if (!status)
        status = ebpfvm_prog_verify(prog, NULL);
    if (status)
        ebpfvm_msg(msg, vm, status);
    else
        set_msg(msg, NULL);
    if (!status && checked_runs(prog, type, msg) != 0) {
        fprintf(stderr, "kselftest_verdicts: UNSOUND: %s/%s: verified, but %s\n", stem, name, msg);
        unsound++;
    }
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    *ms = now_ms() - start;
    return status ? "reject" : "accept";
}

/* ------------------------------------------------------------ driver */

static void free_specs(struct prog_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(specs[i].name);
        free(specs[i].section);
    }
    free(specs);
}

/* The object's programs and their annotations, from one libbpf open.
 * Returns the count (0 with *out NULL when it cannot be opened: msg says
 * why), or -1 when out of memory. */
static long read_specs(const char *path, struct prog_spec **out, char *msg)
{
    *out = NULL;
    libbpf_last[0] = '\0';
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj) {
        set_msg(msg, libbpf_last[0] ? libbpf_last : "libbpf could not open the object");
        return 0;
    }
    size_t n = 0;
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj) n++;
    struct prog_spec *specs = calloc(n ? n : 1, sizeof *specs);
    if (!specs) {
        bpf_object__close(obj);
        return -1;
    }
    size_t i = 0;
    bpf_object__for_each_program(prog, obj)
    {
        struct prog_spec *spec = &specs[i++];
        spec->name = strdup(bpf_program__name(prog));
        spec->section = strdup(bpf_program__section_name(prog));
        spec->type = bpf_program__type(prog);
        if (!spec->name || !spec->section) {
            free_specs(specs, n);
            bpf_object__close(obj);
            return -1;
        }
        read_tags(bpf_object__btf(obj), spec->name, spec);
    }
    bpf_object__close(obj);
    *out = specs;
    return (long)n;
}

/* "verifier_and" from ".../verifier_and.o". */
static void object_stem(const char *path, char *stem, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(stem, size, "%s", base);
    size_t len = strlen(stem);
    if (len > 2 && strcmp(stem + len - 2, ".o") == 0)
        stem[len - 2] = '\0';
}

static int run_object(const struct options *o, const char *path)
{
    char stem[256];
    object_stem(path, stem, sizeof stem);
    char kmsg[MSG_SIZE], vmsg[MSG_SIZE];
    struct prog_spec *specs;
    long n = read_specs(path, &specs, kmsg);
    if (n < 0)
        return -1;
    if (!specs) {
        /* Not one verdict possible: one line for the whole object. */
        printf("%s/%s/(all)\t-\t-\tkernel=error\tebpfvm=outside\texpect=-\t%s\tlibbpf could not open the object\t-\n",
               o->prefix, stem, kmsg);
        return 0;
    }
    for (size_t i = 0; i < (size_t)n; i++) {
        const struct prog_spec *spec = &specs[i];
        if (spec->auxiliary)
            continue;
        const char *kernel = "skip";
        set_msg(kmsg, NULL);
        if (o->kernel)
            kernel = kernel_verdict(path, specs, (size_t)n, i, kmsg);

        const char *type_name = libbpf_bpf_prog_type_str(spec->type);
        if (!type_name)
            type_name = "unknown";
        const char *vm_verdict = "outside";
        char ms_text[32] = "-";
        uint32_t flags = spec->flags_set & ~spec->flags_clear;
        if (spec->type != BPF_PROG_TYPE_XDP && spec->type != BPF_PROG_TYPE_SOCKET_FILTER) {
            snprintf(vmsg, sizeof vmsg, "program type %s", type_name);
        } else if (flags & BPF_F_STRICT_ALIGNMENT) {
            set_msg(vmsg, "strict alignment not modelled");
        } else {
            double ms = 0;
            enum ebpfvm_prog_type type =
                spec->type == BPF_PROG_TYPE_XDP ? EBPFVM_PROG_TYPE_XDP : EBPFVM_PROG_TYPE_SOCKET_FILTER;
            vm_verdict = ebpfvm_verdict(path, stem, spec->name, type, vmsg, &ms);
            snprintf(ms_text, sizeof ms_text, "%.3f", ms);
            if (ms > SLOW_MS)
                fprintf(stderr, "kselftest_verdicts: note: %s/%s/%s took %.0f ms in ebpfvm\n", o->prefix, stem,
                        spec->name, ms);
        }
        const char *expect = spec->priv ? (spec->expect_failure ? "failure" : "success") : "-";
        printf("%s/%s/%s\t%s\t%s\tkernel=%s\tebpfvm=%s\texpect=%s\t%s\t%s\t%s\n", o->prefix, stem, spec->name,
               spec->section, type_name, kernel, vm_verdict, expect, kmsg, vmsg, ms_text);
        fflush(stdout);
    }
    free_specs(specs, (size_t)n);
    return 0;
}

static int usage(const char *error)
{
    if (error)
        fprintf(stderr, "kselftest_verdicts: %s\n", error);
    fprintf(stderr,
            "usage: kselftest_verdicts [--no-kernel] [--prefix P] OBJ.o...\n"
            "  Load each test program of the verifier selftest objects into the running\n"
            "  kernel and into ebpfvm; print one tab-separated line per program:\n"
            "  P/<object>/<func> section type kernel=.. ebpfvm=.. expect=.. kmsg vmsg ms\n"
            "  --no-kernel  do not use bpf() (kernel=skip)\n"
            "  --prefix P   first part of the test names (default: progs)\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct options o = {.kernel = true, .prefix = "progs"};
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--no-kernel") == 0) {
            o.kernel = false;
        } else if (strcmp(argv[first], "--prefix") == 0) {
            if (first + 1 >= argc)
                return usage("option '--prefix' needs a value");
            o.prefix = argv[++first];
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
            usage(NULL);
            return 0;
        } else {
            char error[128];
            snprintf(error, sizeof error, "unknown option '%s'", argv[first]);
            return usage(error);
        }
    }
    if (first >= argc)
        return usage("no object files");

    libbpf_set_print(capture_print);
    if (o.kernel) {
        char why[256];
        if (!probe_kernel(why, sizeof why)) {
            fprintf(stderr, "kselftest_verdicts: %s\n", why);
            return 77;
        }
        kernel_log = malloc(KERNEL_LOG_SIZE);
        if (!kernel_log) {
            fprintf(stderr, "kselftest_verdicts: out of memory\n");
            return 1;
        }
    }
    int rc = 0;
    for (int i = first; i < argc; i++) {
        if (run_object(&o, argv[i]) < 0) {
            fprintf(stderr, "kselftest_verdicts: %s: out of memory\n", argv[i]);
            rc = 1;
        }
    }
    free(kernel_log);
    if (unsound) {
        fprintf(stderr, "kselftest_verdicts: %u verified programs faulted in the checked interpreter\n", unsound);
        rc = 1;
    }
    return rc;
}
