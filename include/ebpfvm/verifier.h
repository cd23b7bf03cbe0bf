/*
 * ebpfvm/verifier.h - the static verifier: prove a loaded program safe
 * before it runs without runtime checks.
 *
 * A program that ebpfvm_prog_verify() accepts never reads an uninitialised
 * register (nor stack byte, with EBPFVM_VERIFY_STRICT; otherwise such a
 * byte reads as zero or as the same run's earlier data), only accesses
 * memory it was given (its stack, the
 * context fields of its program type, packet bytes proven inside
 * [data, data_end), map values, memory returned by helpers, and for
 * EBPFVM_PROG_TYPE_MEMORY the first mem_size bytes of its buffer), calls
 * helpers only with arguments their prototypes allow (with
 * EBPFVM_VERIFY_STRICT: never stores a pointer outside its stack or
 * returns one), returns a value the program
 * type allows, and ends within 1,000,000 processed instructions. It is
 * then marked verified (ebpfvm_prog_is_verified() returns 1) and
 * EBPFVM_EXEC_AUTO runs it in fast mode.
 *
 * The analysis follows the Linux kernel's verifier (docs/verifier.md): path
 * exploration over abstract register and stack states with pruning, tnums
 * and signed/unsigned 64/32-bit ranges for scalars, and the kernel's
 * messages and log format, so that "R2 invalid mem access 'scalar'" means
 * here what it means there.
 *
 * bpf-to-bpf calls are verified frame by frame (up to EBPF_MAX_CALL_DEPTH
 * frames), and so are bpf_loop's callbacks (ld_imm64 of a function address,
 * EBPFVM_ARG_PTR_TO_FUNC), may_goto loops and the bpf_iter_num kfuncs. Not
 * supported (rejected with EBPFVM_ERR_UNSUPP and a message naming the
 * instruction): callx.
 */
#ifndef EBPFVM_VERIFIER_H
#define EBPFVM_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/ebpfvm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel's BPF_COMPLEXITY_LIMIT_INSNS: instructions processed along
 * all explored paths before the program is called too large. */
#define EBPFVM_VERIFIER_INSN_LIMIT 1000000u

/* Statistics of one verification (ebpfvm_verify_opts.stats). */
struct ebpfvm_verify_stats {
    uint64_t insns_processed;     /* as in the summary line */
    uint32_t total_states;        /* states kept for pruning */
    uint32_t max_states_per_insn;
    uint32_t stack_depth;         /* bytes of stack the program uses */
};

struct ebpfvm_verify_opts {
    size_t sz;          /* sizeof(struct ebpfvm_verify_opts) */
    /* 0: no log. 1: the path that failed (its instructions, each with
     * "; R..." the registers it touched, from the entry and through the
     * "from X to Y:" branch points that led there), the reason, then the
     * summary line "processed N insns (limit 1000000) ...". 2: the same
     * for every path explored (nothing is cut), plus "N: safe" where a
     * path is pruned. See docs/verifier.md for examples. */
    uint32_t log_level;
    /* Optional: the log is copied here, NUL terminated and truncated to
     * log_size - 1 bytes (borrowed for the call only). */
    char *log_buf;
    size_t log_size;
    /* Optional: each log line (without its newline) is passed to log_fn
     * once verification ends, in order. */
    ebpfvm_log_fn log_fn;
    void *log_ud;
    /* EBPFVM_PROG_TYPE_MEMORY: r1 points to a block of this many bytes.
     * 0 rejects every access through r1 ("invalid access to memory,
     * mem_size=0 ..."). The caller must run the program with
     * ctx_size >= mem_size: ebpfvm_prog_run refuses a smaller ctx_size
     * for the verified program (EBPFVM_ERR_INVAL). Ignored for other
     * program types. */
    uint32_t mem_size;
    /* Out (optional, may be NULL): statistics of the run. */
    struct ebpfvm_verify_stats *stats;
    /* EBPFVM_VERIFY_* */
    uint32_t flags;
};

/*
 * By default ebpfvm accepts what Linux accepts from a privileged loader
 * (CAP_BPF + CAP_PERFMON): pointers may be stored into maps, the context,
 * packets and memory, passed to helpers inside stack buffers and returned;
 * uninitialised stack may be read (an unknown scalar: ebpfvm's runtime
 * zeroes each frame's stack when a run first uses it, so such a read sees
 * zeroes or the same run's own earlier data, never the host's); stack
 * accesses may have a bounded variable offset. All of that stays memory
 * safe. With EBPFVM_VERIFY_STRICT those are rejected as Linux rejects them
 * for unprivileged loaders ("R1 leaks addr into map", "invalid read from
 * stack off -8+0 size 8", "R2 variable stack access prohibited ...") - for
 * embedders that must not let a program learn or publish host addresses.
 */
#define EBPFVM_VERIFY_STRICT 0x1u

/*
 * Verify prog (loaded by ebpfvm_prog_load, which already checked the
 * instruction encodings) for its program type. opts may be NULL (no log,
 * mem_size 0).
 *
 * On success returns 0 and marks prog verified; for program types with
 * context fields it makes sure every context access is rewritten into the
 * runtime access (the same rewrite as the load-time pass; patched when the
 * load did not do it). Verify before sharing the program between threads.
 * Verifying a verified program verifies it again (and returns the same).
 *
 * Errors (the vm's message, ebpfvm_vm_errmsg(), says "verifier: insn N:
 * reason" with the kernel's wording, e.g. "verifier: insn 3: R2 invalid mem
 * access 'scalar'"; the log has the same reason as its last line before
 * the summary):
 *   EBPFVM_ERR_INVAL   prog NULL, bad opts->sz, log_buf NULL with log_size;
 *   EBPFVM_ERR_BADPROG the control flow is malformed ("unreachable insn 5",
 *                      "jump out of range from insn 2 to 9", "last insn is
 *                      not an exit or jmp");
 *   EBPFVM_ERR_VERIFY  the program may be unsafe, or its analysis exceeds
 *                      the limits ("BPF program is too large. Processed
 *                      1000001 insn", "infinite loop detected at insn 4");
 *   EBPFVM_ERR_UNSUPP  it uses a feature the verifier does not handle yet;
 *   EBPFVM_ERR_NOMEM   the allocator failed.
 * A failed verification leaves prog unverified (and still runnable in
 * checked mode).
 */
EBPFVM_API int ebpfvm_prog_verify(ebpfvm_prog *prog, const struct ebpfvm_verify_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_VERIFIER_H */
