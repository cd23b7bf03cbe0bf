/*
 * tests/test_helpers_str.c - bpf_strtol (105) and bpf_strtoul (106)
 * (vm/helpers_str.c) and the verifier's EBPFVM_ARG_PTR_TO_LONG argument
 * (verifier/check_jmp.c):
 *   - results for bases, signs, prefixes, whitespace, limits, overflow and
 *     bad arguments, with the kernel's values (kernel/bpf/helpers.c 6.12),
 *     each run unverified in both interpreter modes (checked and fast);
 *   - checked-mode faults for bad buf / res pointers, with their messages;
 *   - the verifier: the kselftest shapes (progs/verifier_int_ptr.c) and
 *     the res argument on the stack, a map value, memory and the packet,
 *     accepted or rejected with the kernel's messages;
 *   - a verified program run in checked, fast and JIT modes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"
#include "interp_run.h"

#define STRTOL EBPF_HELPER_strtol
#define STRTOUL EBPF_HELPER_strtoul
#define EINVAL_ (-22)
#define ERANGE_ (-34)

static ebpfvm_vm *std_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    return vm;
}

/* ------------------------------------------------------------- results */

/* The memory block of the result programs: res, flags, buf_len, buf. */
struct block {
    uint64_t res;
    uint64_t flags;
    uint64_t len;
    char buf[104];
};
_Static_assert(sizeof(struct block) == 128, "block layout");

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* helper(buf, len, flags, &res) on the block, unverified, in the checked
 * and the fast interpreter (interp_run_both compares them). */
static int64_t call_str(int32_t id, const char *s, size_t len, uint64_t flags, uint64_t *res)
{
    struct block b;
    memset(&b, 0, sizeof b);
    cr_assert(len <= sizeof b.buf);
    memcpy(b.buf, s, len);
    b.res = SENTINEL;
    b.flags = flags;
    b.len = len;
    ebpfvm_vm *vm = std_vm();
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_REG(1, 6),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 24),
        EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 6, 16),
        EBPF_LDX_MEM(EBPF_SIZE_DW, 3, 6, 8),
        EBPF_MOV64_REG(4, 6),
        EBPF_CALL_HELPER(id),
        EBPF_EXIT(),
    };
    int64_t r0 = (int64_t)interp_run_both(vm, prog, EBPF_NWORDS(prog), &b, sizeof b);
    ebpfvm_vm_destroy(vm);
    *res = b.res;
    return r0;
}

#define EXPECT_OK_(id, str, len, flags, consumed, value)                                                       \
    do {                                                                                                       \
        uint64_t res_;                                                                                         \
        int64_t r_ = call_str((id), (str), (len), (flags), &res_);                                             \
        cr_expect_eq(r_, (int64_t)(consumed), "%s(\"%s\", %zu, %#llx) = %lld, want %lld", #id, (str),          \
                     (size_t)(len), (unsigned long long)(flags), (long long)r_, (long long)(consumed));        \
        cr_expect_eq(res_, (uint64_t)(value), "%s(\"%s\"): res %#llx, want %#llx", #id, (str),                 \
                     (unsigned long long)res_, (unsigned long long)(uint64_t)(value));                         \
    } while (0)

/* An error: the return value, and *res zeroed (the kernel sets it to 0
 * before parsing). */
#define EXPECT_ERR_(id, str, len, flags, err) EXPECT_OK_(id, str, len, flags, err, 0)

/* Through one more expansion so that S("...") becomes two arguments. */
#define EXPECT_OK(...) EXPECT_OK_(__VA_ARGS__)
#define EXPECT_ERR(...) EXPECT_ERR_(__VA_ARGS__)

#define S(lit) lit, (sizeof lit - 1)

Test(strtox, decimal)
{
    EXPECT_OK(STRTOUL, S("123"), 0, 3, 123);
    EXPECT_OK(STRTOUL, S("123"), 10, 3, 123);
    EXPECT_OK(STRTOL, S("123"), 10, 3, 123);
    EXPECT_OK(STRTOUL, S("42abc"), 10, 2, 42);
    EXPECT_OK(STRTOUL, S("0"), 10, 1, 0);
    EXPECT_OK(STRTOUL, S("007"), 10, 3, 7);
    /* buf_len ends the digits. */
    EXPECT_OK(STRTOUL, S("12345"), 10, 5, 12345);
    EXPECT_OK(STRTOUL, "12345", 3, 10, 3, 123);
    /* So does a NUL. */
    EXPECT_OK(STRTOUL, "12\0" "34", 5, 10, 2, 12);
}

Test(strtox, whitespace)
{
    EXPECT_OK(STRTOUL, S("  \t\n42abc"), 0, 6, 42);
    EXPECT_OK(STRTOUL, S("\v\f\r7"), 0, 4, 7);
    /* The kernel's isspace counts 0xa0 (NBSP). */
    EXPECT_OK(STRTOUL, S("\xa0" "7"), 0, 2, 7);
    EXPECT_OK(STRTOL, S(" -12 "), 0, 4, -12);
    /* Whitespace inside the number ends it; no whitespace after the sign. */
    EXPECT_OK(STRTOUL, S("1 2"), 0, 1, 1);
    EXPECT_ERR(STRTOL, S("- 1"), 0, EINVAL_);
    /* Only whitespace (and a sign): nothing to parse. */
    EXPECT_ERR(STRTOUL, S("   "), 0, EINVAL_);
    EXPECT_ERR(STRTOL, S(" -"), 0, EINVAL_);
    EXPECT_ERR(STRTOUL, S("\x01" "1"), 0, EINVAL_);
}

Test(strtox, prefixes_and_bases)
{
    EXPECT_OK(STRTOUL, S("0x1f"), 0, 4, 31);
    EXPECT_OK(STRTOUL, S("0X1F"), 0, 4, 31);
    EXPECT_OK(STRTOUL, S("0x1f"), 16, 4, 31);
    EXPECT_OK(STRTOUL, S("1fz"), 16, 2, 31);
    EXPECT_OK(STRTOUL, S("DeadBeef"), 16, 8, 0xdeadbeef);
    EXPECT_OK(STRTOUL, S("0x1f"), 10, 1, 0);
    EXPECT_OK(STRTOUL, S("0x1f"), 8, 1, 0);
    /* Base 0: "0x" without a hex digit after it is an octal 0. */
    EXPECT_OK(STRTOUL, S("0x"), 0, 1, 0);
    EXPECT_OK(STRTOUL, S("0xg"), 0, 1, 0);
    /* Base 16 skips "0x" anyway, then finds no digit. */
    EXPECT_ERR(STRTOUL, S("0x"), 16, EINVAL_);
    EXPECT_ERR(STRTOUL, S("0xg"), 16, EINVAL_);
    /* A leading 0 is octal with base 0. */
    EXPECT_OK(STRTOUL, S("017"), 0, 3, 15);
    EXPECT_OK(STRTOUL, S("018"), 0, 2, 1);
    EXPECT_OK(STRTOUL, S("0"), 0, 1, 0);
    EXPECT_OK(STRTOUL, S("17"), 8, 2, 15);
    EXPECT_OK(STRTOUL, S("10"), 0, 2, 10);
    EXPECT_ERR(STRTOUL, S("9"), 8, EINVAL_);
    EXPECT_ERR(STRTOUL, S("abc"), 10, EINVAL_);
    EXPECT_ERR(STRTOUL, S("g"), 16, EINVAL_);
    EXPECT_OK(STRTOL, S("-0x10"), 0, 5, -16);
    EXPECT_OK(STRTOL, S("-010"), 0, 4, -8);
}

Test(strtox, signs)
{
    EXPECT_OK(STRTOL, S("-5"), 10, 2, -5);
    EXPECT_OK(STRTOL, S("-0"), 10, 2, 0);
    /* No '+'. */
    EXPECT_ERR(STRTOL, S("+5"), 10, EINVAL_);
    EXPECT_ERR(STRTOUL, S("+5"), 10, EINVAL_);
    /* strtoul refuses any '-', even "-0". */
    EXPECT_ERR(STRTOUL, S("-5"), 10, EINVAL_);
    EXPECT_ERR(STRTOUL, S("-0"), 10, EINVAL_);
    EXPECT_ERR(STRTOL, S("--5"), 10, EINVAL_);
}

Test(strtox, limits_and_overflow)
{
    EXPECT_OK(STRTOUL, S("18446744073709551615"), 0, 20, UINT64_MAX);
    EXPECT_ERR(STRTOUL, S("18446744073709551616"), 0, ERANGE_);
    EXPECT_ERR(STRTOUL, S("99999999999999999999999"), 10, ERANGE_);
    EXPECT_OK(STRTOUL, S("0xffffffffffffffff"), 0, 18, UINT64_MAX);
    EXPECT_ERR(STRTOUL, S("0x10000000000000000"), 0, ERANGE_);
    EXPECT_OK(STRTOUL, S("01777777777777777777777"), 0, 23, UINT64_MAX);
    EXPECT_ERR(STRTOUL, S("02000000000000000000000"), 0, ERANGE_);
    EXPECT_OK(STRTOL, S("9223372036854775807"), 10, 19, INT64_MAX);
    EXPECT_ERR(STRTOL, S("9223372036854775808"), 10, ERANGE_);
    EXPECT_OK(STRTOL, S("-9223372036854775808"), 10, 20, INT64_MIN);
    EXPECT_ERR(STRTOL, S("-9223372036854775809"), 10, ERANGE_);
    EXPECT_ERR(STRTOL, S("-18446744073709551615"), 10, ERANGE_);
    EXPECT_ERR(STRTOL, S("18446744073709551616"), 10, ERANGE_);
    /* Only 63 characters after the whitespace and sign are looked at. */
    char buf[100];
    memset(buf, ' ', 10);
    memset(buf + 10, '0', 70);
    buf[79] = '1';
    EXPECT_OK(STRTOUL, buf, 80, 10, 73, 0);
    EXPECT_OK(STRTOUL, buf + 10, 70, 10, 63, 0);
    memset(buf, '1', 70);
    EXPECT_OK(STRTOUL, buf, 19, 10, 19, 1111111111111111111ull);
    EXPECT_ERR(STRTOUL, buf, 70, 10, ERANGE_);
}

Test(strtox, bad_arguments)
{
    EXPECT_ERR(STRTOUL, "1", 0, 10, EINVAL_); /* buf_len 0 */
    EXPECT_ERR(STRTOL, "1", 0, 10, EINVAL_);
    EXPECT_ERR(STRTOUL, S("1"), 2, EINVAL_);
    EXPECT_ERR(STRTOUL, S("1"), 1, EINVAL_);
    EXPECT_ERR(STRTOUL, S("1"), 12, EINVAL_);
    EXPECT_ERR(STRTOUL, S("1"), 0x1f, EINVAL_);
    EXPECT_ERR(STRTOL, S("1"), 0x20 | 10, EINVAL_);
    EXPECT_ERR(STRTOL, S("1"), (1ull << 32) | 10, EINVAL_);
    EXPECT_ERR(STRTOUL, S("1"), 1ull << 63, EINVAL_);
}

/* ----------------------------------------------------- checked faults */

/* Run prog unverified in checked mode on a 128-byte block: the fault. */
static void expect_fault(const struct ebpf_insn *insns, size_t n, const char *want)
{
    ebpfvm_vm *vm = std_vm();
    ebpfvm_prog *prog = interp_load(vm, insns, n);
    unsigned char mem[128] = {'7'};
    struct ebpfvm_run_result res;
    int err = interp_run_mode(prog, EBPFVM_EXEC_CHECKED, 0, mem, sizeof mem, &res);
    cr_assert_eq(err, EBPFVM_ERR_FAULT, "status %d, r0 %llu: %s", err, (unsigned long long)res.r0, res.message);
    cr_assert_str_eq(res.message, want);
    ebpfvm_vm_destroy(vm);
}

#define FAULT(want, ...)                                                                                       \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_fault(p_, EBPF_NWORDS(p_), want);                                                               \
    } while (0)

Test(strtox, checked_mode_faults)
{
    /* buf outside every region. */
    FAULT("insn 5: strtol: r1 0x1000 is not readable memory for 4 bytes", EBPF_MOV64_REG(4, 1),
          EBPF_MOV64_IMM(1, 0x1000), EBPF_MOV64_IMM(2, 4), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(0, 0),
          EBPF_CALL_HELPER(STRTOL), EBPF_EXIT());
}

/* The same, for a message naming an address in the block: before, the
 * address, after. */
static void expect_fault_at(const struct ebpf_insn *insns, size_t n, const char *before, int64_t delta,
                            const char *after)
{
    ebpfvm_vm *vm = std_vm();
    ebpfvm_prog *prog = interp_load(vm, insns, n);
    unsigned char mem[128] = {'7'};
    struct ebpfvm_run_result res;
    int err = interp_run_mode(prog, EBPFVM_EXEC_CHECKED, 0, mem, sizeof mem, &res);
    cr_assert_eq(err, EBPFVM_ERR_FAULT, "status %d, r0 %llu: %s", err, (unsigned long long)res.r0, res.message);
    char want[256];
    snprintf(want, sizeof want, "%s0x%llx%s", before, (unsigned long long)((uintptr_t)mem + (uint64_t)delta), after);
    cr_assert_str_eq(res.message, want);
    ebpfvm_vm_destroy(vm);
}

Test(strtox, checked_mode_faults_in_block)
{
    /* buf_len past the end of the block: r1 = block. */
    {
        struct ebpf_insn p[] = {EBPF_MOV64_REG(4, 1), EBPF_MOV64_IMM(2, 129), EBPF_MOV64_IMM(3, 0),
                                EBPF_CALL_HELPER(STRTOUL), EBPF_EXIT()};
        expect_fault_at(p, EBPF_NWORDS(p), "insn 3: strtoul: r1 ", 0, " is not readable memory for 129 bytes");
    }
    /* res crossing the end of the block. */
    {
        struct ebpf_insn p[] = {EBPF_MOV64_REG(4, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 124), EBPF_MOV64_IMM(2, 1),
                                EBPF_MOV64_IMM(3, 0), EBPF_CALL_HELPER(STRTOL), EBPF_EXIT()};
        expect_fault_at(p, EBPF_NWORDS(p), "insn 4: strtol: r4 ", 124, " is not writable memory for 8 bytes");
    }
    /* res NULL: checked before anything is written. */
    {
        struct ebpf_insn p[] = {EBPF_MOV64_IMM(4, 0), EBPF_MOV64_IMM(2, 1), EBPF_MOV64_IMM(3, 0),
                                EBPF_CALL_HELPER(STRTOUL), EBPF_EXIT()};
        expect_fault(p, EBPF_NWORDS(p), "insn 3: strtoul: r4 0x0 is not writable memory for 8 bytes");
    }
}

/* ------------------------------------------------------------ verifier */

static char vlog[1 << 16];

enum { MAP_HASH = 0, MAP_RDONLY = 1 };

static ebpfvm_vm *verifier_vm(void)
{
    ebpfvm_vm *vm = std_vm();
    struct ebpfvm_map_def defs[] = {
        {.sz = sizeof(struct ebpfvm_map_def), .type = EBPFVM_MAP_HASH, .key_size = 4, .value_size = 16,
         .max_entries = 8, .name = "hash"},
        {.sz = sizeof(struct ebpfvm_map_def), .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 8,
         .max_entries = 1, .map_flags = 0x80 /* BPF_F_RDONLY_PROG */, .name = "ro"},
    };
    for (int i = 0; i < 2; i++) {
        int fd = -1;
        cr_assert_eq(ebpfvm_map_create(vm, &defs[i], &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
        cr_assert_eq(fd, i);
    }
    return vm;
}

/* Load and verify; returns the status; the vm's message in msg. */
static int verify(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t n, enum ebpfvm_prog_type type,
                  uint32_t flags, ebpfvm_prog **progp)
{
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = type, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "load: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 1, .log_buf = vlog, .log_size = sizeof vlog,
                                    .mem_size = 64, .flags = flags};
    vlog[0] = '\0';
    *progp = prog;
    return ebpfvm_prog_verify(prog, &vo);
}

static void expect_verdict(const struct ebpf_insn *insns, size_t n, enum ebpfvm_prog_type type, uint32_t flags,
                           const char *want)
{
    ebpfvm_vm *vm = verifier_vm();
    ebpfvm_prog *prog;
    int status = verify(vm, insns, n, type, flags, &prog);
    if (!want) {
        cr_assert_eq(status, 0, "rejected: %s\n%s", ebpfvm_vm_errmsg(vm), vlog);
    } else {
        cr_assert_eq(status, EBPFVM_ERR_VERIFY, "status %d: %s\n%s", status, ebpfvm_vm_errmsg(vm), vlog);
        cr_assert(strstr(ebpfvm_vm_errmsg(vm), want), "message '%s' lacks '%s'", ebpfvm_vm_errmsg(vm), want);
    }
    ebpfvm_vm_destroy(vm);
}

#define SOCK EBPFVM_PROG_TYPE_SOCKET_FILTER
#define XDP EBPFVM_PROG_TYPE_XDP
#define MEM EBPFVM_PROG_TYPE_MEMORY
#define ACCEPT(type, flags, ...)                                                                               \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_verdict(p_, EBPF_NWORDS(p_), type, flags, NULL);                                                \
    } while (0)
#define REJECT(type, flags, want, ...)                                                                         \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_verdict(p_, EBPF_NWORDS(p_), type, flags, want);                                                \
    } while (0)

/* buf = "600" at fp-8, buf_len 4, flags 0 (progs/verifier_int_ptr.c). */
#define BUF_AT_FP8                                                                                             \
    EBPF_MOV64_REG(7, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -8), EBPF_MOV64_IMM(0, 0x00303036),                  \
        EBPF_STX_MEM(EBPF_SIZE_DW, 7, 0, 0), EBPF_MOV64_REG(1, 7), EBPF_MOV64_IMM(2, 4), EBPF_MOV64_IMM(3, 0)

Test(verifier_ptr_to_long, kselftest_shapes)
{
    /* arg_ptr_to_long_uninitialized: res is uninitialised stack. */
    ACCEPT(SOCK, 0, BUF_AT_FP8, EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -8), EBPF_MOV64_REG(4, 7),
           EBPF_CALL_HELPER(STRTOUL), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
    /* ptr_to_long_half_uninitialized */
    ACCEPT(SOCK, 0, BUF_AT_FP8, EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -8), EBPF_STX_MEM(EBPF_SIZE_W, 7, 0, 0),
           EBPF_MOV64_REG(4, 7), EBPF_CALL_HELPER(STRTOUL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* arg_ptr_to_long_initialized */
    ACCEPT(SOCK, 0, BUF_AT_FP8, EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -8), EBPF_STX_MEM(EBPF_SIZE_DW, 7, 0, 0),
           EBPF_MOV64_REG(4, 7), EBPF_CALL_HELPER(STRTOL), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
    /* arg_ptr_to_long_misaligned */
    REJECT(SOCK, 0, "misaligned stack access off 0+-20+0 size 8", BUF_AT_FP8, EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -12),
           EBPF_MOV64_IMM(0, 0), EBPF_STX_MEM(EBPF_SIZE_W, 7, 0, 0), EBPF_STX_MEM(EBPF_SIZE_DW, 7, 0, 4),
           EBPF_MOV64_REG(4, 7), EBPF_CALL_HELPER(STRTOUL), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
    /* to_long_size_sizeof_long: 4 bytes left above res. */
    REJECT(SOCK, 0, "invalid indirect access to stack R4 off=-4 size=8", EBPF_MOV64_REG(7, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, -16), EBPF_MOV64_IMM(0, 0x00303036), EBPF_STX_MEM(EBPF_SIZE_DW, 7, 0, 0),
           EBPF_MOV64_REG(1, 7), EBPF_MOV64_IMM(2, 4), EBPF_MOV64_IMM(3, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, 12),
           EBPF_STX_MEM(EBPF_SIZE_W, 7, 0, 0), EBPF_MOV64_REG(4, 7), EBPF_CALL_HELPER(STRTOUL),
           EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
}

Test(verifier_ptr_to_long, stack_bytes_written)
{
    /* Strict (unprivileged) mode reads uninitialised stack as an error:
     * the 8 bytes are initialised after the call. */
    ACCEPT(SOCK, EBPFVM_VERIFY_STRICT, BUF_AT_FP8, EBPF_MOV64_REG(4, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -16),
           EBPF_CALL_HELPER(STRTOL), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -16), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* ... and only those. */
    REJECT(SOCK, EBPFVM_VERIFY_STRICT, "invalid read from stack off -24+0 size 8", BUF_AT_FP8,
           EBPF_MOV64_REG(4, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -16), EBPF_CALL_HELPER(STRTOL),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -24), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* Out of the stack, below. */
    REJECT(SOCK, 0, "invalid indirect access to stack R4 off=-520 size=8", BUF_AT_FP8, EBPF_MOV64_REG(4, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -520), EBPF_CALL_HELPER(STRTOL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* A variable offset that is not a multiple of 8. */
    REJECT(SOCK, 0, "misaligned stack access off (0x0; 0x4)+-16+0 size 8", EBPF_LDX_MEM(EBPF_SIZE_W, 5, 1, 0),
           BUF_AT_FP8, EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 4), EBPF_MOV64_REG(4, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -16), EBPF_ALU64_REG(EBPF_ALU_ADD, 4, 5), EBPF_CALL_HELPER(STRTOL),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_ptr_to_long, wrong_types)
{
    REJECT(SOCK, 0, "R4 type=scalar expected=fp, pkt, pkt_meta, map_value, mem", BUF_AT_FP8, EBPF_MOV64_IMM(4, 0),
           EBPF_CALL_HELPER(STRTOL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(SOCK, 0, "R4 type=ctx expected=fp, pkt, pkt_meta, map_value, mem", EBPF_MOV64_REG(4, 1), BUF_AT_FP8,
           EBPF_CALL_HELPER(STRTOUL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(SOCK, 0, "R4 !read_ok", BUF_AT_FP8, EBPF_CALL_HELPER(STRTOUL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* r0 = lookup(map fd, key 0 at fp-16); if NULL exit 0; r4 = r0 + off;
 * strtoul(buf at fp-8, 4, 0, r4). */
#define MAP_VALUE_RES(fd, off)                                                                                 \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -16, 0), EBPF_LD_MAP_FD(1, fd), EBPF_MOV64_REG(2, 10),                         \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -16), EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem),                    \
        EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_REG(6, 0),          \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, off), BUF_AT_FP8, EBPF_MOV64_REG(4, 6), EBPF_CALL_HELPER(STRTOUL),       \
        EBPF_MOV64_IMM(0, 0), EBPF_EXIT()

Test(verifier_ptr_to_long, map_value)
{
    ACCEPT(SOCK, 0, MAP_VALUE_RES(MAP_HASH, 8));
    REJECT(SOCK, 0, "misaligned value access off 0+4+0 size 8", MAP_VALUE_RES(MAP_HASH, 4));
    REJECT(SOCK, 0, "invalid access to map value, value_size=16 off=12 size=8", MAP_VALUE_RES(MAP_HASH, 12));
    REJECT(SOCK, 0, "write into map forbidden, value_size=8 off=0 size=8", MAP_VALUE_RES(MAP_RDONLY, 0));
}

/* res in the memory block of a MEMORY program (mem, 64 bytes). */
#define MEM_RES(off)                                                                                           \
    EBPF_MOV64_REG(6, 1), BUF_AT_FP8, EBPF_MOV64_REG(4, 6), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, off),              \
        EBPF_CALL_HELPER(STRTOL), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()

Test(verifier_ptr_to_long, memory)
{
    ACCEPT(MEM, 0, MEM_RES(56));
    REJECT(MEM, 0, "misaligned access off 0+4+0 size 8", MEM_RES(4));
    REJECT(MEM, 0, "invalid access to memory, mem_size=64 off=60 size=8", MEM_RES(60));
}

/* res in the packet: data + off, after data + 14 <= data_end. */
#define PKT_RES(off)                                                                                           \
    EBPF_LDX_MEM(EBPF_SIZE_W, 6, 1, 0), EBPF_LDX_MEM(EBPF_SIZE_W, 8, 1, 4), EBPF_MOV64_REG(5, 6),               \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 5, 14), EBPF_JMP_REG(EBPF_JMP_JLE, 5, 8, 2), EBPF_MOV64_IMM(0, 2),        \
        EBPF_EXIT(), BUF_AT_FP8, EBPF_MOV64_REG(4, 6), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, off),                   \
        EBPF_CALL_HELPER(STRTOL), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()

Test(verifier_ptr_to_long, packet)
{
    /* strtol has no packet access in Linux (no pkt_access in its proto). */
    REJECT(XDP, 0, "helper access to the packet is not allowed", PKT_RES(6));
    REJECT(XDP, 0, "helper access to the packet is not allowed", PKT_RES(0));
}

/* ------------------------------------------------- verified program run */

Test(verifier_ptr_to_long, verified_run_all_modes)
{
    /* strtoul("600", 4, 0, fp-16) -> 3; r0 = res << 8 | ret. Then strtol
     * with a bad flag: -EINVAL and res zeroed; r0 += res. */
    struct ebpf_insn p[] = {
        BUF_AT_FP8,
        EBPF_MOV64_REG(4, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -16),
        EBPF_CALL_HELPER(STRTOUL),
        EBPF_MOV64_REG(6, 0),
        EBPF_LDX_MEM(EBPF_SIZE_DW, 7, 10, -16),
        EBPF_ALU64_IMM(EBPF_ALU_LSH, 7, 8),
        EBPF_ALU64_REG(EBPF_ALU_OR, 7, 6),
        EBPF_MOV64_REG(1, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8),
        EBPF_MOV64_IMM(2, 4),
        EBPF_MOV64_IMM(3, 1),
        EBPF_MOV64_REG(4, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -24),
        EBPF_ST_MEM(EBPF_SIZE_DW, 10, -24, 77),
        EBPF_CALL_HELPER(STRTOL),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 22), /* -EINVAL + 22 = 0 */
        EBPF_LDX_MEM(EBPF_SIZE_DW, 8, 10, -24),
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 8),
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7),
        EBPF_EXIT(),
    };
    ebpfvm_vm *vm = verifier_vm();
    ebpfvm_prog *prog;
    cr_assert_eq(verify(vm, p, EBPF_NWORDS(p), MEM, EBPFVM_VERIFY_STRICT, &prog), 0, "%s\n%s",
                 ebpfvm_vm_errmsg(vm), vlog);
    unsigned char mem[64] = {0};
    const uint64_t want = (600u << 8) | 3u;
    enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};
#if !defined(__x86_64__)
    size_t nmodes = 2;
#else
    size_t nmodes = 3;
    cr_assert_eq(ebpfvm_prog_jit(prog, 0), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert(ebpfvm_prog_is_jitted(prog));
#endif
    for (size_t i = 0; i < nmodes; i++) {
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = modes[i]};
        struct ebpfvm_run_result res;
        cr_assert_eq(ebpfvm_prog_run(prog, mem, sizeof mem, &ro, &res), 0, "mode %d: %s", (int)modes[i],
                     res.message);
        cr_expect_eq(res.r0, want, "mode %d: r0 %#llx, want %#llx", (int)modes[i], (unsigned long long)res.r0,
                     (unsigned long long)want);
    }
    ebpfvm_vm_destroy(vm);
}
