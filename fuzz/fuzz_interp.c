/*
 * fuzz/fuzz_interp.c - fuzz the load-time checks and the checked interpreter.
 *
 * Input layout: the first 64 bytes are the memory block handed to the
 * program (r1/r2), the rest is instruction words. Any input must either be
 * rejected at load with a message or run to completion, a fault or the
 * budget in checked mode: a crash, hang or sanitizer report is a bug.
 *
 * Built three ways from this one file:
 *   - with clang -fsanitize=fuzzer (EBPFVM_FUZZ_LIBFUZZER): libFuzzer;
 *   - otherwise as a plain program taking files on the command line, which is
 *     what AFL++ drives (afl-clang-fast ... then afl-fuzz -- ./fuzz_interp @@)
 *     and what the test suite uses to replay fuzz/corpus/ (every past crash is
 *     kept there as a regression input).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

enum { MEM_SIZE = 64 };

static uint64_t identity_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t mem[MEM_SIZE] = {0};
    if (size < MEM_SIZE)
        return 0;
    memcpy(mem, data, MEM_SIZE);
    size_t nwords = (size - MEM_SIZE) / sizeof(struct ebpf_insn);
    if (nwords == 0)
        return 0;
    struct ebpf_insn *insns = malloc(nwords * sizeof *insns);
    if (!insns)
        return 0;
    memcpy(insns, data + MEM_SIZE, nwords * sizeof *insns);

    ebpfvm_vm *vm = NULL;
    if (ebpfvm_vm_create(NULL, &vm) == 0 &&
        ebpfvm_vm_register_helper(vm, 5, "identity", identity_helper, NULL) == 0) {
        ebpfvm_prog *prog = NULL;
        if (ebpfvm_prog_load(vm, insns, nwords, NULL, &prog) == 0) {
            struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_CHECKED, .insn_budget = 100000};
            struct ebpfvm_run_result result;
            int err = ebpfvm_prog_run(prog, mem, sizeof mem, &opts, &result);
            /* A failed run must say where and why. */
            if (err != 0 && result.message[0] == '\0')
                abort();
        } else if (ebpfvm_vm_errmsg(vm)[0] == '\0') {
            abort(); /* a rejection must carry a message */
        }
    }
    ebpfvm_vm_destroy(vm);
    free(insns);
    return 0;
}

#ifndef EBPFVM_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "fuzz_interp: %s: cannot open\n", argv[i]);
            status = 1;
            continue;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? cap * 2 : 4096;
                uint8_t *nbuf = realloc(buf, cap);
                if (!nbuf)
                    abort();
                buf = nbuf;
            }
            size_t n = fread(buf + len, 1, cap - len, f);
            if (n == 0)
                break;
            len += n;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    return status;
}
#endif
