/*
 * bench/bench_verify.c - verification time per XDP program, ebpfvm's static
 * verifier beside the Linux kernel's (issue 4's benchmark).
 *
 * The corpus is every XDP program of every object in the directories given
 * by EBPFVM_BENCH_VERIFY_DIRS (build/examples/xdp and build/tests/xdp, not
 * tests/xdp/bad), or of the objects named on the command line.
 *
 *   ebpfvm  each repetition loads a fresh program from the object
 *           (ebpfvm_object_load_program, not timed) and times one
 *           ebpfvm_prog_verify() call (log level 0) with clock_gettime;
 *           the best repetition is kept, with insns_processed from its
 *           stats.
 *   kernel  each repetition opens and loads the object with libbpf, every
 *           program at log level 4 (BPF_LOG_STATS: the summary only, no
 *           per-instruction trace whose printing would inflate the time),
 *           and parses "verification time N usec" and "processed N insns"
 *           from each program's log; the best repetition is kept. Skipped
 *           with the reason printed when libbpf or bpf() is not available.
 *
 * ratio = ebpfvm us / kernel us (below 1: ebpfvm is faster). The target of
 * issue 4 is a median ratio no higher than 1.
 *
 * Usage: bench_verify [--quick] [--repeat N] [OBJ.o ...]
 *   --quick   ctest bench_verify_smoke: the first object only, each program
 *             verified once by ebpfvm (must pass, processed > 0); no kernel,
 *             no timing claims. Exit 1 when a program fails to verify.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebpfvm/ebpfvm.h"
#include "ebpfvm/loader.h"
#include "ebpfvm/verifier.h"
#include "ebpfvm/xdp.h"

#if EBPFVM_BENCH_HAVE_LIBBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

#ifndef EBPFVM_BENCH_VERIFY_DIRS
#define EBPFVM_BENCH_VERIFY_DIRS "examples/xdp:tests/xdp"
#endif

#define MAX_OBJS 256
#define MAX_ROWS 1024
#define KLOG_SIZE (1u << 16)

struct row {
    char object[128];
    char program[128];
    double vm_us;           /* best ebpfvm_prog_verify, -1: failed */
    uint64_t vm_insns;
    char vm_err[256];
    double k_us;            /* best kernel "verification time", -1: none */
    uint64_t k_insns;
    char k_err[160];
};

static struct row rows[MAX_ROWS];
static size_t nrows;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append every *.o in dir (sorted) to objs. */
static void list_dir(const char *dir, char **objs, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bench_verify: cannot open %s: %s (skipped)\n", dir, strerror(errno));
        return;
    }
    size_t first = *n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < MAX_OBJS) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".o") != 0)
            continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
            fprintf(stderr, "bench_verify: out of memory\n");
            exit(1);
        }
        objs[(*n)++] = p;
    }
    closedir(d);
    qsort(objs + first, *n - first, sizeof *objs, cmp_str);
}

/* ------------------------------------------------------------- ebpfvm */

/* Verify every XDP program of path `repeat` times; append one row each. */
static int bench_ebpfvm(const char *path, unsigned repeat)
{
    ebpfvm_vm *vm = NULL;
    ebpfvm_object *obj = NULL;
    int err = ebpfvm_vm_create(NULL, &vm);
    if (err == 0)
        err = ebpfvm_vm_register_std_helpers(vm, NULL);
    if (err == 0)
        err = ebpfvm_object_open(vm, path, NULL, &obj);
    if (err) {
        fprintf(stderr, "bench_verify: %s: %s\n", path, vm ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(err));
        ebpfvm_vm_destroy(vm);
        return -1;
    }
    int failures = 0;
    size_t count = ebpfvm_object_program_count(obj);
    for (size_t i = 0; i < count && nrows < MAX_ROWS; i++) {
        enum ebpfvm_prog_type type;
        if (ebpfvm_object_program_type(obj, i, &type) != 0 || type != EBPFVM_PROG_TYPE_XDP)
            continue;
        struct row *r = &rows[nrows++];
        memset(r, 0, sizeof *r);
        snprintf(r->object, sizeof r->object, "%s", base_name(path));
        snprintf(r->program, sizeof r->program, "%s", ebpfvm_object_program_name(obj, i));
        r->vm_us = -1;
        r->k_us = -1;
        for (unsigned rep = 0; rep < repeat; rep++) {
            ebpfvm_prog *prog = NULL;
            if (ebpfvm_object_load_program(obj, i, &prog) != 0) {
                snprintf(r->vm_err, sizeof r->vm_err, "load: %s", ebpfvm_vm_errmsg(vm));
                break;
            }
            struct ebpfvm_verify_stats stats = {0};
            struct ebpfvm_verify_opts opts = {.sz = sizeof opts, .stats = &stats};
            double t0 = now_ns();
            int verr = ebpfvm_prog_verify(prog, &opts);
            double t1 = now_ns();
            if (verr != 0) {
                snprintf(r->vm_err, sizeof r->vm_err, "%s", ebpfvm_vm_errmsg(vm));
                ebpfvm_prog_destroy(prog);
                break;
            }
            double us = (t1 - t0) / 1e3;
            if (r->vm_us < 0 || us < r->vm_us)
                r->vm_us = us;
            r->vm_insns = stats.insns_processed;
            ebpfvm_prog_destroy(prog);
        }
        if (r->vm_err[0]) {
            r->vm_us = -1;
            failures++;
        }
    }
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    return failures ? -1 : 0;
}

/* ------------------------------------------------------------- kernel */

#if EBPFVM_BENCH_HAVE_LIBBPF
static struct row *find_row(const char *object, const char *program)
{
    for (size_t i = 0; i < nrows; i++)
        if (strcmp(rows[i].object, object) == 0 && strcmp(rows[i].program, program) == 0)
            return &rows[i];
    return NULL;
}

/* The number after `key` in log, or -1. */
static long long log_number(const char *log, const char *key)
{
    const char *p = strstr(log, key);
    if (!p)
        return -1;
    return strtoll(p + strlen(key), NULL, 10);
}

/* Load path with libbpf `repeat` times; fill the kernel columns of its
 * rows. Returns 0, or -1 with why set when bpf() itself is unusable. */
static int bench_kernel(const char *path, unsigned repeat, char *why, size_t why_size)
{
    struct logbuf {
        struct bpf_program *prog;
        char *buf;
    } logs[64];
    for (unsigned rep = 0; rep < repeat; rep++) {
        struct bpf_object *obj = bpf_object__open_file(path, NULL);
        if (!obj || libbpf_get_error(obj)) {
            snprintf(why, why_size, "libbpf cannot open %s", path);
            return 0; /* this object only */
        }
        size_t n = 0;
        struct bpf_program *prog;
        bpf_object__for_each_program(prog, obj)
        {
            if (n == sizeof logs / sizeof logs[0])
                break;
            logs[n].prog = prog;
            logs[n].buf = calloc(1, KLOG_SIZE);
            if (!logs[n].buf) {
                fprintf(stderr, "bench_verify: out of memory\n");
                exit(1);
            }
            bpf_program__set_log_level(prog, 4); /* BPF_LOG_STATS */
            bpf_program__set_log_buf(prog, logs[n].buf, KLOG_SIZE);
            n++;
        }
        int err = bpf_object__load(obj);
        for (size_t i = 0; i < n; i++) {
            struct row *r = find_row(base_name(path), bpf_program__name(logs[i].prog));
            if (r) {
                long long us = log_number(logs[i].buf, "verification time ");
                long long insns = log_number(logs[i].buf, "processed ");
                if (err == 0 && us >= 0) {
                    if (r->k_us < 0 || (double)us < r->k_us)
                        r->k_us = (double)us;
                    if (insns >= 0)
                        r->k_insns = (uint64_t)insns;
                } else if (err != 0) {
                    snprintf(r->k_err, sizeof r->k_err, "kernel load failed: %s", strerror(-err));
                }
            }
            free(logs[i].buf);
        }
        bpf_object__close(obj);
        if (err == -EPERM || err == -EACCES) {
            snprintf(why, why_size, "bpf() refused: %s (needs root or CAP_BPF)", strerror(-err));
            return -1;
        }
        if (err)
            return 0;
    }
    return 0;
}
#endif

/* ---------------------------------------------------------------- main */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bool quick = false;
    unsigned repeat = 20;
    char *objs[MAX_OBJS];
    size_t nobjs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            if (v < 1 || v > 100000) {
                fprintf(stderr, "bench_verify: --repeat must be 1..100000\n");
                return 2;
            }
            repeat = (unsigned)v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_verify [--quick] [--repeat N] [OBJ.o ...]\n");
            return 2;
        } else if (nobjs < MAX_OBJS) {
            objs[nobjs++] = strdup(argv[i]);
        }
    }
    if (nobjs == 0) {
        char dirs[] = EBPFVM_BENCH_VERIFY_DIRS;
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
            list_dir(d, objs, &nobjs);
    }
    if (nobjs == 0) {
        fprintf(stderr, "bench_verify: no objects (looked in %s)\n", EBPFVM_BENCH_VERIFY_DIRS);
        return 1;
    }

    if (quick) {
        int rc = bench_ebpfvm(objs[0], 1);
        for (size_t i = 0; i < nrows; i++) {
            if (rows[i].vm_err[0] || rows[i].vm_insns == 0) {
                fprintf(stderr, "bench_verify: %s %s: not verified: %s\n", rows[i].object, rows[i].program,
                        rows[i].vm_err);
                rc = -1;
            }
        }
        printf("bench_verify --quick: %s: %zu XDP program(s) verified%s\n", base_name(objs[0]), nrows,
               rc == 0 && nrows > 0 ? "" : " - FAILED");
        for (size_t i = 0; i < nobjs; i++)
            free(objs[i]);
        return rc == 0 && nrows > 0 ? 0 : 1;
    }

    int vm_failures = 0;
    for (size_t i = 0; i < nobjs; i++)
        if (bench_ebpfvm(objs[i], repeat) != 0)
            vm_failures++;

    bool kernel = false;
    char why[256] = "built without libbpf";
#if EBPFVM_BENCH_HAVE_LIBBPF
    libbpf_set_print(NULL);
    kernel = true;
    why[0] = 0;
    for (size_t i = 0; i < nobjs && kernel; i++)
        if (bench_kernel(objs[i], repeat, why, sizeof why) != 0)
            kernel = false;
#endif

    printf("verification time, best of %u (ebpfvm: ebpfvm_prog_verify, log level 0; kernel: \"verification "
           "time\" of BPF_LOG_STATS), %zu XDP programs in %zu objects\n\n",
           repeat, nrows, nobjs);
    if (!kernel)
        printf("kernel column skipped: %s\n\n", why);
    printf("| object | program | ebpfvm µs | kernel µs | ratio | ebpfvm processed insns | kernel processed insns |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    double ratios[MAX_ROWS];
    size_t nratios = 0;
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        char vm[64] = "failed", k[64] = "-", ratio[32] = "-", vi[32] = "-", ki[32] = "-";
        if (r->vm_us >= 0) {
            snprintf(vm, sizeof vm, "%.1f", r->vm_us);
            snprintf(vi, sizeof vi, "%llu", (unsigned long long)r->vm_insns);
        }
        if (kernel && r->k_us >= 0) {
            snprintf(k, sizeof k, "%.0f", r->k_us);
            snprintf(ki, sizeof ki, "%llu", (unsigned long long)r->k_insns);
        } else if (kernel && r->k_err[0]) {
            snprintf(k, sizeof k, "%s", "load failed");
        }
        if (r->vm_us >= 0 && kernel && r->k_us > 0) {
            double q = r->vm_us / r->k_us;
            ratios[nratios++] = q;
            snprintf(ratio, sizeof ratio, "%.2f", q);
        }
        printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->object, r->program, vm, k, ratio, vi, ki);
    }
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].vm_err[0])
            printf("\nebpfvm failed on %s %s: %s", rows[i].object, rows[i].program, rows[i].vm_err);
    if (vm_failures)
        printf("\n");
    if (nratios > 0) {
        qsort(ratios, nratios, sizeof ratios[0], cmp_double);
        double median = nratios % 2 ? ratios[nratios / 2] : (ratios[nratios / 2 - 1] + ratios[nratios / 2]) / 2;
        printf("\nmedian ratio ebpfvm / kernel over %zu programs: %.2f (min %.2f, max %.2f)\n", nratios, median,
               ratios[0], ratios[nratios - 1]);
        printf("target \"median no slower than the kernel\" (median ratio <= 1.00): %s\n",
               median <= 1.0 ? "met" : "NOT met");
    } else {
        printf("\nno ratio: the kernel column is empty\n");
    }
    for (size_t i = 0; i < nobjs; i++)
        free(objs[i]);
    return 0;
}
