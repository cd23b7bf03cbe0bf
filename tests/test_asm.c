/*
 * tests/test_asm.c - the text assembler (loader/asm.c): the encodings it
 * produces for each operand format and syntax feature, and the exact text
 * of every error it reports.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

#include "alloc_fail.h"
#include "insn.h"

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    return vm;
}

/* Assemble text and compare with the expected words (asserting success). */
static void expect_words(const char *text, const struct ebpf_insn *want, size_t want_count)
{
    ebpfvm_vm *vm = new_vm();
    struct ebpf_insn *got = NULL;
    size_t count = 0;
    int rc = ebpfvm_assemble(vm, text, &got, &count);
    cr_assert_eq(rc, 0, "assemble failed (%d): %s\n%s", rc, ebpfvm_vm_errmsg(vm), text);
    cr_assert_eq(count, want_count, "%zu words, expected %zu:\n%s", count, want_count, text);
    for (size_t i = 0; i < count; i++) {
        cr_assert_eq(got[i].opcode, want[i].opcode, "word %zu opcode 0x%02x, expected 0x%02x:\n%s", i, got[i].opcode,
                     want[i].opcode, text);
        cr_assert_eq(got[i].dst_reg, want[i].dst_reg, "word %zu dst:\n%s", i, text);
        cr_assert_eq(got[i].src_reg, want[i].src_reg, "word %zu src:\n%s", i, text);
        cr_assert_eq(got[i].off, want[i].off, "word %zu off %d, expected %d:\n%s", i, got[i].off, want[i].off, text);
        cr_assert_eq(got[i].imm, want[i].imm, "word %zu imm %d, expected %d:\n%s", i, got[i].imm, want[i].imm, text);
    }
    ebpfvm_free(vm, got);
    ebpfvm_vm_destroy(vm);
}

#define EXPECT(text, ...)                                                                              \
    expect_words((text), (const struct ebpf_insn[]){__VA_ARGS__},                                      \
                 sizeof((const struct ebpf_insn[]){__VA_ARGS__}) / sizeof(struct ebpf_insn))

/* Assemble text expecting EBPFVM_ERR_FORMAT with exactly this message. */
static void expect_error(const char *text, const char *message)
{
    ebpfvm_vm *vm = new_vm();
    struct ebpf_insn *got = (struct ebpf_insn *)&got; /* must be reset */
    size_t count = 99;
    int rc = ebpfvm_assemble(vm, text, &got, &count);
    cr_assert_eq(rc, EBPFVM_ERR_FORMAT, "status %d for:\n%s", rc, text);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), message, "for:\n%s", text);
    cr_assert_null(got);
    cr_assert_eq(count, 0);
    ebpfvm_vm_destroy(vm);
}

Test(asm, alu_forms_register_and_immediate)
{
    EXPECT("add %r1, 5\nadd32 %r1, %r2\nmov %r0, -1\nmov32 %r3, 0xffffffff\nsdiv %r1, %r2\nsmod32 %r4, -3\n"
           "arsh %r1, 3\nneg %r2\nneg32 %r2\n",
           EBPF_RAW(0x07, 1, 0, 0, 5), EBPF_RAW(0x0c, 1, 2, 0, 0), EBPF_RAW(0xb7, 0, 0, 0, -1),
           EBPF_RAW(0xb4, 3, 0, 0, -1), EBPF_RAW(0x3f, 1, 2, 1, 0), EBPF_RAW(0x94, 4, 0, 1, -3),
           EBPF_RAW(0xc7, 1, 0, 0, 3), EBPF_RAW(0x87, 2, 0, 0, 0), EBPF_RAW(0x84, 2, 0, 0, 0));
}

Test(asm, movsx_and_byte_order)
{
    EXPECT("movsx864 %r0, %r1\nmovsx1632 %r2, %r3\nmovsx3264 %r4, %r5\nbe16 %r0\nle64 %r1\nbswap32 %r2\n"
           "swap16 %r3\nswap64 %r4\n",
           EBPF_RAW(0xbf, 0, 1, 8, 0), EBPF_RAW(0xbc, 2, 3, 16, 0), EBPF_RAW(0xbf, 4, 5, 32, 0),
           EBPF_RAW(0xdc, 0, 0, 0, 16), EBPF_RAW(0xd4, 1, 0, 0, 64), EBPF_RAW(0xd7, 2, 0, 0, 32),
           EBPF_RAW(0xd7, 3, 0, 0, 16), EBPF_RAW(0xd7, 4, 0, 0, 64));
}

Test(asm, lddw_values_and_pseudo_loads)
{
    EXPECT("lddw %r1, 0x1122334455667788\nlddw %r0, 2147483648\nlddw %r2, -1\nlddw %r3, 0xffffffffffffffff\n",
           EBPF_RAW(0x18, 1, 0, 0, 0x55667788), EBPF_RAW(0, 0, 0, 0, 0x11223344),
           EBPF_RAW(0x18, 0, 0, 0, (int32_t)0x80000000), EBPF_RAW(0, 0, 0, 0, 0), EBPF_RAW(0x18, 2, 0, 0, -1),
           EBPF_RAW(0, 0, 0, 0, -1), EBPF_RAW(0x18, 3, 0, 0, -1), EBPF_RAW(0, 0, 0, 0, -1));
    EXPECT("lddw %r1, map_fd 3\nlddw %r2, map_idx 1\nlddw %r3, map_value 2, 8\nlddw %r4, map_idx_value 0, 16\n"
           "lddw %r5, func f\nexit\nf: exit\n",
           EBPF_RAW(0x18, 1, 1, 0, 3), EBPF_RAW(0, 0, 0, 0, 0), EBPF_RAW(0x18, 2, 5, 0, 1), EBPF_RAW(0, 0, 0, 0, 0),
           EBPF_RAW(0x18, 3, 2, 0, 2), EBPF_RAW(0, 0, 0, 0, 8), EBPF_RAW(0x18, 4, 6, 0, 0), EBPF_RAW(0, 0, 0, 0, 16),
           EBPF_RAW(0x18, 5, 4, 0, 2), EBPF_RAW(0, 0, 0, 0, 0), EBPF_RAW(0x95, 0, 0, 0, 0),
           EBPF_RAW(0x95, 0, 0, 0, 0));
}

Test(asm, memory_operands)
{
    EXPECT("ldxw %r0, [%r1+4]\nldxdw %r0, [%r10-8]\nldxb %r2, [%r1]\nldxsh %r0, [%r1+2]\nstb [%r1+2], 0x11\n"
           "sth [%r10 - 4], -2\nstxdw [%r10-8], %r1\nldabsh 12\nldindw %r3, 4\n",
           EBPF_RAW(0x61, 0, 1, 4, 0), EBPF_RAW(0x79, 0, 10, -8, 0), EBPF_RAW(0x71, 2, 1, 0, 0),
           EBPF_RAW(0x89, 0, 1, 2, 0), EBPF_RAW(0x72, 1, 0, 2, 0x11), EBPF_RAW(0x6a, 10, 0, -4, -2),
           EBPF_RAW(0x7b, 10, 1, -8, 0), EBPF_RAW(0x28, 0, 0, 0, 12), EBPF_RAW(0x40, 0, 3, 0, 4));
}

Test(asm, atomics_after_lock)
{
    EXPECT("lock add [%r10-8], %r1\nlock add32 [%r1+4], %r2\nlock fetch add32 [%r1+0], %r3\n"
           "lock fetch xor [%r1+0], %r3\nlock xchg [%r1+0], %r2\nlock cmpxchg32 [%r10-8], %r1\n",
           EBPF_RAW(0xdb, 10, 1, -8, 0x00), EBPF_RAW(0xc3, 1, 2, 4, 0x00), EBPF_RAW(0xc3, 1, 3, 0, 0x01),
           EBPF_RAW(0xdb, 1, 3, 0, 0xa1), EBPF_RAW(0xdb, 1, 2, 0, 0xe1), EBPF_RAW(0xc3, 10, 1, -8, 0xf1));
}

Test(asm, jumps_labels_and_offsets)
{
    EXPECT("start: jeq %r1, 0xb, done\njne32 %r0, %r1, +3\nja -2\nja32 start\n"
           "done:\nmov %r0, 1 # trailing comment\n\n  # comment line\nexit\n",
           EBPF_RAW(0x15, 1, 0, 3, 0xb), EBPF_RAW(0x5e, 0, 1, 3, 0), EBPF_RAW(0x05, 0, 0, -2, 0),
           EBPF_RAW(0x06, 0, 0, 0, -4), EBPF_RAW(0xb7, 0, 0, 0, 1), EBPF_RAW(0x95, 0, 0, 0, 0));
    /* jsgt with a 0x80000000 immediate keeps the 32-bit pattern. */
    EXPECT("jsgt %r1, 0x80000000, +1\nexit\nexit\n", EBPF_RAW(0x65, 1, 0, 1, (int32_t)0x80000000),
           EBPF_RAW(0x95, 0, 0, 0, 0), EBPF_RAW(0x95, 0, 0, 0, 0));
}

Test(asm, undefined_exit_label_is_the_last_instruction)
{
    EXPECT("jne %r0, 2, exit\nmov %r0, 1\nexit\n", EBPF_RAW(0x55, 0, 0, 1, 2), EBPF_RAW(0xb7, 0, 0, 0, 1),
           EBPF_RAW(0x95, 0, 0, 0, 0));
    /* The last instruction may be two words: the target is its first. */
    EXPECT("ja exit\nlddw %r0, 1\n", EBPF_RAW(0x05, 0, 0, 0, 0), EBPF_RAW(0x18, 0, 0, 0, 1),
           EBPF_RAW(0, 0, 0, 0, 0));
    /* A defined `exit` label wins. */
    EXPECT("ja exit\nexit: mov %r0, 0\nexit\n", EBPF_RAW(0x05, 0, 0, 0, 0), EBPF_RAW(0xb7, 0, 0, 0, 0),
           EBPF_RAW(0x95, 0, 0, 0, 0));
}

Test(asm, calls)
{
    EXPECT("call 5\ncall %r2\ncallx %r3\ncall local func1\ncall local -1\nexit\nfunc1: exit\n",
           EBPF_RAW(0x85, 0, 0, 0, 5), EBPF_RAW(0x8d, 2, 0, 0, 0), EBPF_RAW(0x8d, 3, 0, 0, 0),
           EBPF_RAW(0x85, 0, 1, 0, 2), EBPF_RAW(0x85, 0, 1, 0, -1), EBPF_RAW(0x95, 0, 0, 0, 0),
           EBPF_RAW(0x95, 0, 0, 0, 0));
}

Test(asm, error_messages)
{
    expect_error("mov %r0, 1\nfoo %r0\n", "line 2: unknown mnemonic 'foo'");
    expect_error("xchg [%r1+0], %r2\n", "line 1: unknown mnemonic 'xchg'");
    expect_error("lock mov [%r1+0], %r2\n", "line 1: unknown mnemonic 'lock mov'");
    expect_error("lock\n", "line 1: expected an atomic operation after 'lock'");
    expect_error("mov %r0, 0\nja nowhere\nexit\n", "line 2: undefined label 'nowhere'");
    expect_error("mov 5, 1\n", "line 1: expected register, got '5'");
    expect_error("mov %r11, 1\n", "line 1: invalid register '%r11' (r0..r10)");
    expect_error("mov %r0, 0x100000000\n", "line 1: immediate out of range");
    expect_error("mov %r0, -0x80000001\n", "line 1: immediate out of range");
    expect_error("lddw %r0, 0x10000000000000000\n", "line 1: immediate out of range");
    expect_error("lddw %r0, -0x8000000000000001\n", "line 1: immediate out of range");
    expect_error("lddw %r0, map_nothing 1\n", "line 1: expected immediate, got 'map_nothing'");
    expect_error("lddw %r0, %r1\n", "line 1: expected immediate, got '%r1'");
    expect_error("mov %r0, abc\n", "line 1: expected immediate, got 'abc'");
    expect_error("mov %r0 1\n", "line 1: expected ',', got '1'");
    expect_error("mov %r0\n", "line 1: expected ',', got 'end of line'");
    expect_error("ldxw %r0, %r1\n", "line 1: expected memory operand [%rN+off], got '%r1'");
    expect_error("ldxw %r0, [%r1+4\n", "line 1: expected ']', got 'end of line'");
    expect_error("ldxw %r0, [%r1+40000]\n", "line 1: offset out of range");
    expect_error("ja +40000\n", "line 1: jump offset out of range");
    expect_error("ja %r1\n", "line 1: expected jump offset, got '%r1'");
    expect_error("a: mov %r0, 0\na: exit\n", "line 2: duplicate label 'a'");
    expect_error("exit now\n", "line 1: unexpected 'now' after the operands of 'exit'");
    expect_error("movsx864 %r0, 5\n", "line 1: 'movsx864' needs a register source");
    expect_error("call foo\n", "line 1: expected helper id, got 'foo'");
    expect_error("call kfunc foo\n", "line 1: expected kfunc id, got 'foo'");
    expect_error("callx 5\n", "line 1: expected register, got '5'");
    expect_error("ja end\nexit\nend:\n", "line 1: label 'end' is past the last instruction");
    expect_error("", "line 1: no instructions");
    expect_error("# nothing\n\n", "line 2: no instructions");
    char label[100];
    memset(label, 'a', 70);
    strcpy(label + 70, ": exit\n");
    expect_error(label, "line 1: label too long (max 63 characters)");
    char mnemonic[100];
    memset(mnemonic, 'm', 40);
    mnemonic[40] = '\0';
    expect_error(mnemonic, "line 1: unknown mnemonic 'mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm'");
    char line[600];
    memset(line, ' ', 550);
    strcpy(line + 550, "exit\n");
    expect_error(line, "line 1: line too long (max 511 characters)");
}

/* "<jump> far", 33000 exits, "far: exit" (malloc'd). */
static char *far_program(const char *jump)
{
    size_t n = 33000;
    char *text = malloc(n * 5 + 64);
    cr_assert_not_null(text);
    char *p = text + sprintf(text, "%s far\n", jump);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "exit\n");
    sprintf(p, "far: exit\n");
    return text;
}

Test(asm, far_label_needs_ja32)
{
    char *text = far_program("ja");
    expect_error(text, "line 1: jump offset out of range: label 'far' is 33000 instructions away (use ja32)");
    free(text);

    text = far_program("ja32");
    ebpfvm_vm *vm = new_vm();
    struct ebpf_insn *insns = NULL;
    size_t count = 0;
    cr_assert_eq(ebpfvm_assemble(vm, text, &insns, &count), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(insns[0].opcode, 0x06);
    cr_assert_eq(insns[0].imm, 33000);
    ebpfvm_free(vm, insns);
    ebpfvm_vm_destroy(vm);
    free(text);
}

Test(asm, too_many_instructions)
{
    size_t n = (size_t)EBPFVM_MAX_INSNS + 1;
    char *text = malloc(n * 5 + 1);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i++)
        memcpy(text + i * 5, "exit\n", 5);
    text[n * 5] = '\0';
    char want[80];
    snprintf(want, sizeof want, "line %zu: too many instructions (limit %d)", n, EBPFVM_MAX_INSNS);
    expect_error(text, want);
    free(text);
}

Test(asm, invalid_arguments)
{
    struct ebpf_insn *out = NULL;
    size_t count = 0;
    cr_assert_eq(ebpfvm_assemble(NULL, "exit", &out, &count), EBPFVM_ERR_INVAL);
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_assemble(vm, NULL, &out, &count), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "assemble: text is NULL");
    cr_assert_eq(ebpfvm_assemble(vm, "exit", NULL, &count), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "assemble: out is NULL");
    cr_assert_eq(ebpfvm_assemble(vm, "exit", &out, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "assemble: count is NULL");
    ebpfvm_vm_destroy(vm);
}

/* Every allocation the assembler makes can fail: it reports NOMEM with the
 * line, frees everything, and succeeds once memory is there. */
Test(asm, out_of_memory_at_every_allocation)
{
    /* Enough labels, fixups and words to grow each array more than once. */
    char text[8192] = "";
    for (int i = 0; i < 80; i++) {
        char line[64];
        snprintf(line, sizeof line, "l%d: jeq %%r1, %d, l%d\n", i, i, (i + 1) % 80);
        strcat(text, line);
    }
    strcat(text, "exit\n");
    bool succeeded = false;
    for (size_t fail_at = 1; fail_at < 200 && !succeeded; fail_at++) {
        struct alloc_fail af;
        alloc_fail_init(&af, 0);
        struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = alloc_fail_alloc, .alloc_ud = &af};
        ebpfvm_vm *vm = NULL;
        cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
        af.fail_at = af.nallocs + fail_at; /* count from after the vm itself */
        struct ebpf_insn *insns = NULL;
        size_t count = 0;
        int rc = ebpfvm_assemble(vm, text, &insns, &count);
        if (rc == 0) {
            succeeded = true;
            cr_assert_eq(count, 81);
            cr_assert_eq(insns[79].off, -80);
            ebpfvm_free(vm, insns);
        } else {
            cr_assert_eq(rc, EBPFVM_ERR_NOMEM, "fail_at %zu: %d %s", fail_at, rc, ebpfvm_vm_errmsg(vm));
            cr_assert(strstr(ebpfvm_vm_errmsg(vm), ": out of memory") != NULL, "%s", ebpfvm_vm_errmsg(vm));
            cr_assert_null(insns);
        }
        ebpfvm_vm_destroy(vm);
        cr_assert_eq(af.live_blocks, 0, "fail_at %zu: %zu blocks leaked", fail_at, af.live_blocks);
        cr_assert_eq(af.bad_frees, 0);
    }
    cr_assert(succeeded);
}
