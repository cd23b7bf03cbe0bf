/*
 * tests/support/alloc_fail.h - a test allocator (an ebpfvm_alloc_fn) that
 * fails on demand and keeps books, in the spirit of Lua's ltests.c.
 *
 * Owns: struct alloc_fail, the allocator's state. Pass the allocator as
 * opts.alloc and the state as opts.alloc_ud.
 *
 * Invariants:
 *   - every call that asks for memory (new_size > 0) is one "allocation",
 *     numbered 1, 2, ...; allocation number fail_at (when not 0) returns
 *     NULL and leaves the block it was asked to resize untouched;
 *   - live_blocks / live_bytes count what has been handed out and not yet
 *     freed, using the old_size the library passes back on free, so a wrong
 *     old_size or a double free shows up as a mismatch (bad_frees).
 */
#ifndef EBPFVM_TESTS_SUPPORT_ALLOC_FAIL_H
#define EBPFVM_TESTS_SUPPORT_ALLOC_FAIL_H

#include <stddef.h>

struct alloc_fail {
    size_t fail_at;     /* 1-based allocation number to fail; 0: never fail */
    size_t nallocs;     /* allocations requested so far (including the failed one) */
    size_t nfailed;     /* allocations that returned NULL */
    size_t live_blocks; /* blocks handed out and not freed */
    size_t live_bytes;  /* their total size */
    size_t bad_frees;   /* frees whose old_size did not match, or of more than was live */
};

/* Reset the books; fail allocation number fail_at (0: none). */
void alloc_fail_init(struct alloc_fail *af, size_t fail_at);

/* The allocator hook (ud is a struct alloc_fail *). */
void *alloc_fail_alloc(void *ud, void *ptr, size_t old_size, size_t new_size);

#endif /* EBPFVM_TESTS_SUPPORT_ALLOC_FAIL_H */
