/*
 * vm/program.c - the program object: loading (copy, validate, decode),
 * ownership by the vm, accessors.
 *
 * A program is immutable once ebpfvm_prog_load() returns, which is what lets
 * many threads run it at once. Loading a type with context fields (XDP)
 * rewrites its context accesses in prog->code (vm/ctx_rewrite.c).
 */
#include <string.h>

#include "vm/progtype.h"

static void prog_free(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog)
{
    ebpfvm__jit_free(prog);
    ebpfvm__free(vm, prog->insns);
    ebpfvm__free(vm, prog->code);
    ebpfvm__free(vm, prog->name);
    ebpfvm__free(vm, prog->nonint_funcs);
    ebpfvm__free(vm, prog);
}

int ebpfvm__prog_mark_nonint_func(struct ebpfvm_prog *prog, uint32_t pc)
{
    uint32_t *grown = ebpfvm__calloc(prog->vm, prog->n_nonint_funcs + 1, sizeof *grown);
    if (!grown)
        return EBPFVM_ERR_NOMEM;
    if (prog->n_nonint_funcs)
        memcpy(grown, prog->nonint_funcs, prog->n_nonint_funcs * sizeof *grown);
    grown[prog->n_nonint_funcs++] = pc;
    ebpfvm__free(prog->vm, prog->nonint_funcs);
    prog->nonint_funcs = grown;
    return 0;
}

/* Where the main function ends: subprograms start at call targets and
 * follow it (the kernel's layout). bpf_tail_call uses it to tell whether it
 * was called from the main function. */
static uint32_t main_function_end(const struct ebpfvm_prog *prog)
{
    size_t end = prog->count;
    for (size_t pc = 0; pc < prog->count; pc++) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        if (d->form == EBPF_OP_COUNT_)
            continue;
        uint64_t target;
        if (d->form == EBPF_OP_CALL && d->src == EBPF_PSEUDO_CALL_LOCAL)
            target = d->u.target;
        else if (ebpfvm__forms[d->form].format == EBPF_FMT_LD_IMM64 && d->src == EBPF_PSEUDO_FUNC)
            target = d->u.uimm;
        else
            continue;
        if (target > 0 && target < end)
            end = (size_t)target;
    }
    return (uint32_t)end;
}

int ebpfvm_prog_load(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count,
                     const struct ebpfvm_load_opts *opts, ebpfvm_prog **out)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (!out)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "load: out is NULL");
    *out = NULL;
    if (!insns || count == 0)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "load: the program is empty");
    if (opts && opts->sz < sizeof(size_t))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "load: opts->sz is %zu", opts->sz);
    if (count > EBPFVM_MAX_INSNS)
        return ebpfvm__error(vm, EBPFVM_ERR_RANGE, "load: %zu instructions, more than the limit of %d", count,
                             EBPFVM_MAX_INSNS);
    struct ebpfvm_load_opts o = {0};
    if (opts) {
        size_t n = opts->sz < sizeof o ? opts->sz : sizeof o;
        memcpy(&o, opts, n);
    }
    if (!ebpfvm__prog_type(o.prog_type))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "load: unknown program type %d", (int)o.prog_type);

    struct ebpfvm_prog *prog = ebpfvm__calloc(vm, 1, sizeof *prog);
    if (!prog)
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "load: out of memory");
    prog->vm = vm;
    prog->count = count;
    prog->fp_write_pc = -1;
    prog->prog_type = o.prog_type;
    prog->insns = ebpfvm__calloc(vm, count, sizeof *prog->insns);
    prog->code = ebpfvm__calloc(vm, count, sizeof *prog->code);
    prog->name = ebpfvm__strdup(vm, o.name ? o.name : "");
    if (!prog->insns || !prog->code || !prog->name) {
        prog_free(vm, prog);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "load: out of memory");
    }
    memcpy(prog->insns, insns, count * sizeof *insns);

    int err = ebpfvm__validate_and_decode(vm, prog);
    if (!err)
        err = ebpfvm__ctx_rewrite(vm, prog); /* context field accesses -> runtime accesses */
    if (!err)
        prog->main_end = main_function_end(prog);
    if (err) {
        prog_free(vm, prog);
        return err;
    }
    prog->next = vm->progs;
    if (vm->progs)
        vm->progs->prev = prog;
    vm->progs = prog;
    *out = prog;
    return EBPFVM_OK;
}

void ebpfvm_prog_destroy(ebpfvm_prog *prog)
{
    if (!prog)
        return;
    struct ebpfvm_vm *vm = prog->vm;
    if (prog->prev)
        prog->prev->next = prog->next;
    else
        vm->progs = prog->next;
    if (prog->next)
        prog->next->prev = prog->prev;
    ebpfvm__maps_forget_prog(vm, prog);
    prog_free(vm, prog);
}

const struct ebpf_insn *ebpfvm_prog_insns(const ebpfvm_prog *prog, size_t *count)
{
    if (!prog) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = prog->count;
    return prog->insns;
}

int ebpfvm_prog_is_verified(const ebpfvm_prog *prog)
{
    return prog && prog->verified;
}
