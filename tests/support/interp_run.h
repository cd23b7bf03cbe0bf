/*
 * tests/support/interp_run.h - run programs in tests, in both interpreter
 * modes, and compare.
 *
 * interp_run_both() loads a program, runs it once in CHECKED mode and once
 * in FAST mode (with EBPFVM_RUN_ALLOW_UNVERIFIED_FAST), each on its own copy
 * of the memory block, asserts that both succeed with the same r0 and leave
 * the same memory, and returns r0 (the checked run's memory is copied back).
 * Failures are criterion assertions that name the mode and the message.
 */
#ifndef EBPFVM_TESTS_SUPPORT_INTERP_RUN_H
#define EBPFVM_TESTS_SUPPORT_INTERP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <ebpfvm/ebpfvm.h>

#include "insn.h"

/* The helper every interp test vm has: ID 5 returns r1 (the conformance
 * suite's convention). */
#define INTERP_TEST_HELPER_ID 5

/* A new vm with the test helper registered (asserts success). */
ebpfvm_vm *interp_test_vm(void);

/* Load into vm, asserting success (the message is shown on failure). */
ebpfvm_prog *interp_load(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count);

/* Load into a fresh test vm; return the status and copy the vm's message
 * into msg (always NUL-terminated). The program, if loaded, is freed. */
int interp_load_error(const struct ebpf_insn *insns, size_t count, char *msg, size_t msg_size);

/* Run prog once in `mode` (FAST gets the allow-unverified flag). */
int interp_run_mode(const ebpfvm_prog *prog, enum ebpfvm_exec_mode mode, uint64_t budget, void *mem,
                    size_t mem_size, struct ebpfvm_run_result *result);

/* Load into vm (a test vm when NULL), run in both modes, compare, return r0. */
uint64_t interp_run_both(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count, void *mem, size_t mem_size);

/* The words of an inline program, as a compound literal and its length. */
#define INTERP_PROG(...) ((const struct ebpf_insn[]){__VA_ARGS__})
#define INTERP_PROG_LEN(...) (sizeof(INTERP_PROG(__VA_ARGS__)) / sizeof(struct ebpf_insn))

/* r0 of a program given inline, run in both modes with no memory. */
#define INTERP_R0(...) interp_run_both(NULL, INTERP_PROG(__VA_ARGS__), INTERP_PROG_LEN(__VA_ARGS__), NULL, 0)

/* r0 of a program given inline, run in both modes on mem (an array). */
#define INTERP_R0_MEM(mem, ...)                                                                        \
    interp_run_both(NULL, INTERP_PROG(__VA_ARGS__), INTERP_PROG_LEN(__VA_ARGS__), (mem), sizeof(mem))

#endif /* EBPFVM_TESTS_SUPPORT_INTERP_RUN_H */
