/*
 * tests/test_cli_verify.c - `ebpfvm verify`: verdicts, logs, JSON, exit
 * codes and usage errors, on clang-built objects (tests/bpf/) and on an
 * assembly example verified as the MEMORY type.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cli_assert.h"
#include "cli_spawn.h"

#define BPF_OBJ(name) EBPFVM_BINARY_DIR "/tests/bpf/" name
#define CHECKSUM_ASM EBPFVM_SOURCE_DIR "/examples/asm/ipv4_checksum.asm"

static char tmpdir[64];
static struct spawn_result res;

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ebpfvm-test-verify-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    rmdir(tmpdir);
}

static void verify(const char *const *argv)
{
    spawn_cli(&res, tmpdir, argv);
}

static bool have_objects(void)
{
    if (access(BPF_OBJ("xdp_drop.o"), R_OK) != 0) {
        cr_skip_test("tests/bpf objects not built (no clang): %s", BPF_OBJ("xdp_drop.o"));
        return false;
    }
    return true;
}

TestSuite(cli_verify, .init = setup, .fini = teardown);

Test(cli_verify, accepts_a_safe_xdp_program)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("xdp_drop.o"), NULL});
    assert_exit(res, 0);
    assert_has(res.out, "xdp_drop.o: xdp/xdp_drop_prog: verified (processed 2 insns");
}

Test(cli_verify, level_two_log_shows_register_states)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("xdp_drop.o"), "--log-level", "2", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "0: R1=ctx() R10=fp0");
    assert_has(res.out, "processed 2 insns (limit 1000000)");
}

/* runner_actions reads a byte past data_end on purpose (a runtime-fault
 * test of the runner): the verifier must say so, name the instruction and
 * the register, and the exit code is 3. The other programs of the object
 * are still verified, and the tc program is skipped with its reason. */
Test(cli_verify, rejects_an_unsafe_program_with_the_kernel_reason)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("runner_actions.o"), NULL});
    assert_exit(res, 3);
    assert_has(res.out, "xdp/runner_actions: rejected: verifier: insn 52: R8 invalid mem access 'pkt_end'");
    assert_has(res.out, "xdp/pass/runner_pass: verified");
    assert_has(res.out, "tc/runner_tc: skipped: no ebpfvm program type for section tc");
    assert_has(res.out, "processed"); /* the level-1 log of the failing path */
}

Test(cli_verify, selection_by_name)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("runner_actions.o"), "-n", "runner_pass", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "xdp/pass/runner_pass: verified");
    cr_assert_null(strstr(res.out, "runner_actions:"), "only the selected program: %s", res.out);

    verify((const char *[]){"verify", BPF_OBJ("xdp_drop.o"), "-n", "nope", NULL});
    assert_exit(res, 3);
    assert_has(res.err, "no program named 'nope' (programs: xdp_drop_prog (section xdp))");
}

Test(cli_verify, json_records)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("runner_actions.o"), "-n", "runner_actions", "--json", NULL});
    assert_exit(res, 3);
    assert_has(res.out, "\"program\":\"runner_actions\",\"section\":\"xdp\",\"verified\":false,");
    assert_has(res.out, "\"error\":\"verifier: insn 52: R8 invalid mem access 'pkt_end'\"");
    assert_has(res.out, "\"log\":\"");
    assert_has(res.out, "invalid mem access 'pkt_end'\\n");
}

/* The MEMORY type: the checksum example reads up to 60 bytes (IHL * 4)
 * through r1, so it is safe only for a block of at least 60 bytes. */
Test(cli_verify, memory_programs_need_a_mem_size)
{
    verify((const char *[]){"verify", CHECKSUM_ASM, "--mem-size", "60", "--log-level", "0", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "ipv4_checksum.asm: program: verified");

    verify((const char *[]){"verify", CHECKSUM_ASM, "--mem-size", "20", NULL});
    assert_exit(res, 3);
    assert_has(res.out, "rejected: verifier: insn 15: invalid access to memory, mem_size=20 off=20 size=2");
}

/* Returning a pointer: allowed as Linux allows root; --strict refuses it. */
Test(cli_verify, strict_rejects_pointer_leaks)
{
    char path[128];
    snprintf(path, sizeof path, "%s/leak.asm", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("mov r0, r10\nexit\n", f);
    fclose(f);
    verify((const char *[]){"verify", path, "--log-level", "0", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "leak.asm: program: verified");
    verify((const char *[]){"verify", path, "--strict", NULL});
    assert_exit(res, 3);
    assert_has(res.out, "rejected: verifier: insn 1: R0 leaks addr as return value");
    unlink(path);
}

/* LD_ABS in a subprogram: allowed where BTF says it returns an integer,
 * refused where it returns void (the kernel's rule). */
Test(cli_verify, ld_abs_in_subprograms_follows_btf)
{
    if (!have_objects())
        return;
    verify((const char *[]){"verify", BPF_OBJ("ld_abs_subprog.o"), "-n", "int_subprog", "--log-level", "0", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "socket/int_subprog: verified");
    verify((const char *[]){"verify", BPF_OBJ("ld_abs_subprog.o"), "-n", "void_subprog", NULL});
    assert_exit(res, 3);
    assert_has(res.out, "rejected: verifier: insn 4: LD_ABS is only allowed in functions that return 'int'.");
}

Test(cli_verify, usage_and_io_errors)
{
    verify((const char *[]){"verify", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "no program file");

    verify((const char *[]){"verify", CHECKSUM_ASM, "--log-level", "3", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "--log-level must be 0, 1 or 2, not '3'");

    verify((const char *[]){"verify", CHECKSUM_ASM, "--mem-size", "lots", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "--mem-size must be a number of bytes below 2^32, not 'lots'");

    verify((const char *[]){"verify", CHECKSUM_ASM, "-s", "xdp", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "-s/-n select programs of an ELF object");

    verify((const char *[]){"verify", CHECKSUM_ASM, "--frobnicate", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "unknown option '--frobnicate'");

    verify((const char *[]){"verify", "a.o", "b.o", NULL});
    assert_exit(res, 2);
    assert_has(res.err, "more than one program file ('a.o' and 'b.o')");

    verify((const char *[]){"verify", "/nonexistent/prog.o", NULL});
    assert_exit(res, 5);
    assert_has(res.err, "/nonexistent/prog.o");
}

Test(cli_verify, help)
{
    verify((const char *[]){"verify", "--help", NULL});
    assert_exit(res, 0);
    assert_has(res.out, "Usage: ebpfvm verify PROG");
}
