/*
 * tests/test_maps_in_map.c - BPF_MAP_TYPE_ARRAY_OF_MAPS and
 * BPF_MAP_TYPE_HASH_OF_MAPS: creation from an inner map template
 * (inner_map_fd), updates checked against it, lookups giving the inner
 * map's fd; the verifier's typing of a lookup (map_value_or_null of the
 * outer map, map_ptr of the template once null-checked, as the kernel);
 * programs looking up through both levels in checked, fast and JIT modes.
 * The ELF side (`__array(values, struct {...})`) is in test_elf.c.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>

#include "insn.h"

static ebpfvm_vm *vm;
static char vlog[1 << 16];

static void setup(void)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), 0, "%s", ebpfvm_vm_errmsg(vm));
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

static int create(enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size, uint32_t max, uint32_t flags,
                  const char *name, int inner, int *fd)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = type, .key_size = key_size, .value_size = value_size,
                                 .max_entries = max, .map_flags = flags, .name = name, .inner_map_fd = inner};
    return ebpfvm_map_create(vm, &def, fd);
}

static int mk(enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size, uint32_t max, uint32_t flags,
              const char *name, int inner)
{
    int fd = -1;
    cr_assert_eq(create(type, key_size, value_size, max, flags, name, inner, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
    return fd;
}

static void expect_err(int rc, int status, const char *text)
{
    cr_assert_eq(rc, status, "status %d, wanted %d (%s)", rc, status, ebpfvm_vm_errmsg(vm));
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), text), "'%s' lacks '%s'", ebpfvm_vm_errmsg(vm), text);
}

static int set_slot(int outer, uint32_t key, int inner, uint64_t flags)
{
    uint32_t v = (uint32_t)inner;
    return ebpfvm_map_update(vm, outer, &key, &v, flags);
}

Test(maps_in_map, create_needs_a_template, .init = setup, .fini = teardown)
{
    int fd = -1;
    int tmpl = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "tmpl", -1);
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, "o", -1, &fd), EBPFVM_ERR_INVAL,
               "map 'o': array_of_maps needs an inner map template (inner_map_fd)");
    /* an old caller's def (sz before inner_map_fd): no template */
    struct ebpfvm_map_def old = {.sz = offsetof(struct ebpfvm_map_def, inner_map_fd), .type = EBPFVM_MAP_HASH_OF_MAPS,
                                 .key_size = 4, .value_size = 4, .max_entries = 2, .name = "old"};
    expect_err(ebpfvm_map_create(vm, &old, &fd), EBPFVM_ERR_INVAL,
               "map 'old': hash_of_maps needs an inner map template (inner_map_fd)");
    /* ... which still creates the other types */
    old.type = EBPFVM_MAP_HASH;
    cr_assert_eq(ebpfvm_map_create(vm, &old, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, "o", 99, &fd), EBPFVM_ERR_INVAL,
               "map 'o': inner_map_fd 99 is not a map");
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 8, 2, 0, "o", tmpl, &fd), EBPFVM_ERR_INVAL,
               "map 'o': value_size 8 is invalid for array_of_maps: must be 4 (an inner map fd)");
    expect_err(create(EBPFVM_MAP_HASH_OF_MAPS, 4, 8, 2, 0, "o", tmpl, &fd), EBPFVM_ERR_INVAL,
               "map 'o': value_size 8 is invalid for hash_of_maps: must be 4 (an inner map fd)");
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 8, 4, 2, 0, "o", tmpl, &fd), EBPFVM_ERR_INVAL,
               "map 'o': key_size 8 is invalid for array_of_maps: must be 4");
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0x80 /* BPF_F_RDONLY_PROG */, "o", tmpl, &fd),
               EBPFVM_ERR_INVAL, "map 'o': map_flags 0x80 is invalid for array_of_maps: unknown flag");
    int aom = mk(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, "aom", tmpl);
    expect_err(create(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, "o", aom, &fd), EBPFVM_ERR_INVAL,
               "map 'o': the inner map cannot be a map-in-map (array_of_maps)");
    int pa = mk(EBPFVM_MAP_PROG_ARRAY, 4, 4, 2, 0, "pa", -1);
    expect_err(create(EBPFVM_MAP_HASH_OF_MAPS, 4, 4, 2, 0, "o", pa, &fd), EBPFVM_ERR_UNSUPP,
               "map 'o': a prog_array cannot be an inner map");
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, aom, &info), 0);
    cr_assert_eq(info.type, EBPFVM_MAP_ARRAY_OF_MAPS);
    cr_assert_eq(info.value_size, 4);
    /* fd 0 is a map: a template like any other */
    cr_assert_eq(tmpl, 0);
}

Test(maps_in_map, array_of_maps_update_lookup_delete, .init = setup, .fini = teardown)
{
    int tmpl = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "tmpl", -1);
    int a = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "a", -1);
    int outer = mk(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 3, 0, "outer", tmpl);
    uint32_t key = 1, v = 77;
    expect_err(ebpfvm_map_lookup(vm, outer, &key, &v), EBPFVM_ERR_NOENT, "map 'outer': lookup: key not found");
    cr_assert_eq(set_slot(outer, 1, a, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(set_slot(outer, 2, tmpl, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), 0);
    cr_assert_eq(v, (uint32_t)a);
    key = 2;
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), 0);
    cr_assert_eq(v, (uint32_t)tmpl);
    uint32_t next;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, outer, NULL, &next), 0);
    cr_assert_eq(next, 0);
    /* errors, as the kernel's fd arrays */
    expect_err(set_slot(outer, 0, a, EBPFVM_NOEXIST), EBPFVM_ERR_INVAL,
               "map 'outer': update: array_of_maps takes BPF_ANY only (flags 1)");
    expect_err(set_slot(outer, 3, a, EBPFVM_ANY), EBPFVM_ERR_RANGE,
               "map 'outer': update: index 3 out of range (max_entries 3)");
    expect_err(set_slot(outer, 0, 42, EBPFVM_ANY), EBPFVM_ERR_INVAL, "map 'outer': update: value 42 is not a map fd");
    int h = mk(EBPFVM_MAP_HASH, 4, 8, 4, 0, "h", -1);
    expect_err(set_slot(outer, 0, h, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'outer': update: inner map 'h' has type hash, the template array");
    int k8 = mk(EBPFVM_MAP_ARRAY, 4, 16, 4, 0, "v16", -1);
    expect_err(set_slot(outer, 0, k8, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'outer': update: inner map 'v16' has value_size 16, the template 8");
    int small = mk(EBPFVM_MAP_ARRAY, 4, 8, 2, 0, "small", -1);
    expect_err(set_slot(outer, 0, small, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'outer': update: inner map 'small' has max_entries 2, the template 4");
    int ro = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0x80, "ro", -1);
    expect_err(set_slot(outer, 0, ro, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'outer': update: inner map 'ro' has map_flags 0x80, the template 0x0");
    expect_err(set_slot(outer, 0, outer, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'outer': update: inner map 'outer' has type array_of_maps, the template array");
    /* BPF_F_INNER_MAP in the template: any max_entries */
    int flex = mk(EBPFVM_MAP_ARRAY, 4, 8, 1, 0x1000 /* BPF_F_INNER_MAP */, "flex", -1);
    int big = mk(EBPFVM_MAP_ARRAY, 4, 8, 100, 0x1000, "big", -1);
    int outer2 = mk(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 1, 0, "outer2", flex);
    cr_assert_eq(set_slot(outer2, 0, big, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
    /* delete */
    key = 1;
    cr_assert_eq(ebpfvm_map_delete(vm, outer, &key), 0);
    expect_err(ebpfvm_map_delete(vm, outer, &key), EBPFVM_ERR_NOENT, "map 'outer': delete: key not found");
    expect_err(ebpfvm_map_lookup(vm, outer, &key, &v), EBPFVM_ERR_NOENT, "map 'outer': lookup: key not found");
    key = 5;
    expect_err(ebpfvm_map_delete(vm, outer, &key), EBPFVM_ERR_RANGE,
               "map 'outer': delete: index 5 out of range (max_entries 3)");
}

Test(maps_in_map, hash_of_maps, .init = setup, .fini = teardown)
{
    int tmpl = mk(EBPFVM_MAP_HASH, 8, 4, 16, 0, "tmpl", -1);
    int a = mk(EBPFVM_MAP_HASH, 8, 4, 2, 0, "a", -1); /* max_entries may differ for hashes */
    int outer = mk(EBPFVM_MAP_HASH_OF_MAPS, 4, 4, 2, 0, "hom", tmpl);
    cr_assert_eq(set_slot(outer, 1000, a, EBPFVM_NOEXIST), 0, "%s", ebpfvm_vm_errmsg(vm));
    expect_err(set_slot(outer, 1000, a, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST,
               "map 'hom': update with BPF_NOEXIST: key already exists");
    uint32_t key = 1000, v = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), 0);
    cr_assert_eq(v, (uint32_t)a);
    int k4 = mk(EBPFVM_MAP_HASH, 4, 4, 2, 0, "k4", -1);
    expect_err(set_slot(outer, 7, k4, EBPFVM_ANY), EBPFVM_ERR_INVAL,
               "map 'hom': update: inner map 'k4' has key_size 4, the template 8");
    cr_assert_eq(ebpfvm_map_delete(vm, outer, &key), 0);
    expect_err(ebpfvm_map_lookup(vm, outer, &key, &v), EBPFVM_ERR_NOENT, "map 'hom': lookup: key not found");
}

/* ------------------------------------------------------------ programs */

/* fd 0: template array (4 x u64), 1: inner array (4 x u64, [1] = 41),
 * 2: array_of_maps (2 slots, [0] = 1), 3: hash_of_maps ({5} = 1). */
static void programs_setup(void)
{
    setup();
    int tmpl = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "tmpl", -1);
    int inner = mk(EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "inner", -1);
    int aom = mk(EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, "aom", tmpl);
    int hom = mk(EBPFVM_MAP_HASH_OF_MAPS, 4, 4, 2, 0, "hom", tmpl);
    cr_assert_eq(inner, 1);
    cr_assert_eq(aom, 2);
    cr_assert_eq(hom, 3);
    uint32_t key = 1;
    uint64_t value = 41;
    cr_assert_eq(ebpfvm_map_update(vm, inner, &key, &value, EBPFVM_ANY), 0);
    cr_assert_eq(set_slot(aom, 0, inner, EBPFVM_ANY), 0);
    cr_assert_eq(set_slot(hom, 5, inner, EBPFVM_ANY), 0);
}

static int verify(const struct ebpf_insn *insns, size_t n, ebpfvm_prog **out)
{
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_MEMORY, .name = "mim"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog};
    vlog[0] = '\0';
    int rc = ebpfvm_prog_verify(prog, &vo);
    if (out)
        *out = prog;
    else
        ebpfvm_prog_destroy(prog);
    return rc;
}

static void expect_reject(const struct ebpf_insn *insns, size_t n, const char *text)
{
    int rc = verify(insns, n, NULL);
    cr_assert_eq(rc, EBPFVM_ERR_VERIFY, "status %d\n%s", rc, vlog);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), text), "'%s' lacks '%s'\n%s", ebpfvm_vm_errmsg(vm), text, vlog);
}

#define KEY(k) EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, k), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4)
/* r0 = lookup(outer fd, key k) */
#define LOOKUP_OUTER(fd, k) KEY(k), EBPF_LD_MAP_FD(1, fd), EBPF_CALL_HELPER(1)

static uint64_t run(ebpfvm_prog *prog, enum ebpfvm_exec_mode mode)
{
    uint8_t mem[16] = {0};
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = mode};
    struct ebpfvm_run_result res;
    int rc = ebpfvm_prog_run(prog, mem, sizeof mem, &ro, &res);
    cr_assert_eq(rc, 0, "mode %d: %d %s", mode, rc, res.message);
    return res.r0;
}

Test(maps_in_map, lookup_then_lookup_runs_in_every_mode, .init = programs_setup, .fini = teardown)
{
    struct ebpf_insn insns[] = {
        LOOKUP_OUTER(2, 0),
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 9),
        EBPF_MOV64_REG(1, 0), /* the inner map */
        KEY(1),
        EBPF_CALL_HELPER(1),
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 3),
        EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1),
        EBPF_EXIT(),
        EBPF_MOV64_IMM(0, 0),
        EBPF_EXIT(),
    };
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(verify(insns, EBPF_NWORDS(insns), &prog), 0, "%s\n%s", ebpfvm_vm_errmsg(vm), vlog);
    /* the log types the result as the kernel does */
    cr_assert(strstr(vlog, "R0=map_value_or_null(id=1,map=aom,ks=4,vs=4)"), "%s", vlog);
    cr_assert(strstr(vlog, "R1=map_ptr(ks=4,vs=8)"), "%s", vlog);
    cr_assert_eq(run(prog, EBPFVM_EXEC_CHECKED), 42);
    cr_assert_eq(run(prog, EBPFVM_EXEC_FAST), 42);
    if (ebpfvm_prog_jit(prog, 0) == 0)
        cr_assert_eq(run(prog, EBPFVM_EXEC_JIT), 42);
    /* an empty slot: NULL */
    uint32_t key = 0;
    cr_assert_eq(ebpfvm_map_delete(vm, 2, &key), 0);
    cr_assert_eq(run(prog, EBPFVM_EXEC_CHECKED), 0);
    cr_assert_eq(run(prog, EBPFVM_EXEC_FAST), 0);
    ebpfvm_prog_destroy(prog);
}

Test(maps_in_map, hash_of_maps_lookup_and_inner_update, .init = programs_setup, .fini = teardown)
{
    /* inner = hom{5}; inner[1] = 7 through map_update_elem on the inner map */
    struct ebpf_insn insns[] = {
        LOOKUP_OUTER(3, 5),
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 11),
        EBPF_MOV64_REG(1, 0),
        KEY(1),
        EBPF_ST_MEM(EBPF_SIZE_DW, 10, -16, 7),
        EBPF_MOV64_REG(3, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
        EBPF_MOV64_IMM(4, 0),
        EBPF_CALL_HELPER(2),
        EBPF_MOV64_IMM(0, 0),
        EBPF_EXIT(),
        EBPF_MOV64_IMM(0, 99),
        EBPF_EXIT(),
    };
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(verify(insns, EBPF_NWORDS(insns), &prog), 0, "%s\n%s", ebpfvm_vm_errmsg(vm), vlog);
    enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};
    bool jit = ebpfvm_prog_jit(prog, 0) == 0;
    for (size_t i = 0; i < (jit ? 3u : 2u); i++) {
        uint32_t key = 1;
        uint64_t value = 0;
        cr_assert_eq(ebpfvm_map_update(vm, 1, &key, &value, EBPFVM_ANY), 0);
        cr_assert_eq(run(prog, modes[i]), 0);
        cr_assert_eq(ebpfvm_map_lookup(vm, 1, &key, &value), 0);
        cr_assert_eq(value, 7, "mode %d", modes[i]);
    }
    ebpfvm_prog_destroy(prog);
}

Test(maps_in_map, verifier_rejections, .init = programs_setup, .fini = teardown)
{
    struct ebpf_insn no_null_check[] = {
        LOOKUP_OUTER(2, 0), EBPF_MOV64_REG(1, 0), KEY(0), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
    };
    expect_reject(no_null_check, EBPF_NWORDS(no_null_check), "R1 type=map_value_or_null expected=map_ptr");
    struct ebpf_insn arith_before_check[] = {
        LOOKUP_OUTER(2, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
    };
    expect_reject(arith_before_check, EBPF_NWORDS(arith_before_check),
                  "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first");
    struct ebpf_insn arith_on_inner[] = {
        LOOKUP_OUTER(2, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5), EBPF_MOV64_REG(1, 0), KEY(0),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 8), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
    };
    expect_reject(arith_on_inner, EBPF_NWORDS(arith_on_inner), "R1 pointer arithmetic on map_ptr prohibited");
    struct ebpf_insn update_outer[] = {
        KEY(0), EBPF_MOV64_REG(3, 2), EBPF_MOV64_IMM(4, 0), EBPF_LD_MAP_FD(1, 2), EBPF_CALL_HELPER(2), EBPF_EXIT(),
    };
    expect_reject(update_outer, EBPF_NWORDS(update_outer), "cannot pass map_type 12 into func bpf_map_update_elem#2");
    struct ebpf_insn delete_outer[] = {KEY(0), EBPF_LD_MAP_FD(1, 3), EBPF_CALL_HELPER(3), EBPF_EXIT()};
    expect_reject(delete_outer, EBPF_NWORDS(delete_outer), "cannot pass map_type 13 into func bpf_map_delete_elem#3");
    struct ebpf_insn read_inner[] = {
        LOOKUP_OUTER(2, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0), EBPF_EXIT(),
    };
    expect_reject(read_inner, EBPF_NWORDS(read_inner), "R0 invalid mem access 'map_ptr'");
}

/* A state where r6 is the checked inner map on two paths: the second is
 * pruned (the same template), and the program is accepted. */
Test(maps_in_map, pruning_compares_the_template, .init = programs_setup, .fini = teardown)
{
    struct ebpf_insn insns[] = {
        LOOKUP_OUTER(2, 0),
        EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 1),
        EBPF_EXIT(),
        EBPF_MOV64_REG(6, 0),
        LOOKUP_OUTER(3, 5),
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1),
        EBPF_MOV64_REG(6, 0), /* same template: states agree */
        EBPF_MOV64_REG(1, 6),
        KEY(1),
        EBPF_CALL_HELPER(1),
        EBPF_MOV64_IMM(0, 0),
        EBPF_EXIT(),
    };
    cr_assert_eq(verify(insns, EBPF_NWORDS(insns), NULL), 0, "%s\n%s", ebpfvm_vm_errmsg(vm), vlog);
}
