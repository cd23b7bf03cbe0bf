/*
 * tests/test_verifier_calls.c - the static stack-depth check over the call
 * graph (the kernel's check_max_stack_depth): after exploration, every
 * chain of bpf-to-bpf calls from the main program, dead calls included,
 * must fit its frames' stacks (each subprogram's deepest access, rounded
 * up to 16) in 512 bytes and be at most 8 frames deep.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"
#include "verify_xdp.h"

#define XDP EBPFVM_PROG_TYPE_XDP

static char vlog[1 << 20];

struct outcome {
    int status;
    char msg[512];
    uint32_t stack_depth;
};

static struct outcome verify(const struct ebpf_insn *insns, size_t n)
{
    struct verify_outcome v = verify_xdp_prog(insns, n, 1, vlog, sizeof vlog);
    struct outcome out = {v.status, "", v.stats.stack_depth};
    memcpy(out.msg, v.msg, sizeof out.msg);
    return out;
}

static void expect_reject(const struct ebpf_insn *insns, size_t n, const char *text)
{
    struct outcome o = verify(insns, n);
    cr_assert_eq(o.status, EBPFVM_ERR_VERIFY, "status %d (%s)\nlog:\n%s", o.status, o.msg, vlog);
    cr_assert(strstr(o.msg, text), "message '%s' lacks '%s'\nlog:\n%s", o.msg, text, vlog);
    cr_assert(strstr(vlog, text), "log lacks '%s':\n%s", text, vlog);
}

static void expect_accept(const struct ebpf_insn *insns, size_t n)
{
    struct outcome o = verify(insns, n);
    cr_assert_eq(o.status, 0, "rejected: %s\nlog:\n%s", o.msg, vlog);
}

#define REJECT(text, ...)                                                                                      \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_reject(p_, EBPF_NWORDS(p_), text);                                                              \
    } while (0)
#define ACCEPT(...)                                                                                            \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_accept(p_, EBPF_NWORDS(p_));                                                                    \
    } while (0)

#define STB(off) EBPF_ST_MEM(EBPF_SIZE_B, 10, off, 0)

/* 304 + 304 bytes (300 rounded up to 8, then 16): too much for one chain,
 * whether the caller touches its stack before or after the call. */
Test(verifier_calls, two_frames_of_300_bytes)
{
    REJECT("combined stack size of 2 calls is 608. Too large", STB(-300), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           STB(-300), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT("combined stack size of 2 calls is 608. Too large", EBPF_CALL_LOCAL(2), STB(-300), EBPF_EXIT(),
           STB(-300), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* 256 + 256 fits exactly. */
    ACCEPT(STB(-256), EBPF_CALL_LOCAL(1), EBPF_EXIT(), STB(-256), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* A chain of 9 static calls, main -> A -> ... -> I, A's call to B dead:
 * the static walk stops at its 8th call (frame index 8), with the kernel's
 * words ("8 frames": it prints the index of the frame, not the count). */
Test(verifier_calls, dead_call_chain_too_deep)
{
    REJECT("the call stack of 8 frames is too deep !", EBPF_MOV64_IMM(1, 0), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* A */
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 1), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* B .. H */
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* I */
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* The kernel's own case: 8 calls (main .. H) already fail. */
    REJECT("the call stack of 8 frames is too deep !", EBPF_MOV64_IMM(1, 0), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* A */
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 1), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* B .. G */
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* H */
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* 7 calls, 8 frames (main .. G): they fit. */
    ACCEPT(EBPF_MOV64_IMM(1, 0), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* A */
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 1), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* B .. F */
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           /* G */
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* A live chain of 9 calls: exploration reaches the 9th frame first. */
Test(verifier_calls, live_call_chain_too_deep)
{
    REJECT("the call stack of 9 frames is too deep", EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1),
           EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1),
           EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1),
           EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* Recursion in dead code: the walk follows it until 8 frames. */
Test(verifier_calls, dead_recursion)
{
    REJECT("the call stack of 8 frames is too deep !", EBPF_MOV64_IMM(1, 0), EBPF_CALL_LOCAL(1), EBPF_EXIT(),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 1), EBPF_CALL_LOCAL(-2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* main (32) calls A (256) and B (64), B calls A: max(32 + 256,
 * 32 + 64 + 256) fits; three frames, legal. */
Test(verifier_calls, three_frames_accepted)
{
    ACCEPT(EBPF_CALL_LOCAL(4), EBPF_CALL_LOCAL(5), STB(-32), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* A */
           STB(-256), EBPF_EXIT(),
           /* B */
           EBPF_CALL_LOCAL(-3), STB(-64), EBPF_EXIT());
}

/* main (64) -> B (256) -> A (224), A's store only on a path B does not
 * take when calling it: the depth is per subprogram, over all paths. */
Test(verifier_calls, three_frames_too_large)
{
    REJECT("combined stack size of 3 calls is 544. Too large", EBPF_MOV64_REG(6, 1), EBPF_CALL_LOCAL(6),
           EBPF_MOV64_REG(1, 6), EBPF_CALL_LOCAL(8), EBPF_JMP_IMM(EBPF_JMP_JGE, 6, 0, 1), STB(-64),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* A */
           EBPF_JMP_IMM(EBPF_JMP_JLT, 1, 10, 1), EBPF_EXIT(), STB(-224), EBPF_JA(-3),
           /* B */
           EBPF_JMP_IMM(EBPF_JMP_JGT, 1, 2, 1), EBPF_CALL_LOCAL(-6), STB(-256), EBPF_EXIT());
}

/* A callee's access through a pointer into its caller's stack counts for
 * the caller: main 400 (written by the callee), callee 200 -> 208. */
Test(verifier_calls, access_through_caller_pointer)
{
    REJECT("combined stack size of 2 calls is 608. Too large", EBPF_MOV64_REG(1, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -400), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* sub */
           EBPF_ST_MEM(EBPF_SIZE_B, 1, 0, 0), STB(-200), EBPF_EXIT());
    /* Only 296 in main: fits. */
    ACCEPT(EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -296), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT(),
           /* sub */
           EBPF_ST_MEM(EBPF_SIZE_B, 1, 0, 0), STB(-200), EBPF_EXIT());
}

/* A load from the stack counts as much as a store. */
Test(verifier_calls, loads_count)
{
    REJECT("combined stack size of 2 calls is 608. Too large", STB(-300), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 10, -300),
           EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_ST_MEM(EBPF_SIZE_W, 10, -300, 0),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 10, -300), EBPF_EXIT());
}

/* A helper's memory argument on the stack counts from its start: a map
 * key at fp-400 in main (uninitialised: read as a privileged loader may),
 * 128 in the callee. */
Test(verifier_calls, helper_memory_argument)
{
    REJECT("combined stack size of 2 calls is 528. Too large", EBPF_LD_MAP_FD(1, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -400),
           EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           /* sub */
           STB(-128), EBPF_EXIT());
}
