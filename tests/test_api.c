/*
 * tests/test_api.c - the public API's contract at its edges: NULL handles
 * and bad arguments for every public function (each returns its documented
 * status and, where a vm can hold one, a message), destroy(NULL) as a no-op,
 * option structs' `sz` handling, helper registration errors, the status
 * strings, and allocation failure: a full scenario (create, register helpers,
 * create and update a map, assemble, load, run, destroy) is replayed failing
 * its 1st, 2nd, ... allocation until it runs clean; every failing call must
 * report EBPFVM_ERR_NOMEM with a message, the vm must stay usable (the call
 * is retried), and nothing may leak.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

#include "alloc_fail.h"

static uint64_t identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
    cr_assert_not_null(vm);
    return vm;
}

/* mov r0, 7; exit */
static const struct ebpf_insn ret7[] = {
    {.opcode = EBPF_CLASS_ALU64 | EBPF_ALU_MOV | EBPF_SRC_K, .dst_reg = 0, .imm = 7},
    {.opcode = EBPF_CLASS_JMP | EBPF_JMP_EXIT},
};

static ebpfvm_prog *load_ret7(ebpfvm_vm *vm)
{
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, NULL, &prog), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    return prog;
}

#define assert_msg(vm, text)                                                                                  \
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), (text))
#define assert_msg_has(vm, text)                                                                              \
    cr_assert_not_null(strstr(ebpfvm_vm_errmsg(vm), (text)), "message '%s' lacks '%s'", ebpfvm_vm_errmsg(vm), \
                       (text))

/* ------------------------------------------------------------ strerror */

Test(api, strerror_every_code)
{
    static const struct {
        int status;
        const char *text;
    } expected[] = {
        {EBPFVM_OK, "success"},
        {EBPFVM_ERR_INVAL, "invalid argument"},
        {EBPFVM_ERR_NOMEM, "out of memory"},
        {EBPFVM_ERR_BADPROG, "invalid program"},
        {EBPFVM_ERR_FAULT, "runtime fault"},
        {EBPFVM_ERR_BUDGET, "instruction budget exhausted"},
        {EBPFVM_ERR_NOENT, "no such entry"},
        {EBPFVM_ERR_EXIST, "already exists"},
        {EBPFVM_ERR_RANGE, "limit exceeded"},
        {EBPFVM_ERR_UNSUPP, "not supported"},
        {EBPFVM_ERR_VERIFY, "rejected by the verifier"},
        {EBPFVM_ERR_IO, "I/O error"},
        {EBPFVM_ERR_FORMAT, "malformed input"},
        {EBPFVM_ERR_PERM, "not permitted"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_assert_str_eq(ebpfvm_strerror(expected[i].status), expected[i].text, "status %d", expected[i].status);
    /* Codes without a meaning still get a string. */
    cr_assert_str_eq(ebpfvm_strerror(-14), "unknown status");
    cr_assert_str_eq(ebpfvm_strerror(1), "unknown status");
    cr_assert_str_eq(ebpfvm_strerror(-2147483647 - 1), "unknown status");
}

/* ------------------------------------------------------------------ vm */

Test(api, vm_create_bad_arguments)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, NULL), EBPFVM_ERR_INVAL);
    ebpfvm_vm *vm = (ebpfvm_vm *)&vm; /* must be cleared on failure */
    struct ebpfvm_vm_opts opts = {.sz = 0};
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_ERR_INVAL);
    cr_assert_null(vm);
    opts.sz = sizeof(size_t) - 1;
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_ERR_INVAL);
    cr_assert_null(vm);
}

Test(api, vm_opts_sz_limits_what_is_read)
{
    struct alloc_fail af;
    alloc_fail_init(&af, 0);
    /* An older, shorter struct: only `sz` is read, so the allocator set
     * beyond it must not be used. */
    struct ebpfvm_vm_opts opts = {.sz = sizeof(size_t), .alloc = alloc_fail_alloc, .alloc_ud = &af};
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_OK);
    cr_assert_eq(af.nallocs, 0);
    ebpfvm_vm_destroy(vm);

    /* The whole struct: the allocator is used, and everything is freed. */
    opts.sz = sizeof opts;
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_OK);
    cr_assert_gt(af.nallocs, 0);
    ebpfvm_vm_destroy(vm);
    cr_assert_eq(af.live_blocks, 0);

    /* A newer, larger struct whose unknown trailing fields are zero. */
    struct {
        struct ebpfvm_vm_opts base;
        uint64_t future[4];
    } bigger = {{.alloc = alloc_fail_alloc, .alloc_ud = &af}, {0}};
    bigger.base.sz = sizeof bigger;
    alloc_fail_init(&af, 0);
    cr_assert_eq(ebpfvm_vm_create(&bigger.base, &vm), EBPFVM_OK);
    cr_assert_gt(af.nallocs, 0);
    ebpfvm_vm_destroy(vm);
    cr_assert_eq(af.live_blocks, 0);
}

Test(api, null_handles_are_harmless)
{
    ebpfvm_vm_destroy(NULL);
    ebpfvm_prog_destroy(NULL);
    ebpfvm_free(NULL, NULL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(NULL), "");

    ebpfvm_vm *vm = new_vm();
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "");
    ebpfvm_free(vm, NULL);
    ebpfvm_vm_destroy(vm);

    cr_assert_null(ebpfvm_env_user(NULL));
    cr_assert_eq(ebpfvm_env_add_region(NULL, NULL, 0, 0), EBPFVM_ERR_INVAL);
    ebpfvm_env_fault(NULL, "ignored");

    size_t count = 99;
    cr_assert_null(ebpfvm_prog_insns(NULL, &count));
    cr_assert_eq(count, 0);
    cr_assert_null(ebpfvm_prog_insns(NULL, NULL));
    cr_assert_eq(ebpfvm_prog_is_verified(NULL), 0);
    cr_assert_eq(ebpfvm_prog_is_jitted(NULL), 0);
    size_t size = 99;
    cr_assert_null(ebpfvm_prog_jit_code(NULL, &size));
    cr_assert_eq(size, 0);
    cr_assert_null(ebpfvm_prog_jit_code(NULL, NULL));
    cr_assert_eq(ebpfvm_prog_jit(NULL, 0), EBPFVM_ERR_INVAL);
}

/* ------------------------------------------------------------- helpers */

Test(api, register_helper_errors)
{
    cr_assert_eq(ebpfvm_vm_register_helper(NULL, 5, "identity", identity, NULL), EBPFVM_ERR_INVAL);

    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 5, "identity", NULL, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "register helper 5: function is NULL");
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 5, NULL, identity, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "register helper 5: name is NULL");
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 0, "zero", identity, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "register helper 0 (zero): id out of range 1..1023");
    cr_assert_eq(ebpfvm_vm_register_helper(vm, EBPFVM_MAX_HELPER_ID + 1, "big", identity, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "register helper 1024 (big): id out of range 1..1023");

    cr_assert_eq(ebpfvm_vm_register_helper(vm, EBPFVM_MAX_HELPER_ID, "last", identity, NULL), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 7, "first", identity, NULL), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 7, "second", identity, NULL), EBPFVM_ERR_EXIST);
    assert_msg(vm, "register helper 7 (second): id already registered as first");

    /* The failed registrations registered nothing: a call to 5 does not load. */
    const struct ebpf_insn call5[] = {
        {.opcode = EBPF_CLASS_JMP | EBPF_JMP_CALL, .imm = 5},
        {.opcode = EBPF_CLASS_JMP | EBPF_JMP_EXIT},
    };
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, call5, 2, NULL, &prog), EBPFVM_ERR_BADPROG);
    assert_msg(vm, "insn 0: unknown helper 5");
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ programs */

Test(api, prog_load_bad_arguments)
{
    ebpfvm_prog *prog = (ebpfvm_prog *)&prog;
    cr_assert_eq(ebpfvm_prog_load(NULL, ret7, 2, NULL, &prog), EBPFVM_ERR_INVAL);

    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, NULL, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "load: out is NULL");
    cr_assert_eq(ebpfvm_prog_load(vm, NULL, 2, NULL, &prog), EBPFVM_ERR_INVAL);
    assert_msg(vm, "load: the program is empty");
    cr_assert_null(prog);
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 0, NULL, &prog), EBPFVM_ERR_INVAL);
    assert_msg(vm, "load: the program is empty");

    struct ebpfvm_load_opts opts = {.sz = 0};
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, &opts, &prog), EBPFVM_ERR_INVAL);
    assert_msg(vm, "load: opts->sz is 0");
    opts = (struct ebpfvm_load_opts){.sz = sizeof opts, .prog_type = (enum ebpfvm_prog_type)7};
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, &opts, &prog), EBPFVM_ERR_INVAL);
    assert_msg(vm, "load: unknown program type 7");
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, (size_t)EBPFVM_MAX_INSNS + 1, NULL, &prog), EBPFVM_ERR_RANGE);
    assert_msg(vm, "load: 1000001 instructions, more than the limit of 1000000");

    /* An older, shorter opts: only sz is read, the bad type beyond it is not. */
    opts.sz = sizeof(size_t);
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, &opts, &prog), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_not_null(prog);
    ebpfvm_vm_destroy(vm);
}

Test(api, prog_accessors)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = load_ret7(vm);
    size_t count = 0;
    const struct ebpf_insn *insns = ebpfvm_prog_insns(prog, &count);
    cr_assert_eq(count, 2);
    cr_assert_neq(insns, ret7, "the words are copied");
    cr_assert_eq(memcmp(insns, ret7, sizeof ret7), 0);
    cr_assert_eq(ebpfvm_prog_is_verified(prog), 0);
    cr_assert_eq(ebpfvm_prog_is_jitted(prog), 0);
    ebpfvm_prog_destroy(prog); /* before the vm: the vm forgets it */
    ebpfvm_vm_destroy(vm);
}

Test(api, prog_run_bad_arguments)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = load_ret7(vm);
    struct ebpfvm_run_result result;

    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, NULL, NULL), EBPFVM_ERR_INVAL);

    cr_assert_eq(ebpfvm_prog_run(NULL, NULL, 0, NULL, &result), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(result.message, "run: prog is NULL");
    cr_assert_eq(result.fault_pc, -1);

    struct ebpfvm_run_opts opts = {.sz = 0};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(result.message, "run: opts->sz is too small");

    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 4, NULL, &result), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(result.message, "run: ctx is NULL but ctx_size is not 0");

    opts = (struct ebpfvm_run_opts){.sz = sizeof opts, .cpu = 1};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(result.message, "run: cpu index is not below the vm's cpu count");

    opts = (struct ebpfvm_run_opts){.sz = sizeof opts, .mode = (enum ebpfvm_exec_mode)42};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(result.message, "run: unknown execution mode");

    opts = (struct ebpfvm_run_opts){.sz = sizeof opts, .mode = EBPFVM_EXEC_FAST};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_ERR_PERM);
    cr_assert_not_null(strstr(result.message, "run: fast mode needs a verified program"), "%s", result.message);

    /* A shorter opts (only sz): AUTO mode, the bad mode beyond it unread. */
    opts.sz = sizeof(size_t);
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_OK, "%s", result.message);
    cr_assert_eq(result.r0, 7);
    cr_assert_str_eq(result.message, "");
    cr_assert_eq(result.fault_pc, -1);

    /* The flag makes fast mode legal on an unverified program. */
    opts = (struct ebpfvm_run_opts){
        .sz = sizeof opts, .mode = EBPFVM_EXEC_FAST, .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &result), EBPFVM_OK, "%s", result.message);
    cr_assert_eq(result.r0, 7);
    ebpfvm_vm_destroy(vm);
}

Test(api, prog_jit_bad_arguments)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = load_ret7(vm);
    cr_assert_eq(ebpfvm_prog_jit(prog, 0x80), EBPFVM_ERR_INVAL);
    assert_msg(vm, "jit: unknown flags 0x80");
    cr_assert_eq(ebpfvm_prog_jit(prog, 0), EBPFVM_ERR_PERM);
    assert_msg_has(vm, "jit: the program is not verified");
    cr_assert_eq(ebpfvm_prog_is_jitted(prog), 0);
    size_t size = 99;
    cr_assert_null(ebpfvm_prog_jit_code(prog, &size));
    cr_assert_eq(size, 0);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------------- maps */

Test(api, map_functions_bad_arguments)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 8,
                                 .max_entries = 4};
    int fd = -1;
    uint32_t key = 0;
    uint64_t value = 0;
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_create(NULL, &def, &fd), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_map_lookup(NULL, 0, &key, &value), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_map_update(NULL, 0, &key, &value, EBPFVM_ANY), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_map_delete(NULL, 0, &key), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_map_get_next_key(NULL, 0, NULL, &key), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_map_get_info(NULL, 0, &info), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_vm_set_ncpus(NULL, 2), EBPFVM_ERR_INVAL);

    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_map_create(vm, NULL, &fd), EBPFVM_ERR_INVAL);
    assert_msg(vm, "map create: def is NULL");
    cr_assert_eq(ebpfvm_map_create(vm, &def, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "map create: fd is NULL");
    struct ebpfvm_map_def small = def;
    small.sz = 0;
    cr_assert_eq(ebpfvm_map_create(vm, &small, &fd), EBPFVM_ERR_INVAL);
    assert_msg(vm, "map create: def->sz 0 is too small");

    /* No map yet: every fd is unknown. */
    cr_assert_eq(ebpfvm_map_lookup(vm, 0, &key, &value), EBPFVM_ERR_NOENT);
    assert_msg_has(vm, "no map with fd 0");
    cr_assert_eq(ebpfvm_map_update(vm, -1, &key, &value, EBPFVM_ANY), EBPFVM_ERR_NOENT);
    assert_msg_has(vm, "no map with fd -1");
    cr_assert_eq(ebpfvm_map_delete(vm, 3, &key), EBPFVM_ERR_NOENT);
    assert_msg_has(vm, "no map with fd 3");
    cr_assert_eq(ebpfvm_map_get_next_key(vm, 0, NULL, &key), EBPFVM_ERR_NOENT);
    assert_msg_has(vm, "no map with fd 0");
    cr_assert_eq(ebpfvm_map_get_info(vm, 0, &info), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_map_get_info(vm, 0, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "map get_info: info is NULL");

    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 0), EBPFVM_ERR_INVAL);
    assert_msg_has(vm, "set_ncpus: 0 is out of range 1..");

    /* A good map, then bad key/value pointers on it. */
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(fd, 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, NULL, &value), EBPFVM_ERR_INVAL);
    cr_assert_neq(ebpfvm_vm_errmsg(vm)[0], '\0');
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, NULL, EBPFVM_ANY), EBPFVM_ERR_INVAL);
    cr_assert_neq(ebpfvm_vm_errmsg(vm)[0], '\0');
    cr_assert_eq(ebpfvm_map_get_info(vm, fd, &info), EBPFVM_OK);
    cr_assert_eq(info.type, EBPFVM_MAP_ARRAY);
    cr_assert_eq(info.max_entries, 4);
    ebpfvm_vm_destroy(vm);
}

static int count_record(void *ud, const void *data, size_t size)
{
    (void)data, (void)size;
    ++*(int *)ud;
    return 0;
}

Test(api, prog_array_ringbuf_map_helpers_bad_arguments)
{
    cr_assert_eq(ebpfvm_prog_array_set(NULL, 0, 0, NULL), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_ringbuf_consume(NULL, 0, count_record, NULL, NULL), EBPFVM_ERR_INVAL);
    uint64_t bytes = 0;
    cr_assert_eq(ebpfvm_ringbuf_avail(NULL, 0, &bytes), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(NULL), EBPFVM_ERR_INVAL);

    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = load_ret7(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, 0, 0, prog), EBPFVM_ERR_NOENT);
    assert_msg(vm, "prog_array_set: no map with fd 0");
    size_t count = 99;
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, 5, count_record, NULL, &count), EBPFVM_ERR_NOENT);
    assert_msg(vm, "ringbuf_consume: no map with fd 5");
    cr_assert_eq(count, 0);
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, 9, &bytes), EBPFVM_ERR_NOENT);
    assert_msg(vm, "ringbuf_avail: no ringbuf with fd 9");

    /* Maps of the wrong type. */
    struct ebpfvm_map_def array = {.sz = sizeof array, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 4,
                                   .max_entries = 2};
    int array_fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &array, &array_fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_prog_array_set(vm, array_fd, 0, prog), EBPFVM_ERR_INVAL);
    assert_msg_has(vm, "prog_array_set: the map is a array, not a prog_array");
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, array_fd, count_record, NULL, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "ringbuf_consume: map 0 is a array, not a ringbuf");
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, array_fd, &bytes), EBPFVM_ERR_INVAL);
    assert_msg(vm, "ringbuf_avail: map 0 is a array, not a ringbuf");

    /* The right types, bad arguments. */
    struct ebpfvm_map_def progs = {.sz = sizeof progs, .type = EBPFVM_MAP_PROG_ARRAY, .key_size = 4,
                                   .value_size = 4, .max_entries = 2};
    int progs_fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &progs, &progs_fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_prog_array_set(vm, progs_fd, 2, prog), EBPFVM_ERR_RANGE);
    assert_msg_has(vm, "prog_array_set: index 2 out of range (max_entries 2)");
    ebpfvm_vm *other = new_vm();
    ebpfvm_prog *foreign = load_ret7(other);
    cr_assert_eq(ebpfvm_prog_array_set(vm, progs_fd, 0, foreign), EBPFVM_ERR_INVAL);
    assert_msg_has(vm, "prog_array_set: the program belongs to another vm");
    ebpfvm_vm_destroy(other);
    cr_assert_eq(ebpfvm_prog_array_set(vm, progs_fd, 1, prog), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_prog_array_set(vm, progs_fd, 1, NULL), EBPFVM_OK, "NULL empties the slot");

    struct ebpfvm_map_def ring = {.sz = sizeof ring, .type = EBPFVM_MAP_RINGBUF, .max_entries = 4096};
    int ring_fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &ring, &ring_fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, ring_fd, NULL, NULL, NULL), EBPFVM_ERR_INVAL);
    assert_msg(vm, "ringbuf_consume: callback is NULL");
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, ring_fd, NULL), EBPFVM_ERR_INVAL);
    int records = 0;
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, ring_fd, count_record, &records, &count), EBPFVM_OK);
    cr_assert_eq(count, 0);
    cr_assert_eq(records, 0);
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, ring_fd, &bytes), EBPFVM_OK);
    cr_assert_eq(bytes, 0);

    /* Map helpers: once, then their IDs are taken. */
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), EBPFVM_ERR_EXIST);
    assert_msg_has(vm, "id already registered as map_lookup_elem");
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------- disassembler, assembler */

Test(api, disasm_bad_arguments)
{
    char buf[64];
    cr_assert_eq(ebpfvm_disasm_insn(NULL, 2, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(ret7, 2, 2, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(ret7, 2, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, NULL, sizeof buf), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(ret7, 2, 0, (enum ebpfvm_disasm_syntax)9, NULL, NULL, buf, sizeof buf),
                 EBPFVM_ERR_INVAL);

    const struct ebpf_insn bad[] = {{.opcode = 0xff}};
    cr_assert_eq(ebpfvm_disasm_insn(bad, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(buf, "invalid opcode 0xff");

    cr_assert_eq(ebpfvm_disasm_insn(ret7, 2, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), 1);
    cr_assert_str_eq(buf, "r0 = 7");
    /* A small buffer is truncated but still terminated. */
    cr_assert_eq(ebpfvm_disasm_insn(ret7, 2, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, 3), 1);
    cr_assert_str_eq(buf, "r0");
}

Test(api, assemble_bad_arguments)
{
    struct ebpf_insn *words = NULL;
    size_t count = 0;
    cr_assert_eq(ebpfvm_assemble(NULL, "exit", &words, &count), EBPFVM_ERR_INVAL);

    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_assemble(vm, NULL, &words, &count), EBPFVM_ERR_INVAL);
    cr_assert_neq(ebpfvm_vm_errmsg(vm)[0], '\0');
    cr_assert_eq(ebpfvm_assemble(vm, "exit", NULL, &count), EBPFVM_ERR_INVAL);
    cr_assert_neq(ebpfvm_vm_errmsg(vm)[0], '\0');
    cr_assert_eq(ebpfvm_assemble(vm, "exit", &words, NULL), EBPFVM_ERR_INVAL);
    cr_assert_neq(ebpfvm_vm_errmsg(vm)[0], '\0');

    cr_assert_eq(ebpfvm_assemble(vm, "mov %r0, 1\nfrobnicate %r0\nexit\n", &words, &count), EBPFVM_ERR_FORMAT);
    assert_msg_has(vm, "line 2: ");
    assert_msg_has(vm, "frobnicate");

    cr_assert_eq(ebpfvm_assemble(vm, "mov %r0, 1\nexit\n", &words, &count), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(count, 2);
    cr_assert_eq(words[0].opcode, EBPF_CLASS_ALU64 | EBPF_ALU_MOV | EBPF_SRC_K);
    cr_assert_eq(words[0].imm, 1);
    cr_assert_eq(words[1].opcode, EBPF_CLASS_JMP | EBPF_JMP_EXIT);
    ebpfvm_free(vm, words);
    ebpfvm_vm_destroy(vm);
}

/* --------------------------------------------------- allocation failure */

static const char scenario_text[] = "# a helper call, a label and an lddw\n"
                                    "mov %r1, 41\n"
                                    "call 5\n"
                                    "jne %r0, 41, bad\n"
                                    "lddw %r2, 0x100000001\n"
                                    "add %r0, %r2\n"
                                    "exit\n"
                                    "bad:\n"
                                    "mov %r0, 0\n"
                                    "exit\n";

/* After a call fails: it must be NOMEM and (with a vm) explain itself. */
static void check_nomem(const char *step, size_t n, int status, const ebpfvm_vm *vm, const char *run_msg)
{
    cr_assert_eq(status, EBPFVM_ERR_NOMEM, "allocation %zu failed in %s, which returned %d (%s)", n, step, status,
                 ebpfvm_strerror(status));
    const char *msg = run_msg ? run_msg : ebpfvm_vm_errmsg(vm);
    cr_assert_not_null(strstr(msg, "out of memory"), "allocation %zu failed in %s: message '%s'", n, step, msg);
}

/*
 * One pass of the scenario with allocation number fail_at failing. A call
 * that fails is checked and then retried (the vm must still be usable);
 * returns the number of calls that failed.
 */
static int scenario(size_t fail_at, struct alloc_fail *af)
{
    alloc_fail_init(af, fail_at);
    struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = alloc_fail_alloc, .alloc_ud = af};
    int failures = 0;
    int status;
    ebpfvm_vm *vm = NULL;

    while ((status = ebpfvm_vm_create(&opts, &vm)) != EBPFVM_OK) {
        cr_assert_eq(status, EBPFVM_ERR_NOMEM, "allocation %zu: vm_create returned %d", fail_at, status);
        cr_assert_null(vm);
        cr_assert_lt(++failures, 2, "vm_create failed twice");
    }

#define RETRY(step, call)                                                                                     \
    while ((status = (call)) != EBPFVM_OK) {                                                                  \
        check_nomem(step, fail_at, status, vm, NULL);                                                         \
        cr_assert_lt(++failures, 2, "%s failed twice", step);                                               \
    }
    RETRY("register_helper(5)", ebpfvm_vm_register_helper(vm, 5, "identity", identity, NULL));
    struct ebpfvm_helper_proto proto = {.ret = EBPFVM_RET_INTEGER, .args = {EBPFVM_ARG_SCALAR}};
    RETRY("register_helper(6)", ebpfvm_vm_register_helper(vm, 6, "identity2", identity, &proto));

    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_HASH, .key_size = 4, .value_size = 8,
                                 .max_entries = 8, .name = "counts"};
    int fd = -1;
    RETRY("map_create", ebpfvm_map_create(vm, &def, &fd));
    uint32_t key = 3;
    uint64_t value = 77;
    RETRY("map_update", ebpfvm_map_update(vm, fd, &key, &value, EBPFVM_ANY));

    struct ebpf_insn *words = NULL;
    size_t count = 0;
    RETRY("assemble", ebpfvm_assemble(vm, scenario_text, &words, &count));
    cr_assert_eq(count, 9);

    ebpfvm_prog *prog = NULL;
    struct ebpfvm_load_opts lopts = {.sz = sizeof lopts, .name = "scenario"};
    RETRY("prog_load", ebpfvm_prog_load(vm, words, count, &lopts, &prog));
    ebpfvm_free(vm, words);
#undef RETRY

    struct ebpfvm_run_result result;
    uint8_t mem[16] = {0};
    status = ebpfvm_prog_run(prog, mem, sizeof mem, NULL, &result);
    if (status != EBPFVM_OK) {
        check_nomem("prog_run", fail_at, status, vm, result.message);
        failures++;
        status = ebpfvm_prog_run(prog, mem, sizeof mem, NULL, &result);
        cr_assert_eq(status, EBPFVM_OK, "%s", result.message);
    }
    cr_assert_eq(result.r0, 41 + 0x100000001ull);
    value = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, &value), EBPFVM_OK);
    cr_assert_eq(value, 77);

    ebpfvm_vm_destroy(vm);
    cr_assert_eq(af->live_blocks, 0, "allocation %zu failed: %zu blocks (%zu bytes) leaked", fail_at,
                 af->live_blocks, af->live_bytes);
    cr_assert_eq(af->live_bytes, 0);
    cr_assert_eq(af->bad_frees, 0, "allocation %zu failed: a free passed a wrong old_size", fail_at);
    cr_assert_eq((size_t)failures, af->nfailed, "allocation %zu: %zu injected failures, %d calls failed", fail_at,
                 af->nfailed, failures);
    return failures;
}

Test(api, allocation_failure_every_point)
{
    struct alloc_fail af;
    /* A clean run first: how many allocations the scenario makes. */
    cr_assert_eq(scenario(0, &af), 0);
    size_t total = af.nallocs;
    cr_assert_geq(total, 8, "the scenario allocates (vm, helper table, names, map, program, ...)");
    cr_log_info("the scenario makes %zu allocations", total);

    for (size_t n = 1; n <= total; n++) {
        int failures = scenario(n, &af);
        cr_assert_eq(failures, 1, "failing allocation %zu of %zu did not make any call fail", n, total);
    }
    /* One past the end: nothing fails. */
    cr_assert_eq(scenario(total + 1, &af), 0);
}

Test(api, allocation_failure_leaves_out_params_clear)
{
    struct alloc_fail af;
    alloc_fail_init(&af, 1);
    struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = alloc_fail_alloc, .alloc_ud = &af};
    ebpfvm_vm *vm = (ebpfvm_vm *)&vm;
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_ERR_NOMEM);
    cr_assert_null(vm);
    cr_assert_eq(af.live_blocks, 0);

    /* A failing program load leaves *out NULL. */
    alloc_fail_init(&af, 0);
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), EBPFVM_OK);
    af.fail_at = af.nallocs + 1;
    ebpfvm_prog *prog = (ebpfvm_prog *)&prog;
    cr_assert_eq(ebpfvm_prog_load(vm, ret7, 2, NULL, &prog), EBPFVM_ERR_NOMEM);
    cr_assert_null(prog);
    assert_msg(vm, "load: out of memory");

    /* A failing assembly leaves *out NULL and *count 0. */
    af.fail_at = af.nallocs + 1;
    struct ebpf_insn *words = (struct ebpf_insn *)&words;
    size_t count = 99;
    cr_assert_eq(ebpfvm_assemble(vm, "exit\n", &words, &count), EBPFVM_ERR_NOMEM);
    cr_assert_null(words);
    cr_assert_eq(count, 0);
    ebpfvm_vm_destroy(vm);
    cr_assert_eq(af.live_blocks, 0);
}
