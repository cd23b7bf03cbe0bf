/*
 * tests/support/interp_run.c - see interp_run.h. Owns the test vm setup and
 * the both-modes runner shared by the interpreter tests.
 */
#include "interp_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

static uint64_t identity_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

ebpfvm_vm *interp_test_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, INTERP_TEST_HELPER_ID, "identity", identity_helper, NULL), 0);
    return vm;
}

ebpfvm_prog *interp_load(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count)
{
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    cr_assert_eq(err, 0, "load failed (%d): %s", err, ebpfvm_vm_errmsg(vm));
    return prog;
}

int interp_load_error(const struct ebpf_insn *insns, size_t count, char *msg, size_t msg_size)
{
    ebpfvm_vm *vm = interp_test_vm();
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    snprintf(msg, msg_size, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
    return err;
}

int interp_run_mode(const ebpfvm_prog *prog, enum ebpfvm_exec_mode mode, uint64_t budget, void *mem,
                    size_t mem_size, struct ebpfvm_run_result *result)
{
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = mode, .insn_budget = budget};
    if (mode == EBPFVM_EXEC_FAST)
        opts.flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    return ebpfvm_prog_run(prog, mem, mem_size, &opts, result);
}

uint64_t interp_run_both(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count, void *mem, size_t mem_size)
{
    ebpfvm_vm *own = NULL;
    if (!vm)
        vm = own = interp_test_vm();
    ebpfvm_prog *prog = interp_load(vm, insns, count);

    /* Each mode runs on its own copy; 8-byte alignment as a C object would have. */
    size_t words = (mem_size + 7) / 8 + 1;
    uint64_t *checked_mem = calloc(words, 8), *fast_mem = calloc(words, 8);
    cr_assert(checked_mem && fast_mem);
    if (mem_size)
        memcpy(checked_mem, mem, mem_size), memcpy(fast_mem, mem, mem_size);

    struct ebpfvm_run_result checked, fast;
    int checked_err = interp_run_mode(prog, EBPFVM_EXEC_CHECKED, 0, mem_size ? checked_mem : NULL, mem_size,
                                      &checked);
    cr_assert_eq(checked_err, 0, "checked run failed (%d): %s", checked_err, checked.message);
    int fast_err = interp_run_mode(prog, EBPFVM_EXEC_FAST, 0, mem_size ? fast_mem : NULL, mem_size, &fast);
    cr_assert_eq(fast_err, 0, "fast run failed (%d): %s", fast_err, fast.message);
    cr_assert_eq(checked.r0, fast.r0, "checked r0 0x%llx != fast r0 0x%llx", (unsigned long long)checked.r0,
                 (unsigned long long)fast.r0);
    cr_assert(mem_size == 0 || memcmp(checked_mem, fast_mem, mem_size) == 0,
              "checked and fast runs left different memory");
    cr_assert_gt(checked.insns_executed, 0);

    /* A fast run with a budget takes the counting loop: same answer. */
    struct ebpfvm_run_result budgeted;
    if (mem_size)
        memcpy(fast_mem, mem, mem_size);
    int budget_err = interp_run_mode(prog, EBPFVM_EXEC_FAST, EBPFVM_DEFAULT_BUDGET, mem_size ? fast_mem : NULL,
                                     mem_size, &budgeted);
    cr_assert_eq(budget_err, 0, "budgeted fast run failed (%d): %s", budget_err, budgeted.message);
    cr_assert_eq(budgeted.r0, checked.r0);
    cr_assert_eq(budgeted.insns_executed, checked.insns_executed);

    if (mem_size)
        memcpy(mem, checked_mem, mem_size);
    free(checked_mem);
    free(fast_mem);
    ebpfvm_prog_destroy(prog);
    ebpfvm_vm_destroy(own);
    return checked.r0;
}
