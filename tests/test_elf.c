/*
 * tests/test_elf.c - the ELF object loader (include/ebpfvm/loader.h) on
 * objects built by clang from tests/bpf/ (C sources): programs and their sections and
 * types, linked instructions (map fds, data references, bpf-to-bpf calls),
 * maps with their definitions and initial data, license and version, every
 * rejection with its message, malformed objects (truncated, corrupted
 * headers, section table, symbols, BTF) and allocation failures, and runs of
 * loaded programs in the interpreter.
 *
 * Objects live in EBPFVM_BINARY_DIR/tests/bpf; tests skip when they were not
 * built (no clang) and the whole file is one skipped test without libelf.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

#ifndef EBPFVM_HAVE_ELF

Test(elf, skipped_without_libelf)
{
    cr_skip_test("the library was built without libelf: no ELF loader");
}

#else

#include <ebpfvm/loader.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h> /* ebpfvm_vm_register_std_helpers: bpf_tail_call */

#include "alloc_fail.h"

#define OBJ_DIR EBPFVM_BINARY_DIR "/tests/bpf/"

static char *obj_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, OBJ_DIR "%s.o", name);
    return path;
}

/* The object's bytes (malloc'd), or skip the test when it was not built. */
static uint8_t *read_obj(const char *name, size_t *size)
{
    FILE *f = fopen(obj_path(name), "rb");
    if (!f)
        cr_skip_test("%s was not built (no clang?)", obj_path(name));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), 0);
    return vm;
}

static ebpfvm_object *open_ok(ebpfvm_vm *vm, const char *name)
{
    size_t size;
    free(read_obj(name, &size)); /* skips when absent */
    ebpfvm_object *obj = NULL;
    int rc = ebpfvm_object_open(vm, obj_path(name), NULL, &obj);
    cr_assert_eq(rc, 0, "open %s: %d %s", name, rc, ebpfvm_vm_errmsg(vm));
    cr_assert(obj);
    return obj;
}

/* Open an object expecting failure; returns the status, message in vm. */
static int open_fail(ebpfvm_vm *vm, const char *name)
{
    size_t size;
    free(read_obj(name, &size));
    ebpfvm_object *obj = (ebpfvm_object *)1;
    int rc = ebpfvm_object_open(vm, obj_path(name), NULL, &obj);
    cr_assert_neq(rc, 0, "open %s succeeded", name);
    cr_assert_null(obj);
    return rc;
}

static size_t prog_index(ebpfvm_object *obj, const char *section, const char *name)
{
    size_t i = 99;
    cr_assert_eq(ebpfvm_object_find_program(obj, section, name, &i), 0, "%s",
                 ebpfvm_vm_errmsg(NULL));
    return i;
}

static int map_fd(ebpfvm_object *obj, const char *name)
{
    int fd = -1;
    cr_assert_eq(ebpfvm_object_map_fd(obj, name, &fd), 0, "map %s", name);
    return fd;
}

static void assert_map(ebpfvm_vm *vm, int fd, enum ebpfvm_map_type type, uint32_t key, uint32_t value,
                       uint32_t max, uint32_t flags, const char *name)
{
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, fd, &info), 0);
    cr_assert_eq(info.type, type, "%s type %d", name, info.type);
    cr_assert_eq(info.key_size, key, "%s key_size %u", name, info.key_size);
    cr_assert_eq(info.value_size, value, "%s value_size %u", name, info.value_size);
    cr_assert_eq(info.max_entries, max, "%s max_entries %u", name, info.max_entries);
    cr_assert_eq(info.map_flags, flags, "%s map_flags 0x%x", name, info.map_flags);
    cr_assert_str_eq(info.name, name);
}

static uint64_t run_memory(ebpfvm_object *obj, size_t index)
{
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_set_program_type(obj, index, EBPFVM_PROG_TYPE_MEMORY), 0);
    int rc = ebpfvm_object_load_program(obj, index, &prog);
    cr_assert_eq(rc, 0, "load: %s", ebpfvm_vm_errmsg(NULL));
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    struct ebpfvm_run_result res;
    uint8_t mem[16] = {0};
    rc = ebpfvm_prog_run(prog, mem, sizeof mem, &ro, &res);
    cr_assert_eq(rc, 0, "run: %s", res.message);
    return res.r0;
}

/* ------------------------------------------------------------ programs */

Test(elf_programs, xdp_drop)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "xdp_drop");
    cr_assert_str_eq(ebpfvm_object_name(obj), obj_path("xdp_drop"));
    cr_assert_eq(ebpfvm_object_program_count(obj), 1);
    cr_assert_str_eq(ebpfvm_object_program_name(obj, 0), "xdp_drop_prog");
    cr_assert_str_eq(ebpfvm_object_program_section(obj, 0), "xdp");
    cr_assert_null(ebpfvm_object_program_name(obj, 1));
    enum ebpfvm_prog_type type = EBPFVM_PROG_TYPE_MEMORY;
    cr_assert_eq(ebpfvm_object_program_type(obj, 0, &type), 0);
    cr_assert_eq(type, EBPFVM_PROG_TYPE_XDP);
    cr_assert_str_eq(ebpfvm_object_license(obj), "GPL");
    cr_assert_eq(ebpfvm_object_kversion(obj), 0);
    cr_assert_eq(ebpfvm_object_map_count(obj), 0);
    size_t n = 0;
    const struct ebpf_insn *insns = ebpfvm_object_program_insns(obj, 0, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(insns[0].opcode, 0xb4); /* w0 = 1 */
    cr_assert_eq(insns[0].imm, 1);
    cr_assert_eq(insns[1].opcode, 0x95);
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, 0, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_object_load_program(obj, 1, &prog), EBPFVM_ERR_NOENT);
    cr_assert_null(prog);
    ebpfvm_object_close(obj);
    ebpfvm_object_close(NULL);
    ebpfvm_vm_destroy(vm);
}

Test(elf_programs, several_programs_sections_and_find)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "multi");
    static const char *const names[] = {"first", "second", "on_devmap", "frags", "legacy_pass", "classifier"};
    static const char *const sections[] = {"xdp", "xdp", "xdp/devmap", "xdp.frags", "xdp_pass", "tc"};
    cr_assert_eq(ebpfvm_object_program_count(obj), 6);
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(ebpfvm_object_program_name(obj, i), names[i]);
        cr_assert_str_eq(ebpfvm_object_program_section(obj, i), sections[i]);
        enum ebpfvm_prog_type type;
        int rc = ebpfvm_object_program_type(obj, i, &type);
        if (i < 5) {
            cr_assert_eq(rc, 0);
            cr_assert_eq(type, EBPFVM_PROG_TYPE_XDP, "%s", names[i]);
        } else {
            cr_assert_eq(rc, EBPFVM_ERR_UNSUPP);
            cr_assert(strstr(ebpfvm_vm_errmsg(vm), "program classifier: section tc has no ebpfvm program type"),
                      "%s", ebpfvm_vm_errmsg(vm));
        }
    }
    cr_assert_eq(prog_index(obj, "xdp", NULL), 0);
    cr_assert_eq(prog_index(obj, "xdp", "second"), 1);
    cr_assert_eq(prog_index(obj, "xdp/devmap", NULL), 2);
    cr_assert_eq(prog_index(obj, NULL, "frags"), 3);
    cr_assert_eq(prog_index(obj, "xdp.frags", NULL), 3);
    cr_assert_eq(prog_index(obj, "xdp", "legacy_pass"), 4); /* by libbpf's xdp* rule */
    cr_assert_eq(prog_index(obj, "xdp", "on_devmap"), 2);
    cr_assert_eq(prog_index(obj, "tc", NULL), 5);
    size_t idx = 77;
    cr_assert_eq(ebpfvm_object_find_program(obj, "kprobe/x", NULL, &idx), EBPFVM_ERR_NOENT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm),
                     "multi.o: no program in section kprobe/x (programs: first (section xdp), second (section xdp), "
                     "on_devmap (section xdp/devmap), frags (section xdp.frags), legacy_pass (section xdp_pass), "
                     "classifier (section tc))"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_object_find_program(obj, "tc", "first", &idx), EBPFVM_ERR_NOENT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "no program in section tc named 'first'"), "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(idx, 77);

    /* Two programs call the same .text function: each gets its own copy. */
    size_t n0 = 0, n2 = 0;
    const struct ebpf_insn *p0 = ebpfvm_object_program_insns(obj, 0, &n0);
    const struct ebpf_insn *p2 = ebpfvm_object_program_insns(obj, 2, &n2);
    cr_assert_eq(n0, 3 + 3);
    cr_assert_eq(n2, 3 + 3);
    cr_assert_eq(p0[1].opcode, 0x85);
    cr_assert_eq(p0[1].src_reg, EBPF_PSEUDO_CALL_LOCAL);
    cr_assert_eq(p0[1].imm, 1); /* 1 + 1 + 1 = 3, the start of verdict */
    cr_assert_eq(p2[1].imm, 1);

    /* No type for tc: loading needs one set. */
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, 5, &prog), EBPFVM_ERR_UNSUPP);
    cr_assert_eq(ebpfvm_object_set_program_type(obj, 5, (enum ebpfvm_prog_type)9), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "unknown program type 9"));
    cr_assert_eq(ebpfvm_object_set_program_type(obj, 9, EBPFVM_PROG_TYPE_MEMORY), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_object_set_program_type(obj, 5, EBPFVM_PROG_TYPE_MEMORY), 0);
    cr_assert_eq(ebpfvm_object_load_program(obj, 5, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(ebpfvm_object_load_program(obj, i, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_programs, bpf_to_bpf_calls_append_subprograms)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "bpf2bpf");
    cr_assert_eq(ebpfvm_object_program_count(obj), 3); /* .text functions are not programs */
    size_t n = 0;
    /* calls: 4 words, then add_squares (7, calls square twice), then square (3). */
    const struct ebpf_insn *p = ebpfvm_object_program_insns(obj, prog_index(obj, NULL, "calls"), &n);
    cr_assert_eq(n, 14);
    cr_assert_eq(p[2].opcode, 0x85);
    cr_assert_eq(p[2].src_reg, EBPF_PSEUDO_CALL_LOCAL);
    cr_assert_eq(p[2].imm, 4 - 3);
    cr_assert_eq(p[5].opcode, 0x85);
    cr_assert_eq(p[5].imm, 11 - 6);
    cr_assert_eq(p[8].imm, 11 - 9);
    /* calls_one: only square is appended (via the .text section symbol). */
    p = ebpfvm_object_program_insns(obj, prog_index(obj, NULL, "calls_one"), &n);
    cr_assert_eq(n, 6);
    cr_assert_eq(p[1].imm, 3 - 2);
    cr_assert_eq(p[3].opcode, 0xbc); /* square's first word */
    /* with_callback: ld_imm64 of loop_cb becomes a pc-relative function reference. */
    p = ebpfvm_object_program_insns(obj, prog_index(obj, NULL, "with_callback"), &n);
    cr_assert_eq(n, 11 + 6);
    cr_assert_eq(p[5].opcode, 0x18);
    cr_assert_eq(p[5].src_reg, EBPF_PSEUDO_FUNC);
    cr_assert_eq(p[5].imm, 11 - 6);
    cr_assert_eq(p[6].imm, 0);
    cr_assert_eq(run_memory(obj, prog_index(obj, NULL, "calls")), 25);
    cr_assert_eq(run_memory(obj, prog_index(obj, NULL, "calls_one")), 25);
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_programs, function_names_at_linked_pcs)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "bpf2bpf");
    size_t calls = prog_index(obj, NULL, "calls"), one = prog_index(obj, NULL, "calls_one");
    size_t cb = prog_index(obj, NULL, "with_callback");
    /* calls: itself at 0, add_squares at 4, square at 11 (see above). */
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, calls, 0), "calls");
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, calls, 4), "add_squares");
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, calls, 11), "square");
    for (size_t pc = 1; pc < 14; pc++)
        if (pc != 4 && pc != 11)
            cr_assert_null(ebpfvm_object_program_func_at(obj, calls, pc), "pc %zu", pc);
    cr_assert_null(ebpfvm_object_program_func_at(obj, calls, 14));
    /* the same subprogram is at another pc in another program */
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, one, 0), "calls_one");
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, one, 3), "square");
    cr_assert_null(ebpfvm_object_program_func_at(obj, one, 4));
    /* a callback taken by address is a function too */
    cr_assert_str_eq(ebpfvm_object_program_func_at(obj, cb, 11), "loop_cb");
    cr_assert_null(ebpfvm_object_program_func_at(obj, 99, 0));
    cr_assert_null(ebpfvm_object_program_func_at(NULL, 0, 0));
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

/* --------------------------------------------------- prog_array .values */

static uint64_t run_dispatch(ebpfvm_prog *prog, uint32_t slot)
{
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    struct ebpfvm_run_result res;
    uint8_t mem[16] = {0};
    memcpy(mem, &slot, sizeof slot);
    int rc = ebpfvm_prog_run(prog, mem, sizeof mem, &ro, &res);
    cr_assert_eq(rc, 0, "run slot %u: %s", slot, res.message);
    return res.r0;
}

Test(elf_values, prog_array_initialised_in_maps_is_filled_on_first_load)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0);
    ebpfvm_object *obj = open_ok(vm, "elf_values");
    int jmp = map_fd(obj, "jmp");
    assert_map(vm, jmp, EBPFVM_MAP_PROG_ARRAY, 4, 4, 4, 0, "jmp");
    size_t dispatch = prog_index(obj, NULL, "dispatch"), tc = prog_index(obj, NULL, "target_tc");
    ebpfvm_prog *prog = (ebpfvm_prog *)1;
    /* slot 3 holds a `tc` program: no ebpfvm type, so the first load fails
     * naming the map and slot, and nothing is loaded. */
    cr_assert_eq(ebpfvm_object_load_program(obj, dispatch, &prog), EBPFVM_ERR_UNSUPP);
    cr_assert_null(prog);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "elf_values.o: map 'jmp' slot 3 (.values): ") &&
                  strstr(ebpfvm_vm_errmsg(vm), "program target_tc: section tc has no ebpfvm program type"),
              "%s", ebpfvm_vm_errmsg(vm));
    /* with a type, the next load fills the slots and tail calls reach them */
    cr_assert_eq(ebpfvm_object_set_program_type(obj, tc, EBPFVM_PROG_TYPE_MEMORY), 0);
    cr_assert_eq(ebpfvm_object_load_program(obj, dispatch, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(run_dispatch(prog, 1), 111);
    cr_assert_eq(run_dispatch(prog, 3), 222);
    cr_assert_eq(run_dispatch(prog, 0), 7); /* empty slot: falls through */
    cr_assert_eq(run_dispatch(prog, 2), 7);
    /* the application may still change the slots; a later load does not refill them */
    cr_assert_eq(ebpfvm_prog_array_set(vm, jmp, 1, NULL), 0);
    ebpfvm_prog *again = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, dispatch, &again), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(run_dispatch(again, 1), 7);
    cr_assert_eq(run_dispatch(again, 3), 222);
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_values, bad_values_are_named)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(open_fail(vm, "elf_values_not_prog"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "elf_values_not_prog.o: section .rel.maps: relocation 0 (symbol "
                                           "'counter'): map 'jmp' slot 1: 'counter' is not a BPF program"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "elf_values_subprog"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "section .rel.maps: relocation 0 (symbol 'helper'): map 'jmp' slot 0: "
                                           "'helper' is a .text subprogram, not a program"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "elf_values_range"), EBPFVM_ERR_RANGE);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "section .rel.maps: relocation 0 (symbol 'target'): map 'jmp': slot 5 "
                                           "is out of range (max_entries 2)"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "elf_values_bad_type"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "section .maps: map 'jmp': 'values' is not __array(values, <function "
                                           "type>) (an array of pointers to programs)"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "elf_values_value_size"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "section .maps: map 'jmp': value_size 8 conflicts with 'values' (4)"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "elf_values_not_prog_array"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "section .maps: map 'arr': 'values' is only for "
                                           "BPF_MAP_TYPE_PROG_ARRAY (and map-in-map), not type 2"),
              "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, 0, &info), EBPFVM_ERR_NOENT); /* nothing was created */
    ebpfvm_vm_destroy(vm);
}

/* ----------------------------------------------------------------- maps */

Test(elf_maps, btf_defined_maps)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "maps_btf");
    cr_assert_str_eq(ebpfvm_object_license(obj), "Dual BSD/GPL");
    cr_assert_eq(ebpfvm_object_map_count(obj), 4);
    /* fd order is the order of the symbols in .maps (clang's, not the source's). */
    static const char *const names[] = {"counts", "percpu", "pairs", "lru"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(ebpfvm_object_map_name(obj, i), names[i]);
        cr_assert_eq(ebpfvm_object_map_fd_at(obj, i), map_fd(obj, names[i]));
    }
    cr_assert_null(ebpfvm_object_map_name(obj, 4));
    cr_assert_eq(ebpfvm_object_map_fd_at(obj, 4), -1);
    assert_map(vm, map_fd(obj, "counts"), EBPFVM_MAP_HASH, 4, 8, 16, 0, "counts");
    assert_map(vm, map_fd(obj, "pairs"), EBPFVM_MAP_ARRAY, 4, 16, 4, 0, "pairs");
    assert_map(vm, map_fd(obj, "percpu"), EBPFVM_MAP_PERCPU_ARRAY, 4, 8, 2, 0, "percpu");
    assert_map(vm, map_fd(obj, "lru"), EBPFVM_MAP_LRU_HASH, 8, 12, 8, 0x2, "lru");
    int fd;
    cr_assert_eq(ebpfvm_object_map_fd(obj, "nope", &fd), EBPFVM_ERR_NOENT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "no map named 'nope'"));

    /* Every map reference is LD_IMM64 src 1 with one of the object's fds;
     * the first is `counts`. */
    size_t n = 0, refs = 0;
    const struct ebpf_insn *p = ebpfvm_object_program_insns(obj, 0, &n);
    int first = -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i].opcode != 0x18)
            continue;
        cr_assert_eq(p[i].src_reg, EBPF_PSEUDO_MAP_FD);
        cr_assert(p[i].imm >= 0 && p[i].imm < 4);
        cr_assert_eq(p[i + 1].imm, 0);
        if (first < 0)
            first = p[i].imm;
        refs++;
        i++;
    }
    cr_assert(refs >= 3);
    cr_assert_eq(first, map_fd(obj, "counts"));

    /* End to end in the interpreter (the program does not touch its context). */
    size_t idx = prog_index(obj, "xdp", "count_packets");
    cr_assert_eq(run_memory(obj, idx), 42);
    cr_assert_eq(run_memory(obj, idx), 42);
    uint32_t key = 0;
    uint64_t count = 0, pair[2] = {0};
    cr_assert_eq(ebpfvm_map_lookup(vm, map_fd(obj, "counts"), &key, &count), 0);
    cr_assert_eq(count, 2);
    cr_assert_eq(ebpfvm_map_lookup(vm, map_fd(obj, "pairs"), &key, pair), 0);
    cr_assert_eq(pair[1], 14);
    ebpfvm_object_close(obj);
    /* Maps outlive the object. */
    cr_assert_eq(ebpfvm_map_lookup(vm, 0, &key, &count), 0);
    ebpfvm_vm_destroy(vm);
}

/* `__array(values, struct {...})`: the inner struct is the template (no
 * map is created for it), `.values` fills the slots; a program looks up
 * through both levels in every mode. */
Test(elf_maps, map_in_map_values_and_lookups)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "map_in_map");
    cr_assert_eq(ebpfvm_object_map_count(obj), 4);
    int a = map_fd(obj, "inner_a"), b = map_fd(obj, "inner_b"), outer = map_fd(obj, "outer"),
        hom = map_fd(obj, "outer_hash");
    assert_map(vm, outer, EBPFVM_MAP_ARRAY_OF_MAPS, 4, 4, 3, 0, "outer");
    assert_map(vm, hom, EBPFVM_MAP_HASH_OF_MAPS, 4, 4, 8, 0, "outer_hash");
    uint32_t key = 0, v = 99;
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(v, (uint32_t)a);
    key = 1;
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), EBPFVM_ERR_NOENT);
    key = 2;
    cr_assert_eq(ebpfvm_map_lookup(vm, outer, &key, &v), 0);
    cr_assert_eq(v, (uint32_t)b);
    key = 1;
    cr_assert_eq(ebpfvm_map_lookup(vm, hom, &key, &v), 0);
    cr_assert_eq(v, (uint32_t)b);
    uint64_t x = 5;
    cr_assert_eq(ebpfvm_map_update(vm, a, &key, &x, EBPFVM_ANY), 0);
    x = 7;
    cr_assert_eq(ebpfvm_map_update(vm, b, &key, &x, EBPFVM_ANY), 0);
    size_t idx = prog_index(obj, NULL, "two_level");
    cr_assert_eq(ebpfvm_object_set_program_type(obj, idx, EBPFVM_PROG_TYPE_MEMORY), 0); /* ctx unused */
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, idx, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    if (!ebpfvm_prog_is_verified(prog))
        cr_assert_eq(ebpfvm_prog_verify(prog, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    bool jit = ebpfvm_prog_jit(prog, 0) == 0;
    enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};
    for (size_t i = 0; i < (jit ? 3u : 2u); i++) {
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = modes[i]};
        struct ebpfvm_run_result res;
        uint8_t mem[16] = {0};
        int rc = ebpfvm_prog_run(prog, mem, sizeof mem, &ro, &res);
        cr_assert_eq(rc, 0, "mode %d: %s", modes[i], res.message);
        cr_assert_eq(res.r0, 6 + 700, "mode %d: r0 %llu", modes[i], (unsigned long long)res.r0);
    }
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, map_in_map_errors_are_named)
{
    static const struct {
        const char *obj;
        int status;
        const char *text;
    } cases[] = {
        {"bad_mim_no_inner", EBPFVM_ERR_FORMAT,
         "section .maps: map 'outer': a BPF_MAP_TYPE_ARRAY_OF_MAPS needs its inner map definition: "
         "__array(values, struct {...})"},
        {"bad_mim_values_kind", EBPFVM_ERR_FORMAT,
         "section .maps: map 'outer': 'values' of a BPF_MAP_TYPE_HASH_OF_MAPS is not __array(values, struct {...}) "
         "(the inner map definition)"},
        {"bad_mim_inner_values", EBPFVM_ERR_UNSUPP,
         "section .maps: inner map 'outer.inner': 'values' in an inner map definition is not supported"},
        {"bad_mim_inner_type", EBPFVM_ERR_UNSUPP, "section .maps: map 'outer': inner map type 22 is not supported"},
        {"bad_mim_value_size", EBPFVM_ERR_FORMAT, "section .maps: map 'outer': value_size 8 conflicts with 'values' (4)"},
        {"bad_mim_slot", EBPFVM_ERR_INVAL,
         "section .rel.maps: map 'outer' slot 1 (.values = 'other'): map 'outer': update: inner map 'other' has "
         "max_entries 2, the template 1"},
        {"bad_mim_hash_key", EBPFVM_ERR_FORMAT,
         "section .rel.maps: relocation 0 (symbol 'in1'): hash-of-maps 'outer' initialised by .values needs key_size 4, "
         "not 8"},
        {"bad_mim_slot_prog", EBPFVM_ERR_FORMAT,
         "section .rel.maps: relocation 0 (symbol 'mim'): map 'outer' slot 0: 'mim' is not a map of .maps"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ebpfvm_vm *vm = new_vm();
        cr_assert_eq(open_fail(vm, cases[i].obj), cases[i].status, "%s: %s", cases[i].obj, ebpfvm_vm_errmsg(vm));
        cr_assert(strstr(ebpfvm_vm_errmsg(vm), cases[i].text), "%s", ebpfvm_vm_errmsg(vm));
        struct ebpfvm_map_info info;
        cr_assert_eq(ebpfvm_map_get_info(vm, 0, &info), EBPFVM_ERR_NOENT); /* nothing was created */
        ebpfvm_vm_destroy(vm);
    }
}

Test(elf_maps, legacy_maps_section_and_version)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "legacy_maps");
    cr_assert_eq(ebpfvm_object_kversion(obj), 0x050a00);
    cr_assert_eq(ebpfvm_object_map_count(obj), 2);
    assert_map(vm, map_fd(obj, "legacy_hash"), EBPFVM_MAP_HASH, 4, 8, 32, 0x1, "legacy_hash");
    assert_map(vm, map_fd(obj, "legacy_array"), EBPFVM_MAP_ARRAY, 4, 16, 3, 0, "legacy_array");
    size_t n = 0;
    const struct ebpf_insn *p = ebpfvm_object_program_insns(obj, 0, &n);
    int seen[2] = {-1, -1}, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].opcode == 0x18) {
            cr_assert_eq(p[i].src_reg, EBPF_PSEUDO_MAP_FD);
            if (k < 2)
                seen[k++] = p[i].imm;
            i++;
        }
    }
    cr_assert_eq(seen[0], map_fd(obj, "legacy_array"));
    cr_assert_eq(seen[1], map_fd(obj, "legacy_hash"));
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, 0, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, global_data_sections)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "global_data");
    cr_assert_eq(ebpfvm_object_map_count(obj), 3);
    int data = map_fd(obj, ".data"), ro = map_fd(obj, ".rodata"), bss = map_fd(obj, ".bss");
    assert_map(vm, data, EBPFVM_MAP_ARRAY, 4, 12, 1, 0, ".data");
    assert_map(vm, ro, EBPFVM_MAP_ARRAY, 4, 4, 1, 0x80, ".rodata"); /* BPF_F_RDONLY_PROG */
    assert_map(vm, bss, EBPFVM_MAP_ARRAY, 4, 12, 1, 0, ".bss");
    uint32_t key = 0;
    uint8_t v[16];
    cr_assert_eq(ebpfvm_map_lookup(vm, data, &key, v), 0);
    uint64_t d0;
    uint32_t d1, r0;
    memcpy(&d0, v, 8);
    memcpy(&d1, v + 8, 4);
    cr_assert_eq(d0, 0x1122334455667788ull);
    cr_assert_eq(d1, 7);
    cr_assert_eq(ebpfvm_map_lookup(vm, ro, &key, &r0), 0);
    cr_assert_eq(r0, 1000);
    memset(v, 0xaa, sizeof v);
    cr_assert_eq(ebpfvm_map_lookup(vm, bss, &key, v), 0);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(v[i], 0);

    /* data_var (global), data_second (+8), bss_counter, .bss + 8 (static), ro_limit. */
    size_t n = 0;
    const struct ebpf_insn *p = ebpfvm_object_program_insns(obj, 0, &n);
    const int want_fd[] = {data, data, bss, bss, ro};
    const int want_off[] = {0, 8, 0, 8, 0};
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].opcode != 0x18)
            continue;
        cr_assert(k < 5);
        cr_assert_eq(p[i].src_reg, EBPF_PSEUDO_MAP_VALUE, "ld_imm64 %d", k);
        cr_assert_eq(p[i].imm, want_fd[k], "ld_imm64 %d fd %d", k, p[i].imm);
        cr_assert_eq(p[i + 1].imm, want_off[k], "ld_imm64 %d offset %d", k, p[i + 1].imm);
        k++;
        i++;
    }
    cr_assert_eq(k, 5);
    cr_assert_eq(run_memory(obj, 0), 1003);
    cr_assert_eq(ebpfvm_map_lookup(vm, bss, &key, v), 0);
    uint64_t counter;
    uint32_t stat;
    memcpy(&counter, v, 8);
    memcpy(&stat, v + 8, 4);
    cr_assert_eq(counter, 7);
    cr_assert_eq(stat, 3);
    cr_assert_eq(ebpfvm_map_lookup(vm, data, &key, v), 0);
    memcpy(&d0, v, 8);
    cr_assert_eq(d0, 0x1122334455667789ull);
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, rodata_can_be_set_before_the_program_runs)
{
    /* As with libbpf (skeleton ->rodata before load): the application
     * writes .rodata; only programs see it read-only. */
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "global_data");
    int ro = map_fd(obj, ".rodata");
    uint32_t key = 0, limit = 40, got = 0;
    cr_assert_eq(ebpfvm_map_update(vm, ro, &key, &limit, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_map_lookup(vm, ro, &key, &got), 0);
    cr_assert_eq(got, 40);
    cr_assert_eq(run_memory(obj, 0), 43); /* ro_limit + 3 */
    /* Loading the program froze it (libbpf's load): its values are the
     * verified program's constants now. */
    cr_assert_eq(ebpfvm_map_update(vm, ro, &key, &limit, EBPFVM_ANY), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map '.rodata': update: the map is frozen");
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, perf_event_array_without_max_entries_gets_one_slot_per_cpu)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 3), 0);
    ebpfvm_object *obj = open_ok(vm, "elf_perf_array");
    assert_map(vm, map_fd(obj, "events"), EBPFVM_MAP_PERF_EVENT_ARRAY, 4, 4, 3, 0, "events");
    assert_map(vm, map_fd(obj, "events16"), EBPFVM_MAP_PERF_EVENT_ARRAY, 4, 4, 16, 0, "events16");
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    /* the default vm */
    vm = new_vm();
    obj = open_ok(vm, "elf_perf_array");
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, map_fd(obj, "events"), &info), 0);
    cr_assert_geq(info.max_entries, 1);
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, ring_buffer_sizes_are_rounded_like_libbpf)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "elf_ringbufs");
    cr_assert_eq(ebpfvm_object_map_count(obj), 2);
    assert_map(vm, map_fd(obj, "user_rb"), EBPFVM_MAP_USER_RINGBUF, 0, 0, 4096, 0, "user_rb");
    assert_map(vm, map_fd(obj, "rb"), EBPFVM_MAP_RINGBUF, 0, 0, 8192, 0, "rb");
    cr_assert_eq(EBPFVM_MAP_USER_RINGBUF, 31);
    cr_assert_eq(EBPFVM_MAP_RINGBUF, 27);
    ebpfvm_prog *prog = NULL;
    size_t idx = prog_index(obj, "xdp", "xdp_pass_prog");
    cr_assert_eq(ebpfvm_object_load_program(obj, idx, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    if (!ebpfvm_prog_is_verified(prog))
        cr_assert_eq(ebpfvm_prog_verify(prog, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert(ebpfvm_prog_is_verified(prog));
    static unsigned char frame[EBPFVM_XDP_FRAME_SIZE];
    unsigned char pkt[64] = {0};
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, sizeof pkt), 0);
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res), 0, "%s", res.message);
    cr_assert_eq(res.r0, 2, "XDP_PASS");
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

/* Refused: passing the map of the named program to bpf_map_lookup_elem. */
static void assert_lookup_refused(ebpfvm_vm *vm, ebpfvm_object *obj, const char *prog_name, const char *text)
{
    ebpfvm_prog *lookup = NULL;
    size_t idx = prog_index(obj, "xdp", prog_name);
    cr_assert_eq(ebpfvm_object_load_program(obj, idx, &lookup), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_not(ebpfvm_prog_is_verified(lookup));
    cr_assert_eq(ebpfvm_prog_verify(lookup, NULL), EBPFVM_ERR_VERIFY, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), text), "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_not(ebpfvm_prog_is_verified(lookup));
}

/* Socket maps declared as the kernel selftests declare them (sk_storage:
 * int key, a struct value, BPF_F_NO_PREALLOC, no max_entries; sockmap,
 * sockhash, reuseport array: a key and a 4- or 8-byte value) do not keep
 * the object from opening; a program that ignores them verifies, one that
 * passes one to a helper is refused: no ebpfvm program type holds a
 * socket. */
Test(elf_maps, socket_maps_are_declared_but_refused_to_helpers)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = open_ok(vm, "elf_socket_maps");
    cr_assert_eq(ebpfvm_object_map_count(obj), 4);
    cr_assert_eq(EBPFVM_MAP_SK_STORAGE, 24);
    cr_assert_eq(EBPFVM_MAP_SOCKMAP, 15);
    cr_assert_eq(EBPFVM_MAP_SOCKHASH, 18);
    cr_assert_eq(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 20);
    assert_map(vm, map_fd(obj, "sk_store"), EBPFVM_MAP_SK_STORAGE, 4, 16, 0, 0x1 /* BPF_F_NO_PREALLOC */,
               "sk_store");
    assert_map(vm, map_fd(obj, "socks"), EBPFVM_MAP_SOCKMAP, 4, 4, 2, 0, "socks");
    assert_map(vm, map_fd(obj, "socks_by_cookie"), EBPFVM_MAP_SOCKHASH, 8, 8, 8, 0, "socks_by_cookie");
    assert_map(vm, map_fd(obj, "reuse_group"), EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 8, 4, 0, "reuse_group");

    ebpfvm_prog *prog = NULL;
    size_t idx = prog_index(obj, "xdp", "xdp_ignores_socket_maps");
    cr_assert_eq(ebpfvm_object_load_program(obj, idx, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    if (!ebpfvm_prog_is_verified(prog))
        cr_assert_eq(ebpfvm_prog_verify(prog, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert(ebpfvm_prog_is_verified(prog));

    assert_lookup_refused(vm, obj, "xdp_looks_up_sk_storage",
                          "cannot pass map_type 24 into func bpf_map_lookup_elem#1");
    assert_lookup_refused(vm, obj, "xdp_looks_up_sockmap", "cannot pass map_type 15 into func bpf_map_lookup_elem#1");
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
}

Test(elf_maps, failed_open_leaves_no_maps)
{
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 4,
                                 .max_entries = 1};
    int fd;
    for (int i = 0; i < EBPFVM_MAX_MAPS - 2; i++)
        cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0);
    int rc = open_fail(vm, "maps_btf"); /* 4 maps, room for 2 */
    cr_assert_eq(rc, EBPFVM_ERR_RANGE);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "maps_btf.o: section .maps: map 'pairs': the vm's map table is full"),
              "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, EBPFVM_MAX_MAPS - 2, &info), EBPFVM_ERR_NOENT);
    /* The table has room again for the two. */
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0);
    cr_assert_eq(fd, EBPFVM_MAX_MAPS - 2);
    ebpfvm_vm_destroy(vm);
}

/* --------------------------------------------------------- rejections */

Test(elf_errors, unsupported_features_are_named)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(open_fail(vm, "bad_core"), EBPFVM_ERR_UNSUPP);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "bad_core.o: section .BTF.ext: CO-RE relocations are not supported"),
              "%s", ebpfvm_vm_errmsg(vm));
    /* A kfunc or an extern concerns only the programs that use it: the
     * object opens, those programs fail to load, the others load. */
    ebpfvm_object *obj = open_ok(vm, "bad_kfunc");
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, prog_index(obj, "xdp", "kfunc_prog"), &prog), EBPFVM_ERR_UNSUPP);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm),
                     "bad_kfunc.o: program kfunc_prog: section .relxdp: relocation 0 (symbol 'bpf_some_kfunc'): kfunc "
                     "calls are not supported"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_null(prog);
    cr_assert_eq(ebpfvm_object_load_program(obj, prog_index(obj, "xdp", "plain_prog"), &prog), 0, "%s",
                 ebpfvm_vm_errmsg(vm));
    ebpfvm_object_close(obj);
    obj = open_ok(vm, "bad_kconfig");
    cr_assert_eq(ebpfvm_object_load_program(obj, prog_index(obj, "xdp", "kconfig_prog"), &prog), EBPFVM_ERR_UNSUPP);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm),
                     "bad_kconfig.o: program kconfig_prog: section .relxdp: relocation 0 (symbol "
                     "'LINUX_KERNEL_VERSION'): extern symbols (.kconfig) are not supported"),
              "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_object_close(obj);
    cr_assert_eq(open_fail(vm, "bad_raw_map_fd"), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm),
                     "bad_raw_map_fd.o: section xdp: function 'raw_fd_prog': insn 0: fd 0 is not pointing to valid "
                     "bpf_map (a map reference without a relocation)"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(open_fail(vm, "bad_map_in_map"), EBPFVM_ERR_UNSUPP);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm),
                     "section .maps: map 'outer': inner map 'outer.inner' is a BPF_MAP_TYPE_ARRAY_OF_MAPS: "
                     "map-in-map inside map-in-map is not supported"),
              "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, 0, &info), EBPFVM_ERR_NOENT); /* nothing was created */
    ebpfvm_vm_destroy(vm);
}

Test(elf_errors, bad_arguments_and_files)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_object *obj = NULL;
    cr_assert_eq(ebpfvm_object_open(NULL, "x", NULL, &obj), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_object_open(vm, "x", NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "object open: out is NULL");
    cr_assert_eq(ebpfvm_object_open(vm, NULL, NULL, &obj), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "object open: path is NULL");
    struct ebpfvm_object_opts bad = {.sz = 1};
    cr_assert_eq(ebpfvm_object_open(vm, "x", &bad, &obj), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "object open: opts->sz is 1");
    cr_assert_eq(ebpfvm_object_open(vm, "/nonexistent/x.o", NULL, &obj), EBPFVM_ERR_IO);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "/nonexistent/x.o: cannot open: No such file or directory");
    cr_assert_eq(ebpfvm_object_open_mem(vm, "hello", 5, "h.o", NULL, &obj), EBPFVM_ERR_FORMAT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "h.o: not an ELF file");
    cr_assert_eq(ebpfvm_object_open_mem(vm, NULL, 0, NULL, NULL, &obj), EBPFVM_ERR_FORMAT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "<memory>: not an ELF file");
    cr_assert_eq(ebpfvm_object_open_mem(vm, NULL, 5, NULL, NULL, &obj), EBPFVM_ERR_INVAL);
    cr_assert_null(obj);
    /* A host object: wrong machine. */
    struct ebpfvm_object_opts named = {.sz = sizeof named, .object_name = "host"};
    cr_assert_eq(ebpfvm_object_open(vm, "/proc/self/exe", &named, &obj), EBPFVM_ERR_FORMAT);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "host: not a BPF object (e_machine 62, expected EM_BPF 247)") ||
                  strstr(ebpfvm_vm_errmsg(vm), "host: not a BPF object"),
              "%s", ebpfvm_vm_errmsg(vm));
    /* Getters on NULL. */
    cr_assert_eq(ebpfvm_object_program_count(NULL), 0);
    cr_assert_eq(ebpfvm_object_map_count(NULL), 0);
    cr_assert_str_eq(ebpfvm_object_license(NULL), "");
    size_t n = 5;
    cr_assert_null(ebpfvm_object_program_insns(NULL, 0, &n));
    cr_assert_eq(n, 0);
    cr_assert_eq(ebpfvm_object_find_program(NULL, "xdp", NULL, &n), EBPFVM_ERR_INVAL);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------ malformed ELF */

/* Open size bytes of buf; assert an error with a message, or success. */
static int open_bytes(ebpfvm_vm *vm, const uint8_t *buf, size_t size)
{
    ebpfvm_object *obj = NULL;
    struct ebpfvm_object_opts opts = {.sz = sizeof opts, .max_map_bytes = 1u << 22};
    int rc = ebpfvm_object_open_mem(vm, buf, size, "t.o", &opts, &obj);
    if (rc == 0) {
        cr_assert(obj);
        ebpfvm_object_close(obj);
    } else {
        cr_assert(rc < 0);
        cr_assert_null(obj);
        cr_assert(strncmp(ebpfvm_vm_errmsg(vm), "t.o: ", 5) == 0, "%s", ebpfvm_vm_errmsg(vm));
    }
    return rc;
}

/* A fresh vm every so often: successful opens create maps. */
static ebpfvm_vm *cycle_vm(ebpfvm_vm *vm)
{
    if (vm && ebpfvm_map_get_info(vm, EBPFVM_MAX_MAPS - 8, &(struct ebpfvm_map_info){0}) != 0)
        return vm;
    ebpfvm_vm_destroy(vm);
    return new_vm();
}

Test(elf_malformed, every_truncation_is_an_error)
{
    static const char *const objs[] = {"maps_btf", "global_data", "bpf2bpf", "elf_values"};
    for (size_t o = 0; o < 4; o++) {
        size_t size;
        uint8_t *full = read_obj(objs[o], &size);
        ebpfvm_vm *vm = new_vm();
        for (size_t len = 0; len < size; len++) {
            uint8_t *cut = malloc(len ? len : 1);
            memcpy(cut, full, len);
            int rc = open_bytes(vm, cut, len);
            cr_assert_neq(rc, 0, "%s truncated to %zu bytes was accepted", objs[o], len);
            free(cut);
        }
        cr_assert_eq(open_bytes(vm, full, size), 0, "%s", ebpfvm_vm_errmsg(vm));
        ebpfvm_vm_destroy(vm);
        free(full);
    }
}

static Elf64_Shdr *shdr(uint8_t *buf, size_t i)
{
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    return (Elf64_Shdr *)(buf + eh.e_shoff + i * sizeof(Elf64_Shdr));
}

static size_t find_section(uint8_t *buf, const char *name)
{
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    const char *names = (const char *)buf + shdr(buf, eh.e_shstrndx)->sh_offset;
    for (size_t i = 1; i < eh.e_shnum; i++)
        if (!strcmp(names + shdr(buf, i)->sh_name, name))
            return i;
    cr_assert_fail("no section %s", name);
    return 0;
}

/* Corrupt a copy with fn(copy, arg) and expect an error containing want. */
static void expect_error(const char *obj, void (*fn)(uint8_t *, size_t), size_t arg, int status, const char *want)
{
    size_t size;
    uint8_t *buf = read_obj(obj, &size);
    fn(buf, arg);
    ebpfvm_vm *vm = new_vm();
    int rc = open_bytes(vm, buf, size);
    cr_assert_eq(rc, status, "%s: rc %d: %s", want, rc, ebpfvm_vm_errmsg(vm));
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), want), "want '%s', got '%s'", want, ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
    free(buf);
}

static void set_machine(uint8_t *b, size_t v) { ((Elf64_Ehdr *)b)->e_machine = (Elf64_Half)v; }
static void set_type(uint8_t *b, size_t v) { ((Elf64_Ehdr *)b)->e_type = (Elf64_Half)v; }
static void set_class(uint8_t *b, size_t v) { b[EI_CLASS] = (uint8_t)v; }
static void set_data(uint8_t *b, size_t v) { b[EI_DATA] = (uint8_t)v; }
static void set_shoff(uint8_t *b, size_t v) { ((Elf64_Ehdr *)b)->e_shoff = v; }
static void big_maps_offset(uint8_t *b, size_t v) { shdr(b, find_section(b, ".maps"))->sh_offset = v; }
static void big_text_size(uint8_t *b, size_t v) { shdr(b, find_section(b, "xdp"))->sh_size = v; }
static void odd_text_size(uint8_t *b, size_t v) { (void)v; shdr(b, find_section(b, "xdp"))->sh_size -= 4; }

static Elf64_Sym *symbol(uint8_t *b, const char *name)
{
    Elf64_Shdr *st = shdr(b, find_section(b, ".symtab"));
    Elf64_Shdr *str = shdr(b, st->sh_link);
    Elf64_Sym *syms = (Elf64_Sym *)(b + st->sh_offset);
    for (size_t i = 0; i < st->sh_size / sizeof *syms; i++)
        if (!strcmp((char *)b + str->sh_offset + syms[i].st_name, name))
            return &syms[i];
    cr_assert_fail("no symbol %s", name);
    return NULL;
}
static void sym_shndx(uint8_t *b, size_t v) { symbol(b, "count_packets")->st_shndx = (Elf64_Half)v; }
static void sym_misaligned(uint8_t *b, size_t v) { (void)v; symbol(b, "count_packets")->st_value = 4; }
static void sym_name_off(uint8_t *b, size_t v) { symbol(b, "count_packets")->st_name = (Elf64_Word)v; }
static void map_sym_moved(uint8_t *b, size_t v) { symbol(b, "counts")->st_value = v; }

static void legacy_max_entries(uint8_t *b, size_t v)
{
    uint32_t x = (uint32_t)v;
    memcpy(b + shdr(b, find_section(b, "maps"))->sh_offset + symbol(b, "legacy_hash")->st_value + 12, &x, 4);
}

static void no_symtab(uint8_t *b, size_t v) { (void)v; shdr(b, find_section(b, ".symtab"))->sh_type = SHT_PROGBITS; }
static void func_notype(uint8_t *b, size_t v)
{
    (void)v;
    symbol(b, "count_packets")->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
}
static void license_size(uint8_t *b, size_t v) { shdr(b, find_section(b, "license"))->sh_size = v; }
static void version_size(uint8_t *b, size_t v) { shdr(b, find_section(b, "version"))->sh_size = v; }

static Elf64_Rel *first_rel(uint8_t *b, const char *sec)
{
    return (Elf64_Rel *)(b + shdr(b, find_section(b, sec))->sh_offset);
}
static void rel_offset(uint8_t *b, size_t v) { first_rel(b, ".relxdp")->r_offset = v; }
static void rel_type(uint8_t *b, size_t v)
{
    Elf64_Rel *r = first_rel(b, ".relxdp");
    r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), v);
}
static void rel_sym(uint8_t *b, size_t v)
{
    Elf64_Rel *r = first_rel(b, ".relxdp");
    r->r_info = ELF64_R_INFO(v, ELF64_R_TYPE(r->r_info));
}

/* elf_values.o's .rel.maps: the pointers in jmp's `.values` (jmp at 0, values at +0x18). */
static void maps_rel_offset(uint8_t *b, size_t v) { first_rel(b, ".rel.maps")->r_offset = v; }
static void maps_rel_type(uint8_t *b, size_t v)
{
    Elf64_Rel *r = first_rel(b, ".rel.maps");
    r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), v);
}
static void maps_rel_sym(uint8_t *b, size_t v)
{
    Elf64_Rel *r = first_rel(b, ".rel.maps");
    r->r_info = ELF64_R_INFO(v, ELF64_R_TYPE(r->r_info));
}
static void maps_rel_twice(uint8_t *b, size_t v)
{
    (void)v;
    Elf64_Rel *r = first_rel(b, ".rel.maps");
    r[0].r_offset = r[1].r_offset;
}

static uint8_t *btf(uint8_t *b) { return b + shdr(b, find_section(b, ".BTF"))->sh_offset; }
static void btf_magic(uint8_t *b, size_t v) { (void)v; btf(b)[0] ^= 0xff; }
static void btf_type_len(uint8_t *b, size_t v) { uint32_t x = (uint32_t)v; memcpy(btf(b) + 12, &x, 4); }
static void btf_str_len(uint8_t *b, size_t v) { uint32_t x = (uint32_t)v; memcpy(btf(b) + 20, &x, 4); }
static void btf_ext_core(uint8_t *b, size_t v)
{
    uint8_t *ext = b + shdr(b, find_section(b, ".BTF.ext"))->sh_offset;
    uint32_t x = (uint32_t)v;
    memcpy(ext + 28, &x, 4); /* core_relo_len */
}

Test(elf_malformed, corrupted_headers_are_clear_errors)
{
    expect_error("maps_btf", set_machine, 62, EBPFVM_ERR_FORMAT,
                 "t.o: not a BPF object (e_machine 62, expected EM_BPF 247)");
    expect_error("maps_btf", set_type, ET_EXEC, EBPFVM_ERR_FORMAT, "t.o: not a relocatable object (e_type 2");
    expect_error("maps_btf", set_class, ELFCLASS32, EBPFVM_ERR_FORMAT, "t.o: not a 64-bit ELF object");
    expect_error("maps_btf", set_data, ELFDATA2MSB, EBPFVM_ERR_FORMAT, "t.o: not a little-endian ELF object");
    expect_error("maps_btf", set_shoff, 0x7fffffff, EBPFVM_ERR_FORMAT, "t.o: ");
    expect_error("maps_btf", big_maps_offset, 0x7ffffff0, EBPFVM_ERR_FORMAT,
                 "t.o: section .maps: offset 0x7ffffff0 size 0x88 is outside the file");
    expect_error("maps_btf", big_text_size, 0x100000000ull, EBPFVM_ERR_FORMAT, "t.o: section xdp: offset 0x");
    expect_error("maps_btf", odd_text_size, 0, EBPFVM_ERR_FORMAT, "is not a multiple of 8");
    expect_error("maps_btf", sym_shndx, 999, EBPFVM_ERR_FORMAT, "('count_packets'): section index 999 is out of range");
    expect_error("maps_btf", sym_misaligned, 0, EBPFVM_ERR_FORMAT,
                 "section xdp: function 'count_packets' at offset 0x4");
    expect_error("maps_btf", sym_name_off, 0x7fffffff, EBPFVM_ERR_FORMAT, "name offset 2147483647 is invalid");
    expect_error("legacy_maps", legacy_max_entries, 1u << 20, EBPFVM_ERR_RANGE,
                 "t.o: section maps: map 'legacy_hash': max_entries 1048576 x (key_size 4 + value_size 8) is over "
                 "the limit of 4194304 bytes");
    expect_error("maps_btf", no_symtab, 0, EBPFVM_ERR_FORMAT, "t.o: no symbol table (.symtab)");
    expect_error("maps_btf", func_notype, 0, EBPFVM_ERR_FORMAT, "t.o: section xdp: code without a function symbol");
    expect_error("maps_btf", license_size, 4, EBPFVM_ERR_FORMAT, "t.o: section license: not a NUL-terminated string");
    expect_error("legacy_maps", version_size, 2, EBPFVM_ERR_FORMAT, "t.o: section version: 2 bytes, expected 4");
    expect_error("maps_btf", map_sym_moved, 0x20, EBPFVM_ERR_FORMAT,
                 "t.o: section .maps: maps 'counts' and 'percpu' share offset 0x20");
    expect_error("maps_btf", map_sym_moved, 0x1000, EBPFVM_ERR_FORMAT,
                 "t.o: section .maps: map 'counts' at [4096, +32) is outside the section");
    expect_error("maps_btf", rel_offset, 0x1234, EBPFVM_ERR_FORMAT,
                 "t.o: section .relxdp: relocation 0 offset 0x1234 out of range");
    expect_error("maps_btf", rel_offset, 4, EBPFVM_ERR_FORMAT, "relocation 0 offset 0x4 out of range");
    expect_error("maps_btf", rel_offset, 0, EBPFVM_ERR_FORMAT, "offset 0x0 is neither ld_imm64 nor call");
    expect_error("maps_btf", rel_type, 3, EBPFVM_ERR_UNSUPP,
                 "section .relxdp: relocation 0 (symbol 'counts'): type 3 is not supported");
    expect_error("maps_btf", rel_sym, 9999, EBPFVM_ERR_FORMAT, "relocation 0: symbol index 9999 is invalid");
    expect_error("elf_values", maps_rel_offset, 0x21, EBPFVM_ERR_FORMAT,
                 "section .rel.maps: relocation 0 (symbol 'target_a'): map 'jmp': offset 0x21 is not a 'values' slot");
    expect_error("elf_values", maps_rel_offset, 0x1000, EBPFVM_ERR_FORMAT,
                 "section .rel.maps: relocation 0 (symbol 'target_a'): offset 0x1000 is not inside a map");
    expect_error("elf_values", maps_rel_offset, 0x8, EBPFVM_ERR_UNSUPP,
                 "section .rel.maps: relocation 0 (symbol 'target_a'): map 'jmp': pointers are only supported in the "
                 "'values' of a prog_array");
    expect_error("elf_values", maps_rel_type, 1, EBPFVM_ERR_UNSUPP,
                 "section .rel.maps: relocation 0 (symbol 'target_a'): type 1 in .maps is not supported");
    expect_error("elf_values", maps_rel_sym, 0, EBPFVM_ERR_FORMAT,
                 "section .rel.maps: relocation 0: symbol index 0 is invalid");
    expect_error("elf_values", maps_rel_twice, 0, EBPFVM_ERR_FORMAT, "map 'jmp' slot 3 is relocated twice");
    expect_error("maps_btf", btf_magic, 0, EBPFVM_ERR_FORMAT, "t.o: section .BTF: bad magic");
    expect_error("maps_btf", btf_type_len, 0x10000000, EBPFVM_ERR_FORMAT, "section .BTF: type area");
    expect_error("maps_btf", btf_type_len, 13, EBPFVM_ERR_FORMAT, "truncated header");
    expect_error("maps_btf", btf_str_len, 0, EBPFVM_ERR_FORMAT, "section .BTF: string area is empty");
    expect_error("maps_btf", btf_ext_core, 0x1000000, EBPFVM_ERR_FORMAT, "section .BTF.ext: .BTF.ext core_relo");
}

/* Flip bytes all over an object: errors or success, never a crash (ASan). */
Test(elf_malformed, byte_flips_never_crash)
{
    static const char *const objs[] = {"maps_btf", "global_data", "bpf2bpf", "legacy_maps", "elf_values"};
    uint32_t seed = 12345;
    for (size_t o = 0; o < 5; o++) {
        size_t size;
        uint8_t *full = read_obj(objs[o], &size);
        uint8_t *buf = malloc(size);
        ebpfvm_vm *vm = NULL;
        size_t errors = 0;
        /* Every byte of the ELF header, the section table, the symbol table
         * and .BTF, xor 0xff; then random flips anywhere. */
        size_t st = find_section(full, ".symtab"), bt = find_section(full, ".BTF");
        Elf64_Ehdr eh;
        memcpy(&eh, full, sizeof eh);
        size_t ranges[4][2] = {{0, sizeof eh},
                               {eh.e_shoff, eh.e_shoff + (size_t)eh.e_shnum * sizeof(Elf64_Shdr)},
                               {shdr(full, st)->sh_offset, shdr(full, st)->sh_offset + shdr(full, st)->sh_size},
                               {shdr(full, bt)->sh_offset, shdr(full, bt)->sh_offset + shdr(full, bt)->sh_size}};
        for (size_t r = 0; r < 4; r++) {
            for (size_t i = ranges[r][0]; i < ranges[r][1] && i < size; i++) {
                memcpy(buf, full, size);
                buf[i] ^= 0xff;
                vm = cycle_vm(vm);
                errors += open_bytes(vm, buf, size) != 0;
            }
        }
        for (int k = 0; k < 2000; k++) {
            memcpy(buf, full, size);
            for (int f = 0; f < 4; f++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % size;
                seed = seed * 1103515245u + 12345u;
                buf[at] ^= (uint8_t)(1u << ((seed >> 16) % 8));
            }
            vm = cycle_vm(vm);
            errors += open_bytes(vm, buf, size) != 0;
        }
        cr_assert(errors > 0);
        ebpfvm_vm_destroy(vm);
        free(buf);
        free(full);
    }
}

/* ---------------------------------------------------- allocation failure */

Test(elf_alloc, every_allocation_failure_is_clean)
{
    size_t size;
    free(read_obj("global_data", &size));
    for (size_t n = 1;; n++) {
        struct alloc_fail af;
        alloc_fail_init(&af, 0);
        struct ebpfvm_vm_opts vo = {.sz = sizeof vo, .alloc = alloc_fail_alloc, .alloc_ud = &af};
        ebpfvm_vm *vm = NULL;
        cr_assert_eq(ebpfvm_vm_create(&vo, &vm), 0);
        af.fail_at = af.nallocs + n;
        ebpfvm_object *obj = NULL;
        int rc = ebpfvm_object_open(vm, obj_path("global_data"), NULL, &obj);
        if (rc == 0) {
            cr_assert_eq(ebpfvm_object_map_count(obj), 3);
            ebpfvm_object_close(obj);
        } else {
            cr_assert_eq(rc, EBPFVM_ERR_NOMEM, "allocation %zu: %d %s", n, rc, ebpfvm_vm_errmsg(vm));
            cr_assert_null(obj);
            struct ebpfvm_map_info info;
            cr_assert_eq(ebpfvm_map_get_info(vm, 0, &info), EBPFVM_ERR_NOENT, "allocation %zu left a map", n);
        }
        ebpfvm_vm_destroy(vm);
        cr_assert_eq(af.live_blocks, 0, "allocation %zu: %zu blocks leaked", n, af.live_blocks);
        cr_assert_eq(af.bad_frees, 0);
        if (rc == 0)
            break;
        cr_assert(n < 10000);
    }
}

#endif /* EBPFVM_HAVE_ELF */
