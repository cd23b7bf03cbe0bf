/*
 * tests/test_cli.c - the `ebpfvm` command as a user sees it: the built
 * binary is spawned (tests/support/cli_spawn) with its stdout and stderr captured in
 * files, and each test asserts the output, the diagnostics and the exit
 * code of one case: help and version, usage errors (2), missing and
 * truncated files (5), bad programs (3), runtime faults (4) and success on
 * the bundled examples (0), plus asm -> bin -> disasm/exec round trips.
 *
 * Invariant: every test works in its own temporary directory (criterion
 * runs each test in its own process), removed at the end.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cli_assert.h"
#include "cli_spawn.h"

#define EXAMPLES EBPFVM_SOURCE_DIR "/examples/asm"

static char tmpdir[64];

/* Path of `name` inside the test's directory (a static buffer per call site
 * would be overwritten; callers copy or use it at once). */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *name, const void *data, size_t size)
{
    char path[256];
    FILE *f = fopen(tmp_path(name, path, sizeof path), "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static void write_text(const char *name, const char *text)
{
    write_bytes(name, text, strlen(text));
}

/* Run the command with the given arguments (NULL-terminated). */
#define run_cli(r, ...) spawn_cli_list((r), tmpdir, 0, __VA_ARGS__)

static void remove_tree(void)
{
    spawn_tmpdir_remove(tmpdir);
}

static void setup(void)
{
    spawn_tmpdir_create(tmpdir, sizeof tmpdir, "cli");
}

TestSuite(cli, .init = setup, .fini = remove_tree);

/* ----------------------------------------------------- help and version */

Test(cli, help_and_version)
{
    struct spawn_result r;
    run_cli(&r, "--help", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm COMMAND");
    assert_has(r.out, "exec ");
    assert_has(r.out, "disasm ");
    assert_has(r.out, "asm ");
    assert_has(r.out, "2  usage error");
    assert_has(r.out, "3  bad program");
    assert_has(r.out, "4  runtime fault");
    assert_has(r.out, "5  I/O error");
    cr_assert_str_eq(r.err, "");

    run_cli(&r, "--version", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "ebpfvm 0.1.0\n");

    run_cli(&r, "exec", "--help", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm exec FILE");
    assert_has(r.out, "--mem-file PATH");
    assert_has(r.out, "--fast");

    run_cli(&r, "asm", "-h", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm asm FILE [-o OUT]");

    run_cli(&r, "help", "disasm", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "Usage: ebpfvm disasm FILE [--syntax llvm|asm]");
}

/* ------------------------------------------------------- usage errors */

Test(cli, usage_errors_exit_2)
{
    struct spawn_result r;
    run_cli(&r, NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: no command given");
    assert_has(r.err, "Try 'ebpfvm --help'.");

    run_cli(&r, "frobnicate", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: unknown command 'frobnicate'");

    run_cli(&r, "help", "frob", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: unknown command 'frob'");

    run_cli(&r, "--frob", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: unknown option '--frob'");

    run_cli(&r, "exec", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: exec: no program file");
    assert_has(r.err, "Try 'ebpfvm exec --help'.");

    run_cli(&r, "exec", "a.asm", "--bogus", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: exec: unknown option '--bogus'");

    run_cli(&r, "exec", "a.asm", "b.asm", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "more than one program file ('a.asm' and 'b.asm')");

    run_cli(&r, "exec", "a.asm", "--mem", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: exec: option --mem needs a value");

    run_cli(&r, "exec", "a.asm", "--mem", "zz", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--mem: 'z' at offset 0 is not a hex digit");

    run_cli(&r, "exec", "a.asm", "--mem=abc", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--mem: odd number of hex digits");

    run_cli(&r, "exec", "a.asm", "--checked", "--fast", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--checked and --fast exclude each other");

    run_cli(&r, "exec", "a.asm", "--mem", "aa", "--mem-file", "x", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--mem and --mem-file exclude each other");

    run_cli(&r, "exec", "a.asm", "--budget", "0", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--budget needs a positive number, not '0'");

    run_cli(&r, "exec", "a.asm", "--budget", "-5", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "--budget needs a positive number, not '-5'");

    run_cli(&r, "disasm", "a.bin", "--syntax", "intel", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: disasm: unknown syntax 'intel' (expected llvm or asm)");

    run_cli(&r, "asm", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: asm: no input file");

    run_cli(&r, "asm", "a.asm", "-o", NULL);
    assert_exit(r, 2);
    assert_has(r.err, "ebpfvm: asm: option -o needs a value");
    cr_assert_str_eq(r.out, "");
}

/* ------------------------------------------------------------ I/O errors */

Test(cli, missing_file_exits_5)
{
    struct spawn_result r;
    run_cli(&r, "exec", "/nonexistent/prog.asm", NULL);
    assert_exit(r, 5);
    cr_assert_str_eq(r.err, "ebpfvm: /nonexistent/prog.asm: No such file or directory\n");
    cr_assert_str_eq(r.out, "");

    run_cli(&r, "disasm", "/nonexistent/prog.bin", NULL);
    assert_exit(r, 5);
    assert_has(r.err, "ebpfvm: /nonexistent/prog.bin: No such file or directory");

    run_cli(&r, "asm", "/nonexistent/prog.asm", NULL);
    assert_exit(r, 5);
    assert_has(r.err, "ebpfvm: /nonexistent/prog.asm: No such file or directory");

    /* The program is fine, the memory file is missing. */
    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--mem-file", "/nonexistent/mem", NULL);
    assert_exit(r, 5);
    assert_has(r.err, "ebpfvm: /nonexistent/mem: No such file or directory");

    /* A directory is not a program. */
    run_cli(&r, "exec", tmpdir, NULL);
    assert_exit(r, 5);
    assert_has(r.err, tmpdir);
}

Test(cli, truncated_bin_exits_5)
{
    static const unsigned char words[13] = {0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0};
    write_bytes("trunc.bin", words, sizeof words);
    char path[256];
    tmp_path("trunc.bin", path, sizeof path);
    struct spawn_result r;
    run_cli(&r, "exec", path, NULL);
    assert_exit(r, 5);
    char expected[512];
    snprintf(expected, sizeof expected, "ebpfvm: %s: truncated program: 13 bytes is not a multiple of 8\n", path);
    cr_assert_str_eq(r.err, expected);

    run_cli(&r, "disasm", path, NULL);
    assert_exit(r, 5);
    cr_assert_str_eq(r.err, expected);
}

Test(cli, unwritable_output_exits_5)
{
    write_text("p.asm", "mov %r0, 1\nexit\n");
    char path[256];
    struct spawn_result r;
    run_cli(&r, "asm", tmp_path("p.asm", path, sizeof path), "-o", "/nonexistent/dir/p.bin", NULL);
    assert_exit(r, 5);
    assert_has(r.err, "ebpfvm: /nonexistent/dir/p.bin: No such file or directory");
}

/* ----------------------------------------------------------- bad programs */

Test(cli, bad_programs_exit_3)
{
    char path[256];
    char expected[512];
    struct spawn_result r;

    write_text("helper.asm", "mov %r1, 1\ncall 99\nexit\n");
    run_cli(&r, "exec", tmp_path("helper.asm", path, sizeof path), NULL);
    assert_exit(r, 3);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 1: unknown helper 99\n", path);
    cr_assert_str_eq(r.err, expected);
    cr_assert_str_eq(r.out, "");

    write_text("syntax.asm", "mov %r0, 1\nfrobnicate %r0\nexit\n");
    run_cli(&r, "exec", tmp_path("syntax.asm", path, sizeof path), NULL);
    assert_exit(r, 3);
    snprintf(expected, sizeof expected, "ebpfvm: %s: line 2: ", path);
    assert_has(r.err, expected);

    /* asm reports the same assembly error and writes nothing. */
    run_cli(&r, "asm", path, NULL);
    assert_exit(r, 3);
    assert_has(r.err, expected);
    char bin[256];
    struct stat st;
    cr_assert_neq(stat(tmp_path("syntax.bin", bin, sizeof bin), &st), 0);

    static const unsigned char badop[16] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};
    write_bytes("badop.bin", badop, sizeof badop);
    run_cli(&r, "exec", tmp_path("badop.bin", path, sizeof path), NULL);
    assert_exit(r, 3);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 0: unknown opcode 0xff\n", path);
    cr_assert_str_eq(r.err, expected);

    /* No exit at the end: the last instruction falls through. */
    write_text("fall.asm", "mov %r0, 1\n");
    run_cli(&r, "exec", tmp_path("fall.asm", path, sizeof path), NULL);
    assert_exit(r, 3);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 0: ", path);
    assert_has(r.err, expected);

    write_bytes("empty.bin", "", 0);
    run_cli(&r, "exec", tmp_path("empty.bin", path, sizeof path), NULL);
    assert_exit(r, 3);
    snprintf(expected, sizeof expected, "ebpfvm: %s: the program is empty\n", path);
    cr_assert_str_eq(r.err, expected);
}

/* -------------------------------------------------------- runtime faults */

Test(cli, runtime_faults_exit_4)
{
    char path[256];
    char expected[512];
    struct spawn_result r;

    /* A 4-byte read of a 1-byte block. */
    write_text("oob.asm", "mov %r0, 0\nldxw %r0, [%r1+0]\nexit\n");
    run_cli(&r, "exec", tmp_path("oob.asm", path, sizeof path), "--mem", "aa", NULL);
    assert_exit(r, 4);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 1: invalid read of 4 bytes at 0x", path);
    assert_has(r.err, expected);
    assert_has(r.err, "outside the program's memory");
    cr_assert_str_eq(r.out, "");

    /* The same program with enough memory succeeds. */
    run_cli(&r, "exec", path, "--mem", "01 02 03 04", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x4030201 (67305985)\n");

    /* No memory at all: r1 is 0. */
    run_cli(&r, "exec", path, NULL);
    assert_exit(r, 4);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 1: invalid read of 4 bytes at 0x0", path);
    assert_has(r.err, expected);

    /* An endless loop stops at the budget. */
    write_text("loop.asm", "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n");
    run_cli(&r, "exec", tmp_path("loop.asm", path, sizeof path), "--budget", "1000", NULL);
    assert_exit(r, 4);
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn ", path);
    assert_has(r.err, expected);
    assert_has(r.err, "instruction budget of 1000 exhausted");
}

/* -------------------------------------------------------------- success */

Test(cli, exec_examples)
{
    struct spawn_result r;
    run_cli(&r, "exec", EXAMPLES "/ipv4_checksum.asm", "--mem-file", EXAMPLES "/ipv4_header.bin", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0xb861 (47201)\n");
    cr_assert_str_eq(r.err, "");

    run_cli(&r, "exec", EXAMPLES "/fib.asm", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x37 (55)\n");

    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--mem", "5a", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x27f80ddaa1ba7878 (2880067194370816120)\n");

    run_cli(&r, "exec", EXAMPLES "/strlen.asm", "--mem", "68 65 6c 6c 6f 00 21", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x5 (5)\n");

    /* Other spellings of the bytes; an empty block. */
    run_cli(&r, "exec", EXAMPLES "/strlen.asm", "--mem=0x68,0x69,0x00", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x2 (2)\n");
    run_cli(&r, "exec", EXAMPLES "/strlen.asm", "--mem", "", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x0 (0)\n");

    /* Not an IPv4 header: the example returns -1, shown signed. */
    run_cli(&r, "exec", EXAMPLES "/ipv4_checksum.asm", "--mem", "00112233", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0xffffffffffffffff (-1)\n");
}

Test(cli, exec_modes_and_stats)
{
    struct spawn_result r;
    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--fast", NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x37 (55)\n");
    assert_has(r.err, "warning: running an unverified program in fast mode, without memory checks");

    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--checked", "--stats", NULL);
    assert_exit(r, 0);
    /* 4 before the loop, 7 per iteration for 10 iterations, the final
     * test and exit. */
    assert_has(r.out, "r0 = 0x37 (55)\nexecuted: 76 instructions\ntime: ");
    assert_has(r.out, " us (checked mode)\n");

    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--fast", "--stats", NULL);
    assert_exit(r, 0);
    assert_has(r.out, "executed: not counted (fast mode without --budget)\n");
    assert_has(r.out, " us (fast mode)\n");

    /* The budget is exact: 76 instructions fit in 76, not in 75. */
    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--budget=76", NULL);
    assert_exit(r, 0);
    run_cli(&r, "exec", EXAMPLES "/fib.asm", "--budget", "75", NULL);
    assert_exit(r, 4);
    assert_has(r.err, "instruction budget of 75 exhausted");
}

Test(cli, asm_bin_disasm_round_trip)
{
    write_text("p.asm", "# r0 = 1 + 2^32 + 1\nmov %r0, 1\nlddw %r1, 0x100000001\nadd %r0, %r1\nexit\n");
    char asm_path[256], bin_path[256], out_path[256];
    tmp_path("p.asm", asm_path, sizeof asm_path);
    tmp_path("p.bin", bin_path, sizeof bin_path);
    tmp_path("other.bin", out_path, sizeof out_path);
    struct spawn_result r;

    /* Default output: p.asm -> p.bin */
    run_cli(&r, "asm", asm_path, NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "");
    cr_assert_str_eq(r.err, "");
    unsigned char words[64];
    FILE *f = fopen(bin_path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(words, 1, sizeof words, f);
    fclose(f);
    cr_assert_eq(n, 5 * 8);
    static const unsigned char expected_words[40] = {
        0xb7, 0x00, 0, 0, 0x01, 0, 0, 0, /* mov r0, 1 */
        0x18, 0x01, 0, 0, 0x01, 0, 0, 0, /* lddw r1, ... (low half) */
        0x00, 0x00, 0, 0, 0x01, 0, 0, 0, /* (high half) */
        0x0f, 0x10, 0, 0, 0x00, 0, 0, 0, /* add r0, r1 */
        0x95, 0x00, 0, 0, 0x00, 0, 0, 0, /* exit */
    };
    cr_assert_eq(memcmp(words, expected_words, sizeof expected_words), 0);

    run_cli(&r, "asm", asm_path, "-o", out_path, NULL);
    assert_exit(r, 0);
    f = fopen(out_path, "rb");
    cr_assert_not_null(f);
    n = fread(words, 1, sizeof words, f);
    fclose(f);
    cr_assert_eq(n, 40);
    cr_assert_eq(memcmp(words, expected_words, sizeof expected_words), 0);

    /* The raw words run like the text. */
    run_cli(&r, "exec", bin_path, NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x100000002 (4294967298)\n");
    run_cli(&r, "exec", asm_path, NULL);
    assert_exit(r, 0);
    cr_assert_str_eq(r.out, "r0 = 0x100000002 (4294967298)\n");

    /* One line per instruction; the lddw takes indices 1 and 2. */
    run_cli(&r, "disasm", bin_path, NULL);
    assert_exit(r, 0);
    cr_assert(strncmp(r.out, "   0: r0 = 1\n   1: r1 = ", 24) == 0, "%s", r.out);
    assert_has(r.out, "\n   3: r0 += r1\n   4: exit\n");
    cr_assert_null(strstr(r.out, "   2: "));

    run_cli(&r, "disasm", asm_path, "--syntax", "asm", NULL);
    assert_exit(r, 0);
    cr_assert(strncmp(r.out, "   0: mov %r0, 1\n   1: lddw %r1, ", 33) == 0, "%s", r.out);
    assert_has(r.out, "\n   3: add %r0, %r1\n   4: exit\n");
}

Test(cli, disasm_invalid_instruction_exits_3)
{
    static const unsigned char words[24] = {
        0xb7, 0x00, 0, 0, 0x01, 0, 0, 0, /* mov r0, 1 */
        0xff, 0x00, 0, 0, 0x00, 0, 0, 0, /* not an instruction */
        0x95, 0x00, 0, 0, 0x00, 0, 0, 0, /* exit */
    };
    write_bytes("bad.bin", words, sizeof words);
    char path[256], expected[512];
    struct spawn_result r;
    run_cli(&r, "disasm", tmp_path("bad.bin", path, sizeof path), NULL);
    assert_exit(r, 3);
    cr_assert_str_eq(r.out, "   0: r0 = 1\n   1: invalid opcode 0xff\n   2: exit\n");
    snprintf(expected, sizeof expected, "ebpfvm: %s: insn 1: invalid opcode 0xff\n", path);
    cr_assert_str_eq(r.err, expected);
}
