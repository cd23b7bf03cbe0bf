/*
 * tests/test_maps_prog.c - the map helpers called by programs: LD_IMM64
 * map references (src 1) and direct values (src 2), lookup/update/delete
 * with Linux errno returns, per-CPU slots by worker index, LRU marking by
 * program lookups, checked-mode faults, and prog arrays.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

#include "insn.h"
#include "maps/map.h"

static ebpfvm_vm *vm;

static void setup(void)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 2), 0);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), 0, "%s", ebpfvm_vm_errmsg(vm));
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

static int mk(enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size, uint32_t max, uint32_t flags,
              const char *name)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = type, .key_size = key_size, .value_size = value_size,
                                 .max_entries = max, .map_flags = flags, .name = name};
    int fd;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
    return fd;
}

static int run_mode(const struct ebpf_insn *insns, size_t count, enum ebpfvm_exec_mode mode, uint32_t cpu,
                    struct ebpfvm_run_result *res)
{
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    cr_assert_eq(err, 0, "load: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = mode, .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST,
                                   .cpu = cpu};
    err = ebpfvm_prog_run(prog, NULL, 0, &opts, res);
    ebpfvm_prog_destroy(prog);
    return err;
}

/* r0 of a run in both modes (asserted equal); the map effects happen twice. */
static uint64_t run_ok(const struct ebpf_insn *insns, size_t count, enum ebpfvm_exec_mode mode, uint32_t cpu)
{
    struct ebpfvm_run_result res;
    int err = run_mode(insns, count, mode, cpu, &res);
    cr_assert_eq(err, 0, "mode %d: %s", mode, res.message);
    return res.r0;
}

/* key u32 at fp-4 = k; r1 = map fd; r2 = fp-4; call lookup; if NULL r0 = 0
 * else r0 = *(u64 *)value += 1 (atomically), returning the new count. */
#define COUNT_PROG(fd, k)                                                                                     \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, k), EBPF_LD_MAP_FD(1, fd), EBPF_MOV64_REG(2, 10),                        \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_CALL_HELPER(1), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 1),          \
        EBPF_EXIT(), EBPF_MOV64_IMM(1, 1), EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD, 0, 1, 0),               \
        EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0), EBPF_EXIT()

Test(maps_prog, array_lookup_counts, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "counters");
    struct ebpf_insn prog[] = {COUNT_PROG(0, 2)};
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_CHECKED, 0), 1);
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_FAST, 0), 2);
    uint32_t key = 2;
    uint64_t value;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, &value), 0);
    cr_assert_eq(value, 2);
    struct ebpf_insn out_of_range[] = {COUNT_PROG(0, 4)};
    cr_assert_eq(run_ok(out_of_range, EBPF_NWORDS(out_of_range), EBPFVM_EXEC_CHECKED, 0), 0, "NULL for index 4");
}

Test(maps_prog, percpu_slot_follows_the_worker, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_PERCPU_ARRAY, 4, 8, 1, 0, "pc");
    struct ebpf_insn prog[] = {COUNT_PROG(0, 0)};
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_CHECKED, 1), 1);
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_FAST, 1), 2);
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_CHECKED, 0), 1);
    uint32_t key = 0;
    uint64_t values[2];
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, values), 0);
    cr_assert_eq(values[0], 1);
    cr_assert_eq(values[1], 2);
}

Test(maps_prog, direct_value_ld_imm64_src2, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_ARRAY, 4, 16, 1, 0, ".data");
    uint32_t key = 0;
    uint8_t init[16] = {0};
    init[8] = 42;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, init, 0), 0);
    struct ebpf_insn prog[] = {
        EBPF_LD_MAP_VALUE(1, 0, 8),
        EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, 0),
        EBPF_ST_MEM(EBPF_SIZE_B, 1, -8, 7), /* byte 0 of the value */
        EBPF_EXIT(),
    };
    cr_assert_eq(run_ok(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_CHECKED, 0), 42);
    uint8_t out[16];
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), 0);
    cr_assert_eq(out[0], 7);
    /* the kernel allows direct access only to one-element arrays, inside the value */
    int big = mk(EBPFVM_MAP_ARRAY, 4, 16, 2, 0, "big");
    struct ebpf_insn bad[] = {EBPF_LD_MAP_VALUE(0, big, 0), EBPF_EXIT()};
    ebpfvm_prog *p = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, bad, EBPF_NWORDS(bad), NULL, &p), EBPFVM_ERR_BADPROG);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "direct value access to map 1 at offset 0 is not allowed"), "%s",
              ebpfvm_vm_errmsg(vm));
    struct ebpf_insn past[] = {EBPF_LD_MAP_VALUE(0, fd, 16), EBPF_EXIT()};
    cr_assert_eq(ebpfvm_prog_load(vm, past, EBPF_NWORDS(past), NULL, &p), EBPFVM_ERR_BADPROG);
}

/* update(key 5, value 9, flags) then return its result. */
#define UPDATE_PROG(fd, flags)                                                                                \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 5), EBPF_ST_MEM(EBPF_SIZE_DW, 10, -16, 9), EBPF_LD_MAP_FD(1, fd),        \
        EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_MOV64_REG(3, 10),                     \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16), EBPF_MOV64_IMM(4, flags), EBPF_CALL_HELPER(2), EBPF_EXIT()

#define DELETE_PROG(fd)                                                                                       \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 5), EBPF_LD_MAP_FD(1, fd), EBPF_MOV64_REG(2, 10),                        \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_CALL_HELPER(3), EBPF_EXIT()

Test(maps_prog, update_delete_return_linux_errno, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_HASH, 4, 8, 1, 0, "h");
    struct ebpf_insn exist[] = {UPDATE_PROG(0, EBPFVM_EXIST)};
    struct ebpf_insn noexist[] = {UPDATE_PROG(0, EBPFVM_NOEXIST)};
    struct ebpf_insn badflags[] = {UPDATE_PROG(0, 7)};
    struct ebpf_insn del[] = {DELETE_PROG(0)};
    cr_assert_eq((int64_t)run_ok(exist, EBPF_NWORDS(exist), EBPFVM_EXEC_CHECKED, 0), -2, "ENOENT");
    cr_assert_eq(run_ok(noexist, EBPF_NWORDS(noexist), EBPFVM_EXEC_CHECKED, 0), 0);
    cr_assert_eq((int64_t)run_ok(noexist, EBPF_NWORDS(noexist), EBPFVM_EXEC_FAST, 0), -17, "EEXIST");
    cr_assert_eq((int64_t)run_ok(badflags, EBPF_NWORDS(badflags), EBPFVM_EXEC_CHECKED, 0), -22, "EINVAL");
    uint32_t key = 5;
    uint64_t value;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, &value), 0);
    cr_assert_eq(value, 9);
    key = 6;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &value, 0), EBPFVM_ERR_RANGE);
    cr_assert_eq(run_ok(del, EBPF_NWORDS(del), EBPFVM_EXEC_CHECKED, 0), 0);
    cr_assert_eq((int64_t)run_ok(del, EBPF_NWORDS(del), EBPFVM_EXEC_CHECKED, 0), -2);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &value, 0), 0);
    struct ebpf_insn full[] = {UPDATE_PROG(0, EBPFVM_ANY)};
    cr_assert_eq((int64_t)run_ok(full, EBPF_NWORDS(full), EBPFVM_EXEC_CHECKED, 0), -7, "E2BIG");
    int arr = mk(EBPFVM_MAP_ARRAY, 4, 8, 8, 0, "a");
    struct ebpf_insn del_arr[] = {DELETE_PROG(1)};
    cr_assert_eq(arr, 1);
    cr_assert_eq((int64_t)run_ok(del_arr, EBPF_NWORDS(del_arr), EBPFVM_EXEC_CHECKED, 0), -22, "arrays: EINVAL");
}

Test(maps_prog, lru_lookup_by_program_protects, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_LRU_HASH, 4, 8, 3, 0, "lru");
    uint64_t v = 0;
    for (uint32_t k = 0; k < 3; k++)
        cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, 0), 0);
    /* key 0 is the oldest; a program lookup marks it used */
    struct ebpf_insn touch[] = {COUNT_PROG(0, 0)};
    cr_assert_eq(run_ok(touch, EBPF_NWORDS(touch), EBPFVM_EXEC_CHECKED, 0), 1);
    uint32_t k = 3;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, 0), 0);
    k = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &v), 0, "key 0 survived");
    k = 1;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &v), EBPFVM_ERR_NOENT, "key 1 was evicted instead");
}

static void expect_fault(const struct ebpf_insn *insns, size_t count, const char *text)
{
    struct ebpfvm_run_result res;
    cr_assert_eq(run_mode(insns, count, EBPFVM_EXEC_CHECKED, 0, &res), EBPFVM_ERR_FAULT, "no fault, r0 %llu",
                 (unsigned long long)res.r0);
    cr_assert(strstr(res.message, text), "'%s' lacks '%s'", res.message, text);
}

Test(maps_prog, checked_mode_faults, .init = setup, .fini = teardown)
{
    mk(EBPFVM_MAP_HASH, 4, 8, 4, 0x80 /* BPF_F_RDONLY_PROG */, "ro");
    mk(EBPFVM_MAP_PROG_ARRAY, 4, 4, 4, 0, "jmp");
    mk(EBPFVM_MAP_DEVMAP, 4, 4, 4, 0, "ports");
    struct ebpf_insn bogus_map[] = {
        EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_LD_IMM64(1, 0x1000), EBPF_MOV64_REG(2, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_CALL_HELPER(1), EBPF_EXIT(),
    };
    expect_fault(bogus_map, EBPF_NWORDS(bogus_map), "insn 5: map_lookup_elem: r1 0x1000 is not a map of this vm");
    struct ebpf_insn bad_key[] = {EBPF_LD_MAP_FD(1, 0), EBPF_MOV64_IMM(2, 16), EBPF_CALL_HELPER(1), EBPF_EXIT()};
    expect_fault(bad_key, EBPF_NWORDS(bad_key),
                 "insn 3: map_lookup_elem: r2 0x10 is not readable memory for the key (4 bytes)");
    struct ebpf_insn ro[] = {UPDATE_PROG(0, 0)};
    expect_fault(ro, EBPF_NWORDS(ro),
                 "map_update_elem: hash map 'ro' is read-only for programs (BPF_F_RDONLY_PROG)");
    struct ebpf_insn pa[] = {COUNT_PROG(1, 0)};
    expect_fault(pa, EBPF_NWORDS(pa), "map_lookup_elem: not allowed on prog_array map 'jmp'");
    struct ebpf_insn dev[] = {UPDATE_PROG(2, 0)};
    expect_fault(dev, EBPF_NWORDS(dev), "map_update_elem: not allowed on devmap map 'ports' from a program");
    /* a key that straddles the end of the stack */
    struct ebpf_insn straddle[] = {
        EBPF_LD_MAP_FD(1, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -2),
        EBPF_CALL_HELPER(1), EBPF_EXIT(),
    };
    expect_fault(straddle, EBPF_NWORDS(straddle), "is not readable memory for the key (4 bytes)");
    /* the value region is exactly value_size: reading past it faults */
    int arr = mk(EBPFVM_MAP_ARRAY, 4, 8, 1, 0, "small");
    cr_assert_eq(arr, 3);
    struct ebpf_insn past[] = {
        EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_LD_MAP_FD(1, 3), EBPF_MOV64_REG(2, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_CALL_HELPER(1), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 1),
        EBPF_EXIT(), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 8), EBPF_EXIT(),
    };
    struct ebpfvm_run_result res;
    cr_assert_eq(run_mode(past, EBPF_NWORDS(past), EBPFVM_EXEC_CHECKED, 0, &res), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 8:"), "%s", res.message);
}

Test(maps_prog, register_twice_reports_exist, .init = setup, .fini = teardown)
{
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), EBPFVM_ERR_EXIST);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "id already registered as map_lookup_elem"), "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_vm_register_map_helpers(NULL), EBPFVM_ERR_INVAL);
}

Test(maps_prog, prog_array_slots, .init = setup, .fini = teardown)
{
    int fd = mk(EBPFVM_MAP_PROG_ARRAY, 4, 4, 4, 0, "jmp");
    struct ebpf_insn ret7[] = {EBPF_MOV64_IMM(0, 7), EBPF_EXIT()};
    ebpfvm_prog *p = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, NULL, &p), 0);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 1, p), 0);
    const struct ebpfvm_map *map = vm->maps[fd];
    cr_assert_eq(ebpfvm__prog_array_get(map, 1), p);
    cr_assert_null(ebpfvm__prog_array_get(map, 0));
    cr_assert_null(ebpfvm__prog_array_get(map, 4));
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 4, p), EBPFVM_ERR_RANGE);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'jmp': prog_array_set: index 4 out of range (max_entries 4)");
    uint32_t key = 1, value = 3;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &value, 0), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'jmp': update: prog_array values are programs: use ebpfvm_prog_array_set()");
    uint32_t next;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &key, &next), 0);
    cr_assert_eq(next, 2);
    /* destroying the program empties its slots */
    ebpfvm_prog_destroy(p);
    cr_assert_null(ebpfvm__prog_array_get(map, 1));
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &key), EBPFVM_ERR_NOENT);
    int arr = mk(EBPFVM_MAP_ARRAY, 4, 4, 4, 0, "arr");
    cr_assert_eq(ebpfvm_prog_array_set(vm, arr, 0, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'arr': prog_array_set: the map is a array, not a prog_array");
}
