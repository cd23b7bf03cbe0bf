/*
 * tests/test_conformance.c - the bpf_conformance suite, run by the project
 * itself: every .data file in EBPFVM_CONFORMANCE_DIR is parsed
 * (tests/support/conformance.c), assembled (or taken from -- raw), loaded
 * with helper 5 returning r1, and run in the CHECKED interpreter and in
 * FAST mode (EBPFVM_RUN_ALLOW_UNVERIFIED_FAST); r0 must equal -- result.
 * Also: asm -> words -> disasm(ASM) -> asm gives identical words for every
 * program, disasm(LLVM) succeeds on every instruction, the .data parser's
 * own behaviour and errors, and the ebpfvm-conformance-plugin executable
 * spoken to over its protocol.
 *
 * When the folder is absent the suite tests skip, saying so.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ebpfvm/ebpfvm.h>

#include "conformance.h"

#define PLUGIN_PATH EBPFVM_BINARY_DIR "/cli/ebpfvm-conformance-plugin"

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted file names (not paths) of the *.data files, or NULL when the
 * folder cannot be opened (the caller skips). */
static char **list_data_files(size_t *count)
{
    DIR *dir = opendir(EBPFVM_CONFORMANCE_DIR);
    if (!dir)
        return NULL;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".data") != 0)
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        cr_assert_not_null(grown);
        names = grown;
        names[n] = strdup(e->d_name);
        cr_assert_not_null(names[n]);
        n++;
    }
    closedir(dir);
    qsort(names, n, sizeof *names, compare_names);
    *count = n;
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char **require_data_files(size_t *count)
{
    char **names = list_data_files(count);
    if (!names || *count == 0) {
        free(names);
        cr_skip_test("conformance folder %s is absent or empty (configure with -DEBPFVM_CONFORMANCE_DIR=...)",
                     EBPFVM_CONFORMANCE_DIR);
    }
    return names;
}

static void load_case(const char *name, struct conformance_case *c)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", EBPFVM_CONFORMANCE_DIR, name);
    cr_assert_eq(conformance_load(path, c, err, sizeof err), 0, "%s: %s", name, err);
}

static ebpfvm_vm *conformance_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 5, "conformance_identity", helper_identity, NULL), 0);
    return vm;
}

/* Run a parsed case. Returns 1 on pass, 0 on failure (why says what),
 * -1 when the case is unsupported. */
static int run_case(const struct conformance_case *c, char *why, size_t why_size)
{
    if (c->unsupported[0]) {
        snprintf(why, why_size, "unsupported section '%s'", c->unsupported);
        return -1;
    }
    ebpfvm_vm *vm = conformance_vm();
    struct ebpf_insn *words = NULL;
    const struct ebpf_insn *insns = c->raw;
    size_t count = c->raw_count;
    int status = 0;
    char got_error[512] = "";
    int pass = 0;
    ebpfvm_prog *prog = NULL;

    if (!insns) {
        status = ebpfvm_assemble(vm, c->asm_text, &words, &count);
        insns = words;
        if (status) {
            snprintf(got_error, sizeof got_error, "%s", ebpfvm_vm_errmsg(vm));
            snprintf(why, why_size, "assemble: %s", got_error);
            goto done;
        }
    }
    status = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    if (status) {
        snprintf(got_error, sizeof got_error, "%s", ebpfvm_vm_errmsg(vm));
        snprintf(why, why_size, "load: %s", got_error);
        goto done;
    }
    static const struct {
        enum ebpfvm_exec_mode mode;
        uint32_t flags;
        const char *name;
    } modes[] = {
        {EBPFVM_EXEC_CHECKED, 0, "checked"},
        {EBPFVM_EXEC_FAST, EBPFVM_RUN_ALLOW_UNVERIFIED_FAST, "fast"},
    };
    pass = 1;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0] && pass; m++) {
        uint8_t *mem = NULL;
        if (c->mem_size) {
            mem = malloc(c->mem_size);
            cr_assert_not_null(mem);
            memcpy(mem, c->mem, c->mem_size);
        }
        struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = modes[m].mode, .flags = modes[m].flags};
        struct ebpfvm_run_result result;
        status = ebpfvm_prog_run(prog, mem, c->mem_size, &opts, &result);
        free(mem);
        if (status) {
            snprintf(got_error, sizeof got_error, "%s", result.message);
            snprintf(why, why_size, "%s run: %s (%s)", modes[m].name, result.message, ebpfvm_strerror(status));
            pass = 0;
        } else if (c->error) {
            snprintf(why, why_size, "%s run: expected error '%s', got r0 0x%llx", modes[m].name, c->error,
                     (unsigned long long)result.r0);
            pass = 0;
        } else if (result.r0 != c->result) {
            snprintf(why, why_size, "%s run: expected r0 0x%llx, got 0x%llx", modes[m].name,
                     (unsigned long long)c->result, (unsigned long long)result.r0);
            pass = 0;
        }
    }
done:
    if (!pass && c->error && got_error[0])
        pass = strcmp(got_error, c->error) == 0;
    ebpfvm_free(vm, words);
    ebpfvm_vm_destroy(vm);
    return pass;
}

Test(conformance, every_data_file_passes_in_both_modes)
{
    size_t n = 0;
    char **names = require_data_files(&n);
    size_t passed = 0, skipped = 0;
    char failures[8192] = "";
    size_t flen = 0;
    for (size_t i = 0; i < n; i++) {
        struct conformance_case c;
        load_case(names[i], &c);
        char why[600] = "";
        int r = run_case(&c, why, sizeof why);
        conformance_case_free(&c);
        if (r > 0) {
            passed++;
        } else if (r < 0) {
            skipped++;
            printf("conformance: skip %s: %s\n", names[i], why);
        } else {
            printf("conformance: FAIL %s: %s\n", names[i], why);
            if (flen < sizeof failures - 1) {
                int w = snprintf(failures + flen, sizeof failures - flen, " %s", names[i]);
                if (w > 0)
                    flen += (size_t)w;
            }
        }
    }
    printf("conformance: %zu/%zu passed", passed, n);
    if (skipped)
        printf(" (%zu skipped as unsupported)", skipped);
    printf("\n");
    fflush(stdout);
    cr_expect_eq(passed + skipped, n, "conformance: %zu/%zu passed; failing:%s", passed, n, failures);
    free_names(names, n);
}

/* Disassemble every instruction of insns in ASM syntax, one per line. */
static char *disasm_program(const struct ebpf_insn *insns, size_t count, const char *name)
{
    size_t cap = count * 80 + 1, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    text[0] = '\0';
    for (size_t pc = 0; pc < count;) {
        char line[128];
        int words = ebpfvm_disasm_insn(insns, count, pc, EBPFVM_SYNTAX_ASM, NULL, NULL, line, sizeof line);
        cr_assert_gt(words, 0, "%s: insn %zu: disasm failed: %s", name, pc, line);
        len += (size_t)snprintf(text + len, cap - len, "%s\n", line);
        cr_assert_lt(len, cap);
        pc += (size_t)words;
    }
    return text;
}

Test(conformance, asm_disasm_asm_round_trip_is_identical)
{
    size_t n = 0;
    char **names = require_data_files(&n);
    ebpfvm_vm *vm = conformance_vm();
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        struct conformance_case c;
        load_case(names[i], &c);
        if (!c.asm_text) {
            conformance_case_free(&c);
            continue;
        }
        struct ebpf_insn *first = NULL, *second = NULL;
        size_t count1 = 0, count2 = 0;
        cr_assert_eq(ebpfvm_assemble(vm, c.asm_text, &first, &count1), 0, "%s: %s", names[i], ebpfvm_vm_errmsg(vm));
        char *text = disasm_program(first, count1, names[i]);
        cr_assert_eq(ebpfvm_assemble(vm, text, &second, &count2), 0, "%s: reassembling:\n%s\n%s", names[i],
                     ebpfvm_vm_errmsg(vm), text);
        cr_assert_eq(count2, count1, "%s: %zu words, then %zu", names[i], count1, count2);
        for (size_t w = 0; w < count1; w++)
            cr_assert_eq(memcmp(&first[w], &second[w], sizeof first[w]), 0, "%s: word %zu differs after:\n%s",
                         names[i], w, text);
        if (c.raw) { /* both sections: the assembler must produce the raw words */
            cr_assert_eq(c.raw_count, count1, "%s: asm gives %zu words, raw has %zu", names[i], count1, c.raw_count);
            cr_assert_eq(memcmp(c.raw, first, count1 * sizeof *first), 0, "%s: asm and raw differ", names[i]);
        }
        free(text);
        ebpfvm_free(vm, first);
        ebpfvm_free(vm, second);
        conformance_case_free(&c);
        checked++;
    }
    cr_assert_eq(checked, n, "every conformance file has an asm section");
    ebpfvm_vm_destroy(vm);
    free_names(names, n);
}

Test(conformance, llvm_disasm_accepts_every_instruction)
{
    size_t n = 0;
    char **names = require_data_files(&n);
    ebpfvm_vm *vm = conformance_vm();
    for (size_t i = 0; i < n; i++) {
        struct conformance_case c;
        load_case(names[i], &c);
        struct ebpf_insn *insns = NULL;
        size_t count = 0;
        cr_assert_eq(ebpfvm_assemble(vm, c.asm_text, &insns, &count), 0, "%s: %s", names[i], ebpfvm_vm_errmsg(vm));
        for (size_t pc = 0; pc < count;) {
            char line[128];
            int words = ebpfvm_disasm_insn(insns, count, pc, EBPFVM_SYNTAX_LLVM, NULL, NULL, line, sizeof line);
            cr_assert_gt(words, 0, "%s: insn %zu: %s", names[i], pc, line);
            cr_assert_gt(strlen(line), 0);
            pc += (size_t)words;
        }
        ebpfvm_free(vm, insns);
        conformance_case_free(&c);
    }
    ebpfvm_vm_destroy(vm);
    free_names(names, n);
}

/* ------------------------------------------------------ the .data parser */

Test(conformance_parser, reads_every_section)
{
    const char *text = "# header comment\n"
                       "-- asm\n"
                       "mov %r0, 1 # keep\n"
                       "exit\n"
                       "-- raw\n"
                       "0x00000001000000b7 # mov r0, 1\n"
                       "0x0000000000000095\n"
                       "-- mem\n"
                       "00 11 ff\n"
                       "22\n"
                       "-- result\n"
                       "0x1122\n"
                       "-- c\n"
                       "int x; -- not a section?\n"
                       "-- no register offset\n"
                       "call instruction\n";
    struct conformance_case c;
    char err[128];
    cr_assert_eq(conformance_parse(text, &c, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(c.asm_text, "mov %r0, 1 # keep\nexit\n");
    cr_assert_eq(c.raw_count, 2);
    cr_assert_eq(c.raw[0].opcode, 0xb7);
    cr_assert_eq(c.raw[0].dst_reg, 0);
    cr_assert_eq(c.raw[0].imm, 1);
    cr_assert_eq(c.raw[1].opcode, 0x95);
    cr_assert_eq(c.mem_size, 4);
    cr_assert_eq(c.mem[0], 0x00);
    cr_assert_eq(c.mem[2], 0xff);
    cr_assert_eq(c.mem[3], 0x22);
    cr_assert(c.has_result);
    cr_assert_eq(c.result, 0x1122);
    cr_assert_null(c.error);
    cr_assert_str_eq(c.unsupported, "");
    conformance_case_free(&c);
}

Test(conformance_parser, word_fields_follow_the_encoding)
{
    struct ebpf_insn w = conformance_word(0x8000fffe0000a371ull);
    cr_assert_eq(w.opcode, 0x71);
    cr_assert_eq(w.dst_reg, 3);
    cr_assert_eq(w.src_reg, 0xa);
    cr_assert_eq(w.off, 0);
    cr_assert_eq(w.imm, (int32_t)0x8000fffe);
    w = conformance_word(0x00000000fff80000ull);
    cr_assert_eq(w.off, -8);
}

Test(conformance_parser, error_section_and_unsupported_sections)
{
    struct conformance_case c;
    char err[128];
    cr_assert_eq(conformance_parse("-- asm\nexit\n-- error\n  division by zero  \n", &c, err, sizeof err), 0, "%s",
                 err);
    cr_assert_str_eq(c.error, "division by zero");
    cr_assert_not(c.has_result);
    conformance_case_free(&c);

    cr_assert_eq(conformance_parse("-- asm\nexit\n-- result\n0\n-- map\nfoo\n", &c, err, sizeof err), 0);
    cr_assert_str_eq(c.unsupported, "map");
    conformance_case_free(&c);
}

Test(conformance_parser, rejects_malformed_files)
{
    struct conformance_case c;
    char err[128];
    cr_assert_eq(conformance_parse("-- asm\nexit\n-- result\n0xzz\n", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "line 4: bad number '0xzz'");
    cr_assert_eq(conformance_parse("-- asm\nexit\n-- mem\n100\n-- result\n1\n", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "line 4: byte out of range: '100'");
    cr_assert_eq(conformance_parse("-- asm\nexit\n-- result\n1 2\n", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "line 4: second result value '2'");
    cr_assert_eq(conformance_parse("-- result\n1\n", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "line 2: no -- asm or -- raw section");
    cr_assert_eq(conformance_parse("-- asm\nexit\n", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "line 2: no -- result or -- error section");
    cr_assert_eq(conformance_load("/nonexistent/x.data", &c, err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent/x.data: ") == err, "%s", err);
}

/* ------------------------------------------------------------ the plugin */

struct plugin_out {
    int exit_code;
    char out[512];
};

/* Run the plugin with stdin = program_hex and the given arguments (each
 * single-quoted for the shell; hex and option text contain no quotes). */
static struct plugin_out run_plugin(const char *program_hex, const char *arg1, const char *arg2)
{
    struct stat st;
    if (stat(PLUGIN_PATH, &st) != 0)
        cr_skip_test("%s is not built (build the `all` target)", PLUGIN_PATH);
    size_t cap = strlen(program_hex) + (arg1 ? strlen(arg1) : 0) + (arg2 ? strlen(arg2) : 0) + 256;
    char *cmd = malloc(cap);
    cr_assert_not_null(cmd);
    snprintf(cmd, cap, "printf '%%s\\n' '%s' | '%s'%s%s%s%s%s%s", program_hex, PLUGIN_PATH, arg1 ? " '" : "",
             arg1 ? arg1 : "", arg1 ? "'" : "", arg2 ? " '" : "", arg2 ? arg2 : "", arg2 ? "'" : "");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    struct plugin_out r = {0};
    size_t n = fread(r.out, 1, sizeof r.out - 1, p);
    r.out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status), "%s did not exit normally", cmd);
    r.exit_code = WEXITSTATUS(status);
    free(cmd);
    return r;
}

/* The program hex of an assembly text. */
static char *program_hex(const char *text)
{
    ebpfvm_vm *vm = conformance_vm();
    struct ebpf_insn *insns = NULL;
    size_t count = 0;
    cr_assert_eq(ebpfvm_assemble(vm, text, &insns, &count), 0, "%s", ebpfvm_vm_errmsg(vm));
    uint8_t *bytes = malloc(count * 8);
    cr_assert_not_null(bytes);
    for (size_t i = 0; i < count; i++) {
        uint8_t *b = bytes + i * 8;
        uint16_t off = (uint16_t)insns[i].off;
        uint32_t imm = (uint32_t)insns[i].imm;
        b[0] = insns[i].opcode;
        b[1] = (uint8_t)(insns[i].dst_reg | insns[i].src_reg << 4);
        b[2] = (uint8_t)off;
        b[3] = (uint8_t)(off >> 8);
        for (int k = 0; k < 4; k++)
            b[4 + k] = (uint8_t)(imm >> (8 * k));
    }
    char *hex = conformance_hex(bytes, count * 8);
    cr_assert_not_null(hex);
    free(bytes);
    ebpfvm_free(vm, insns);
    ebpfvm_vm_destroy(vm);
    return hex;
}

/* Each conformance file named here through the plugin, comparing r0. */
Test(conformance_plugin, runs_conformance_programs)
{
    static const char *const files[] = {"lddw.data", "subnet.data", "callx.data", "call_local.data",
                                        "ldxb-all.data", "lock_cmpxchg32.data", "div64-by-zero-reg.data"};
    size_t n = 0;
    char **names = require_data_files(&n);
    free_names(names, n);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct conformance_case c;
        load_case(files[i], &c);
        char *hex = program_hex(c.asm_text);
        char *mem = c.mem_size ? conformance_hex(c.mem, c.mem_size) : NULL;
        struct plugin_out r = run_plugin(hex, mem, "--interp");
        cr_assert_eq(r.exit_code, 0, "%s: exit %d: %s", files[i], r.exit_code, r.out);
        unsigned long long got = strtoull(r.out, NULL, 16);
        cr_assert_eq(got, c.result, "%s: plugin printed '%s', expected 0x%llx", files[i], r.out,
                     (unsigned long long)c.result);
        cr_assert(strncmp(r.out, "0x", 2) == 0, "%s", r.out);
        free(hex);
        free(mem);
        conformance_case_free(&c);
    }
}

Test(conformance_plugin, default_mode_is_the_interpreter)
{
    char *hex = program_hex("ldxh %r0, [%r1+1]\nexit\n");
    struct plugin_out r = run_plugin(hex, "11 22 33", NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.out);
    cr_assert_str_eq(r.out, "0x3322\n");
    free(hex);
}

Test(conformance_plugin, reports_runtime_and_load_errors)
{
    /* An out-of-bounds read faults in the checked interpreter. */
    char *hex = program_hex("ldxw %r0, [%r1+8]\nexit\n");
    struct plugin_out r = run_plugin(hex, "00 11", NULL);
    cr_assert_eq(r.exit_code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "insn 0: ") == r.out, "%s", r.out);
    free(hex);

    /* A helper that is not registered fails the load. */
    hex = program_hex("call 7\nexit\n");
    r = run_plugin(hex, NULL, NULL);
    cr_assert_eq(r.exit_code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "insn 0: ") == r.out, "%s", r.out);
    free(hex);
}

Test(conformance_plugin, rejects_bad_input)
{
    struct plugin_out r = run_plugin("95 00 00 00 00 00", NULL, NULL);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_str_eq(r.out, "program: 6 bytes is not a whole number of 8-byte instructions\n");
    r = run_plugin("95 00 00 00 00 00 00 0g", NULL, NULL);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_str_eq(r.out, "program: bad hex byte at '0g'\n");
    r = run_plugin("95 00 00 00 00 00 00 00", "zz", NULL);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_str_eq(r.out, "memory: bad hex byte at 'zz'\n");
    r = run_plugin("95 00 00 00 00 00 00 00", "--bogus", NULL);
    cr_assert_eq(r.exit_code, 2);
}

Test(conformance_plugin, jit_option_runs_or_says_unavailable)
{
    char *hex = program_hex("mov %r0, 0x2a\nexit\n");
    struct plugin_out r = run_plugin(hex, "--jit", NULL);
    if (r.exit_code == 2)
        cr_assert(strncmp(r.out, "JIT not available", 17) == 0, "%s", r.out);
    else
        cr_assert_str_eq(r.out, "0x2a\n");
    free(hex);
}
