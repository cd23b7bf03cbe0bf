/*
 * tests/support/verify_xdp.h - verify a bytecode program as XDP in a fresh
 * vm (the standard helpers; map fd 0: an array of 4 entries of 8 bytes),
 * for the verifier tests that need the verdict, the message, the log and
 * the statistics of one program.
 */
#ifndef EBPFVM_TESTS_SUPPORT_VERIFY_XDP_H
#define EBPFVM_TESTS_SUPPORT_VERIFY_XDP_H

#include <stddef.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>

struct verify_outcome {
    int status;     /* of ebpfvm_prog_verify */
    char msg[512];  /* the vm's message after it */
    struct ebpfvm_verify_stats stats;
};

/* Load (asserting success) and verify with the log at log_level into
 * log[log_size]; asserts that the program is marked verified exactly when
 * the status is 0. */
struct verify_outcome verify_xdp_prog(const struct ebpf_insn *insns, size_t n, uint32_t log_level, char *log,
                                      size_t log_size);

#endif
