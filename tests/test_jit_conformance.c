/*
 * tests/test_jit_conformance.c - the bpf_conformance suite (the .data files
 * in EBPFVM_CONFORMANCE_DIR) on the x86-64 JIT.
 *
 * Every file is assembled, loaded, compiled with EBPFVM_JIT_ALLOW_UNVERIFIED
 * and run natively (through ebpfvm__jit_prog_run, the EBPFVM_EXEC_JIT path)
 * and in the interpreter (FAST mode), each on its own copy of the `-- mem`
 * block. For every file: the JIT's r0 equals the expected result and the
 * interpreter's r0, and both leave the same memory. Helper 5 returns r1, as
 * the suite expects. The test skips when the folder is absent. The whole
 * suite runs twice: plain and with EBPFVM_JIT_BLIND (constant blinding).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "vm/internal.h"

#if defined(__x86_64__)

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .data file names of the suite (malloc'd, sorted), or NULL. */
static char **list_files(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".data") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 512;
            names = realloc(names, cap * sizeof *names);
            cr_assert_not_null(names);
        }
        names[n] = malloc(len + 1);
        cr_assert_not_null(names[n]);
        memcpy(names[n], e->d_name, len + 1);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    *count = n;
    return names;
}

enum outcome { PASS, SKIPPED, FAILED };

/* Run one file; on failure write the reason into why. */
static enum outcome run_case(const char *dir, const char *name, uint32_t jit_flags, char *why, size_t why_size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct conformance_case c;
    char err[256];
    if (conformance_load(path, &c, err, sizeof err) != 0) {
        snprintf(why, why_size, "parse: %s", err);
        return FAILED;
    }
    if (c.unsupported[0] || !c.has_result || c.error) {
        snprintf(why, why_size, "unsupported section or no result");
        conformance_case_free(&c);
        return SKIPPED;
    }
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 5, "identity", helper_identity, NULL), 0);

    enum outcome result = FAILED;
    struct ebpf_insn *words = NULL;
    size_t count = 0;
    ebpfvm_prog *prog = NULL;
    uint8_t *jit_mem = NULL, *interp_mem = NULL;
    if (c.raw) {
        count = c.raw_count;
        words = c.raw;
    } else if (ebpfvm_assemble(vm, c.asm_text, &words, &count) != 0) {
        snprintf(why, why_size, "assemble: %s", ebpfvm_vm_errmsg(vm));
        words = NULL;
        goto done;
    }
    if (ebpfvm_prog_load(vm, words, count, NULL, &prog) != 0) {
        snprintf(why, why_size, "load: %s", ebpfvm_vm_errmsg(vm));
        goto done;
    }
    if (ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED | jit_flags) != 0) {
        snprintf(why, why_size, "jit: %s", ebpfvm_vm_errmsg(vm));
        goto done;
    }
    jit_mem = calloc(c.mem_size + 8, 1);
    interp_mem = calloc(c.mem_size + 8, 1);
    cr_assert(jit_mem && interp_mem);
    if (c.mem_size) {
        memcpy(jit_mem, c.mem, c.mem_size);
        memcpy(interp_mem, c.mem, c.mem_size);
    }
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_JIT};
    struct ebpfvm_run_result rj, ri;
    int ej = ebpfvm__jit_prog_run(prog, c.mem_size ? jit_mem : NULL, c.mem_size, &opts, &rj);
    opts.mode = EBPFVM_EXEC_FAST;
    opts.flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    int ei = ebpfvm_prog_run(prog, c.mem_size ? interp_mem : NULL, c.mem_size, &opts, &ri);
    if (ej != 0) {
        snprintf(why, why_size, "jit run: %d %s", ej, rj.message);
    } else if (rj.r0 != c.result) {
        snprintf(why, why_size, "jit r0 0x%" PRIx64 ", expected 0x%" PRIx64, rj.r0, c.result);
    } else if (ei != 0 || ri.r0 != rj.r0) {
        snprintf(why, why_size, "interpreter disagrees: status %d r0 0x%" PRIx64 " %s", ei, ri.r0, ri.message);
    } else if (c.mem_size && memcmp(jit_mem, interp_mem, c.mem_size) != 0) {
        snprintf(why, why_size, "jit and interpreter left different memory");
    } else {
        result = PASS;
    }
done:
    free(jit_mem);
    free(interp_mem);
    if (words && words != c.raw)
        ebpfvm_free(vm, words);
    ebpfvm_vm_destroy(vm);
    conformance_case_free(&c);
    return result;
}

static void every_file(uint32_t jit_flags, const char *label)
{
    size_t n = 0;
    char **names = list_files(EBPFVM_CONFORMANCE_DIR, &n);
    if (!names)
        cr_skip_test("no conformance folder at %s", EBPFVM_CONFORMANCE_DIR);
    size_t passed = 0, skipped = 0, failed = 0;
    char failures[4096] = "";
    for (size_t i = 0; i < n; i++) {
        char why[512] = "";
        enum outcome o = run_case(EBPFVM_CONFORMANCE_DIR, names[i], jit_flags, why, sizeof why);
        if (o == PASS) {
            passed++;
        } else if (o == SKIPPED) {
            skipped++;
        } else {
            failed++;
            size_t len = strlen(failures);
            snprintf(failures + len, sizeof failures - len, "\n  %s: %s", names[i], why);
        }
        free(names[i]);
    }
    free(names);
    cr_log_info("%s: %zu of %zu passed, %zu skipped, %zu failed", label, passed, n, skipped, failed);
    fprintf(stderr, "%s: %zu of %zu passed, %zu skipped, %zu failed\n", label, passed, n, skipped, failed);
    cr_assert_gt(passed, 0);
    cr_assert_eq(failed, 0, "%s: %zu of %zu conformance files failed:%s", label, failed, n, failures);
}

Test(jit_conformance, every_file_on_the_jit)
{
    every_file(0, "jit conformance");
}

/* The same with constant blinding: every immediate goes through a key. */
Test(jit_conformance, every_file_on_the_blinding_jit)
{
    every_file(EBPFVM_JIT_BLIND, "jit conformance (blinded)");
}

#endif
