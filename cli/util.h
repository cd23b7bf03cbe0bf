/*
 * cli/util.h - what the `ebpfvm` command's subcommands share: exit codes,
 * diagnostics, file I/O, loading a program's words from a file, and small
 * argument parsers.
 *
 * Owns: the exit-code contract of the command (documented in --help too):
 *   0 success, 1 internal error (out of memory), 2 usage error,
 *   3 bad program (assembly, load or verify failure),
 *   4 runtime fault (checked-mode fault, helper fault, budget exhausted),
 *   5 I/O error (missing or unreadable file, .bin size not a multiple of 8).
 * Diagnostics go to stderr as "ebpfvm: FILE: MESSAGE"; results to stdout.
 * Memory here is the C library's (the CLI is not the core).
 */
#ifndef EBPFVM_CLI_UTIL_H
#define EBPFVM_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <ebpfvm/ebpfvm.h>

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_INTERNAL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_BADPROG = 3,
    CLI_EXIT_FAULT = 4,
    CLI_EXIT_IO = 5
};

/* Print "ebpfvm: " + the formatted message + newline to stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* A usage error for `cmd` (NULL: the top level): the message, then a hint
 * to run --help. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Read a whole file into a malloc'd buffer with a NUL byte after the data
 * (not counted in *size). Returns 0 or CLI_EXIT_IO / CLI_EXIT_INTERNAL,
 * having printed why. */
int cli_read_file(const char *path, uint8_t **data, size_t *size);

/* Write size bytes to path (created or truncated). 0 or CLI_EXIT_IO. */
int cli_write_file(const char *path, const void *data, size_t size);

/* Whether path names assembly text (ends in ".asm" or ".s"). */
int cli_is_asm_path(const char *path);

/* How to read a program file. */
enum cli_input {
    CLI_INPUT_AUTO = 0, /* assembly text if cli_is_asm_path(), else raw words */
    CLI_INPUT_ASM,      /* assembly text */
    CLI_INPUT_BIN       /* raw little-endian 8-byte words */
};

/*
 * The instruction words of a program file: assembly text (assembled with
 * ebpfvm_assemble on vm) or raw little-endian words. *insns is malloc'd
 * (non-NULL on success, *count may be 0). Returns 0 or an exit code, having
 * printed "ebpfvm: PATH: reason".
 */
int cli_load_words(ebpfvm_vm *vm, const char *path, enum cli_input input, struct ebpf_insn **insns,
                   size_t *count);

/* As cli_load_words, with a vm of its own for the assembler (asm and disasm
 * need none otherwise). */
int cli_read_words(const char *path, enum cli_input input, struct ebpf_insn **insns, size_t *count);

/* The exit code for a library status of a load (3 for program errors). */
int cli_exit_for_load(int status);

/* Print "ebpfvm: PATH: <vm's message or the status string>". */
void cli_report_vm_error(const char *path, ebpfvm_vm *vm, int status);

/* Parse a decimal or 0x-hex unsigned 64-bit number (whole string). 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Parse hex bytes ("aa bb 11", "aabb11", "0xaa,0xbb" separators ignored)
 * into a malloc'd buffer. 0, or -1 with *bad pointing at the offending
 * character (an odd digit count points at the end). */
int cli_parse_hex(const char *s, uint8_t **out, size_t *size, const char **bad);

/*
 * Option scanning for subcommands: argv[*i] is the option; if it is `name`
 * (exact) or `name=VALUE`, store VALUE (the next argument in the first case,
 * advancing *i) in *value and return 1; return 0 if it is another option;
 * return -1 (after printing a usage error) if the value is missing.
 */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value);

/* ------------------------------------------------------ subcommands */

/* Each takes the arguments after its name (argv[0] is the command name)
 * and returns an exit code. cli/cmd_code.c: asm, disasm; cli/cmd_exec.c:
 * exec. The *_help functions print the command's --help text to stdout. */
int cli_cmd_asm(int argc, char **argv);
int cli_cmd_disasm(int argc, char **argv);
int cli_cmd_exec(int argc, char **argv);
void cli_help_asm(void);
void cli_help_disasm(void);
void cli_help_exec(void);

#endif /* EBPFVM_CLI_UTIL_H */
