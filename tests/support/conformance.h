/*
 * tests/support/conformance.h - a parser for the bpf_conformance suite's
 * .data files (format: /work/shared/conformance/FORMAT.md).
 *
 * Owns: struct conformance_case, one parsed file. Sections read: `-- asm`
 * (kept verbatim for ebpfvm_assemble), `-- raw` (64-bit words, opcode in the
 * low byte), `-- mem` (hex bytes), `-- result` (a 64-bit number), `-- error`
 * (the expected error text). `-- c` and `-- no register offset` are ignored;
 * any other section marks the case unsupported (its name is recorded).
 * Memory is the C library's (tests are not the core); free a case with
 * conformance_case_free().
 */
#ifndef EBPFVM_TESTS_SUPPORT_CONFORMANCE_H
#define EBPFVM_TESTS_SUPPORT_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ebpfvm/isa.h>

struct conformance_case {
    char *asm_text;           /* the `-- asm` section, or NULL */
    struct ebpf_insn *raw;    /* the `-- raw` words, or NULL */
    size_t raw_count;
    uint8_t *mem;             /* the `-- mem` bytes, or NULL */
    size_t mem_size;
    bool has_result;
    uint64_t result;          /* the `-- result` value */
    char *error;              /* the `-- error` text (trimmed), or NULL */
    char unsupported[64];     /* name of an unsupported section, or "" */
};

/* Parse the text of a .data file. Returns 0, or -1 with a reason in err
 * (always NUL terminated when err_size > 0). On failure *out is freed. */
int conformance_parse(const char *text, struct conformance_case *out, char *err, size_t err_size);

/* Read and parse a file. Returns 0 or -1 (reason in err). */
int conformance_load(const char *path, struct conformance_case *out, char *err, size_t err_size);

/* Free what a case owns (the struct itself is the caller's). */
void conformance_case_free(struct conformance_case *c);

/* The instruction word of a raw 64-bit value (opcode in the low byte). */
struct ebpf_insn conformance_word(uint64_t value);

/* Format words as the plugin protocol's program hex ("18 01 00 ..."); returns
 * a malloc'd string or NULL. */
char *conformance_hex(const void *bytes, size_t size);

#endif /* EBPFVM_TESTS_SUPPORT_CONFORMANCE_H */
