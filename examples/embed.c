/*
 * examples/embed.c - a complete small application that embeds ebpfvm
 * through the public API only.
 *
 * It installs its own allocator (counting blocks, to show that everything
 * comes back), registers a helper of its own by ID with a prototype, loads a
 * program written as struct ebpf_insn words, prints it with the
 * disassembler, runs it on two memory blocks and cleans up.
 *
 * The program reads a 16-bit port number from its memory block and asks the
 * application's helper whether that port is allowed:
 *
 *     r0 = 0
 *     if r2 < 2 goto out           ; block too short: deny
 *     r1 = *(u16 *)(r1 + 0)        ; the port
 *     call port_allowed            ; r0 = helper(r1)
 *   out:
 *     exit
 *
 * Build: cc embed.c $(pkg-config --cflags --libs ebpfvm)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

/* ---------------------------------------------------- the allocator */

struct app_alloc {
    size_t live_blocks;
    size_t live_bytes;
    size_t total_allocs;
};

/* Lua-style: allocate when ptr is NULL, free when new_size is 0. */
static void *app_alloc_fn(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    struct app_alloc *a = ud;
    if (new_size == 0) {
        if (ptr) {
            a->live_blocks--;
            a->live_bytes -= old_size;
        }
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (!p)
        return NULL;
    if (!ptr)
        a->live_blocks++;
    a->live_bytes = a->live_bytes - old_size + new_size;
    a->total_allocs++;
    return p;
}

/* ---------------------------------------------------- the helper */

#define APP_HELPER_PORT_ALLOWED 1000 /* an ID outside Linux's range */

struct app_state {
    const uint16_t *allowed; /* the allow list */
    size_t nallowed;
    unsigned calls;
};

/* port_allowed(port): 1 if the port is on the application's allow list. */
static uint64_t port_allowed(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    struct app_state *state = ebpfvm_env_user(env);
    state->calls++;
    for (size_t i = 0; i < state->nallowed; i++)
        if (state->allowed[i] == r1)
            return 1;
    return 0;
}

/* ---------------------------------------------------- the program */

static const struct ebpf_insn program[] = {
    {.opcode = EBPF_CLASS_ALU64 | EBPF_ALU_MOV | EBPF_SRC_K, .dst_reg = 0, .imm = 0},
    {.opcode = EBPF_CLASS_JMP | EBPF_JMP_JLT | EBPF_SRC_K, .dst_reg = 2, .off = 2, .imm = 2},
    {.opcode = EBPF_CLASS_LDX | EBPF_MODE_MEM | EBPF_SIZE_H, .dst_reg = 1, .src_reg = 1, .off = 0},
    {.opcode = EBPF_CLASS_JMP | EBPF_JMP_CALL, .imm = APP_HELPER_PORT_ALLOWED},
    {.opcode = EBPF_CLASS_JMP | EBPF_JMP_EXIT},
};

static const char *helper_name(void *ud, int32_t id)
{
    (void)ud;
    return id == APP_HELPER_PORT_ALLOWED ? "port_allowed" : NULL;
}

static int fail(ebpfvm_vm *vm, const char *what, int status)
{
    const char *msg = ebpfvm_vm_errmsg(vm);
    fprintf(stderr, "embed: %s: %s\n", what, msg[0] ? msg : ebpfvm_strerror(status));
    ebpfvm_vm_destroy(vm);
    return 1;
}

int main(void)
{
    struct app_alloc alloc = {0};
    struct ebpfvm_vm_opts vm_opts = {.sz = sizeof vm_opts, .alloc = app_alloc_fn, .alloc_ud = &alloc};
    ebpfvm_vm *vm;
    int status = ebpfvm_vm_create(&vm_opts, &vm);
    if (status) {
        fprintf(stderr, "embed: create: %s\n", ebpfvm_strerror(status));
        return 1;
    }

    /* One scalar argument, an integer result. */
    struct ebpfvm_helper_proto proto = {.ret = EBPFVM_RET_INTEGER, .args = {EBPFVM_ARG_SCALAR}};
    status = ebpfvm_vm_register_helper(vm, APP_HELPER_PORT_ALLOWED, "port_allowed", port_allowed, &proto);
    if (status)
        return fail(vm, "register helper", status);

    struct ebpfvm_load_opts load_opts = {.sz = sizeof load_opts, .prog_type = EBPFVM_PROG_TYPE_MEMORY,
                                         .name = "port_policy"};
    ebpfvm_prog *prog;
    status = ebpfvm_prog_load(vm, program, sizeof program / sizeof program[0], &load_opts, &prog);
    if (status)
        return fail(vm, "load", status);

    size_t count;
    const struct ebpf_insn *insns = ebpfvm_prog_insns(prog, &count);
    for (size_t pc = 0; pc < count;) {
        char line[128];
        int used = ebpfvm_disasm_insn(insns, count, pc, EBPFVM_SYNTAX_LLVM, helper_name, NULL, line, sizeof line);
        printf("%4zu: %s\n", pc, line);
        pc += used > 0 ? (size_t)used : 1;
    }

    static const uint16_t allow_list[] = {22, 443};
    struct app_state state = {.allowed = allow_list, .nallowed = 2};
    /* Unverified programs run in the checked interpreter (EBPFVM_EXEC_AUTO). */
    struct ebpfvm_run_opts run_opts = {.sz = sizeof run_opts, .mode = EBPFVM_EXEC_AUTO, .user = &state};
    static const uint16_t ports[] = {22, 8080};
    for (size_t i = 0; i < 2; i++) {
        uint16_t mem = ports[i];
        struct ebpfvm_run_result result;
        status = ebpfvm_prog_run(prog, &mem, sizeof mem, &run_opts, &result);
        if (status) {
            fprintf(stderr, "embed: run: %s\n", result.message[0] ? result.message : ebpfvm_strerror(status));
            ebpfvm_vm_destroy(vm);
            return 1;
        }
        printf("port %u: %s (r0 = %llu)\n", (unsigned)ports[i], result.r0 ? "allow" : "deny",
               (unsigned long long)result.r0);
    }
    printf("helper calls: %u\n", state.calls);

    ebpfvm_vm_destroy(vm); /* frees the program too */
    printf("allocations: %zu, live after destroy: %zu blocks, %zu bytes\n", alloc.total_allocs,
           alloc.live_blocks, alloc.live_bytes);
    return alloc.live_blocks == 0 && alloc.live_bytes == 0 ? 0 : 1;
}
