/*
 * cli/cmd_code.c - `ebpfvm asm` (assembly text to raw words) and
 * `ebpfvm disasm` (raw words or text to one line per instruction).
 *
 * Invariant: both go through the library's own assembler and disassembler
 * (ebpfvm_assemble, ebpfvm_disasm_insn); nothing here knows an opcode.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"

void cli_help_asm(void)
{
    fputs("Usage: ebpfvm asm FILE [-o OUT]\n"
          "\n"
          "Assemble FILE, written in the conformance suite's mnemonic syntax\n"
          "(`mov %r0, 1`, `ldxw %r0, [%r1+4]`, `jne %r0, 0, label`, `# comment`),\n"
          "into raw little-endian 8-byte instruction words.\n"
          "\n"
          "Options:\n"
          "  -o, --output OUT  write the words to OUT (default: FILE with its\n"
          "                    .asm/.s extension replaced by .bin)\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 ok, 2 usage error, 3 assembly error (\"FILE: line N: ...\"),\n"
          "5 I/O error.\n",
          stdout);
}

void cli_help_disasm(void)
{
    fputs("Usage: ebpfvm disasm FILE [--syntax llvm|asm]\n"
          "\n"
          "Print one line per instruction, `INDEX: TEXT` like llvm-objdump; an\n"
          "LD_IMM64 uses two indices. FILE is raw little-endian words, or assembly\n"
          "text when it ends in .asm or .s (assembled first).\n"
          "\n"
          "Options:\n"
          "  --syntax llvm  llvm-objdump / verifier-log syntax: r0 = *(u32 *)(r1 + 4)\n"
          "                 (default)\n"
          "  --syntax asm   the conformance suite's mnemonics: ldxw %r0, [%r1+4]\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 ok, 2 usage error, 3 an invalid instruction (the listing\n"
          "still shows it as \"invalid opcode 0x..\"), 5 I/O error.\n",
          stdout);
}

/* FILE.asm -> FILE.bin; any other name gets ".bin" appended. */
static char *default_output(const char *in)
{
    size_t n = strlen(in);
    if (n >= 4 && strcmp(in + n - 4, ".asm") == 0)
        n -= 4;
    else if (n >= 2 && strcmp(in + n - 2, ".s") == 0)
        n -= 2;
    char *out = malloc(n + 5);
    if (out) {
        memcpy(out, in, n);
        memcpy(out + n, ".bin", 5);
    }
    return out;
}

int cli_cmd_asm(int argc, char **argv)
{
    const char *input = NULL, *output = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_asm();
            return CLI_EXIT_OK;
        }
        if ((r = cli_opt_value("asm", argc, argv, &i, "-o", &output)) != 0 ||
            (r = cli_opt_value("asm", argc, argv, &i, "--output", &output)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error("asm", "unknown option '%s'", arg);
        if (input)
            return cli_usage_error("asm", "more than one input file ('%s' and '%s')", input, arg);
        input = arg;
    }
    if (!input)
        return cli_usage_error("asm", "no input file");

    struct ebpf_insn *insns;
    size_t count;
    int rc = cli_read_words(input, CLI_INPUT_ASM, &insns, &count);
    if (rc)
        return rc;
    char *owned = NULL;
    if (!output) {
        owned = default_output(input);
        if (!owned) {
            free(insns);
            cli_error("out of memory");
            return CLI_EXIT_INTERNAL;
        }
        output = owned;
    }
    rc = cli_write_file(output, insns, count * sizeof *insns);
    free(insns);
    free(owned);
    return rc;
}

int cli_cmd_disasm(int argc, char **argv)
{
    const char *input = NULL, *syntax_name = "llvm";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_disasm();
            return CLI_EXIT_OK;
        }
        if ((r = cli_opt_value("disasm", argc, argv, &i, "--syntax", &syntax_name)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error("disasm", "unknown option '%s'", arg);
        if (input)
            return cli_usage_error("disasm", "more than one input file ('%s' and '%s')", input, arg);
        input = arg;
    }
    enum ebpfvm_disasm_syntax syntax;
    if (strcmp(syntax_name, "llvm") == 0)
        syntax = EBPFVM_SYNTAX_LLVM;
    else if (strcmp(syntax_name, "asm") == 0)
        syntax = EBPFVM_SYNTAX_ASM;
    else
        return cli_usage_error("disasm", "unknown syntax '%s' (expected llvm or asm)", syntax_name);
    if (!input)
        return cli_usage_error("disasm", "no input file");

    struct ebpf_insn *insns;
    size_t count;
    int rc = cli_read_words(input, CLI_INPUT_AUTO, &insns, &count);
    if (rc)
        return rc;

    char line[256], bad_text[256] = "";
    size_t first_bad = count;
    for (size_t pc = 0; pc < count;) {
        int used = ebpfvm_disasm_insn(insns, count, pc, syntax, NULL, NULL, line, sizeof line);
        printf("%4zu: %s\n", pc, line);
        if (used < 0) {
            if (first_bad == count) {
                first_bad = pc;
                snprintf(bad_text, sizeof bad_text, "%s", line[0] ? line : ebpfvm_strerror(used));
                rc = CLI_EXIT_BADPROG;
            }
            used = 1;
        }
        pc += (size_t)used;
    }
    if (rc)
        cli_error("%s: insn %zu: %s", input, first_bad, bad_text);
    free(insns);
    return rc;
}
