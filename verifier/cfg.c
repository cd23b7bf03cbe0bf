/*
 * verifier/cfg.c - the control-flow checks done before exploring paths
 * (the kernel's check_cfg): every jump lands inside the program and not in
 * the middle of an LD_IMM64, no instruction falls through off the end,
 * every instruction is reachable from the entry ("unreachable insn N").
 * It also marks the prune points where the explorer keeps states: jump
 * targets (loop heads included) and the instructions after conditional
 * jumps.
 *
 * Back edges are allowed: loops are accepted when exploration proves that
 * they end within the instruction budget (verifier.c).
 *
 * It also splits the program into subprograms, like the kernel: the main
 * program starts at 0, every bpf-to-bpf call target starts one, and each
 * runs to the next start (env->subprog_start; the static stack-depth check
 * over the call graph in verifier.c walks them).
 */
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_internal.h"

static uint32_t insn_words(const struct venv *env, uint32_t pc)
{
    return ebpfvm__vformat(env, pc) == EBPF_FMT_LD_IMM64 ? 2 : 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* env->subprog_start (sorted, unique, 0 first) and a zeroed subprog_depth.
 * Call targets are inside the program (checked before). */
static bool is_func_ref(const struct venv *env, uint32_t pc)
{
    return env->code[pc].form == EBPF_OP_LDDW && env->code[pc].src == EBPF_PSEUDO_FUNC;
}

static int find_subprogs(struct venv *env)
{
    uint32_t n = 1;
    for (uint32_t pc = 0; pc < env->count; pc++)
        if ((env->code[pc].form == EBPF_OP_CALL && env->code[pc].src == EBPF_PSEUDO_CALL_LOCAL) ||
            is_func_ref(env, pc))
            n++;
    env->subprog_start = ebpfvm__calloc(env->vm, n, sizeof *env->subprog_start);
    env->subprog_depth = ebpfvm__calloc(env->vm, n, sizeof *env->subprog_depth);
    if (!env->subprog_start || !env->subprog_depth)
        return EBPFVM_ERR_NOMEM;
    uint32_t k = 0;
    env->subprog_start[k++] = 0;
    for (uint32_t pc = 0; pc < env->count; pc++) {
        if (env->code[pc].form == EBPF_OP_CALL && env->code[pc].src == EBPF_PSEUDO_CALL_LOCAL)
            env->subprog_start[k++] = (uint32_t)((int64_t)pc + 1 + env->insns[pc].imm);
        else if (is_func_ref(env, pc)) /* a callback: a function too */
            env->subprog_start[k++] = (uint32_t)env->code[pc].u.uimm;
    }
    qsort(env->subprog_start, k, sizeof *env->subprog_start, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < k; i++)
        if (!u || env->subprog_start[i] != env->subprog_start[u - 1])
            env->subprog_start[u++] = env->subprog_start[i];
    env->nsubprogs = u;
    return 0;
}

uint32_t ebpfvm__subprog_of(const struct venv *env, uint32_t pc)
{
    uint32_t lo = 0, hi = env->nsubprogs; /* start[lo] <= pc < start[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (env->subprog_start[mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int ebpfvm__check_cfg(struct venv *env)
{
    uint32_t n = env->count;
    uint8_t *seen = ebpfvm__calloc(env->vm, n, 1);
    uint32_t *work = ebpfvm__calloc(env->vm, n, sizeof *work);
    int err = 0;
    if (!seen || !work) {
        err = EBPFVM_ERR_NOMEM;
        goto out;
    }
    uint32_t top = 0;
    work[top++] = 0;
    seen[0] = 1;
    while (top && !err) {
        uint32_t pc = work[--top];
        const struct ebpfvm_dinsn *d = &env->code[pc];
        enum ebpf_insn_format fmt = ebpfvm__vformat(env, pc);
        int64_t succ[2];
        int nsucc = 0;
        bool falls = true;
        switch (fmt) {
        case EBPF_FMT_EXIT:
            falls = false;
            break;
        case EBPF_FMT_JA:
        case EBPF_FMT_JA32:
            falls = false;
            succ[nsucc++] = (int64_t)pc + 1 + (fmt == EBPF_FMT_JA ? env->insns[pc].off : env->insns[pc].imm);
            break;
        case EBPF_FMT_JMP_IMM:
        case EBPF_FMT_JMP_REG:
            succ[nsucc++] = (int64_t)pc + 1 + env->insns[pc].off;
            if (!env->prune_point[pc + 1 < n ? pc + 1 : pc])
                env->prune_point[pc + 1 < n ? pc + 1 : pc] = 1;
            break;
        case EBPF_FMT_MAY_GOTO:
            /* The kernel's forced checkpoint: every visit keeps a state
             * here, which is what may_goto loops converge against. */
            succ[nsucc++] = (int64_t)pc + 1 + env->insns[pc].off;
            env->prune_point[pc] = PRUNE_FORCE;
            if (pc + 1 < n && !env->prune_point[pc + 1])
                env->prune_point[pc + 1] = 1;
            break;
        case EBPF_FMT_CALL:
            if (d->src == EBPF_PSEUDO_CALL_LOCAL)
                succ[nsucc++] = (int64_t)pc + 1 + env->insns[pc].imm;
            /* A helper that calls a function back: the kernel's forced
             * checkpoint where its iterations converge. */
            if (d->src == EBPF_PSEUDO_CALL_HELPER && ebpfvm__helper_calls_back(env->insns[pc].imm))
                env->prune_point[pc] = PRUNE_CALLBACK;
            /* An iterator's next(): the loop head where it converges. */
            if (d->src == EBPF_PSEUDO_CALL_KFUNC && env->insns[pc].imm == EBPFVM_KFUNC_ITER_NUM_NEXT)
                env->prune_point[pc] = PRUNE_ITER_NEXT;
            break;
        case EBPF_FMT_LD_IMM64:
            /* A function's address: its code is reachable (as a callee). */
            if (d->src == EBPF_PSEUDO_FUNC)
                succ[nsucc++] = (int64_t)d->u.uimm;
            break;
        default:
            break;
        }
        if (falls) {
            int64_t next = (int64_t)pc + insn_words(env, pc);
            if (next >= n) {
                err = ebpfvm__verr(env, "last insn is not an exit or jmp");
                break;
            }
            succ[nsucc++] = next;
        }
        for (int i = 0; i < nsucc; i++) {
            int64_t t = succ[i];
            if (t < 0 || t >= n) {
                err = ebpfvm__verr(env, "jump out of range from insn %u to %lld", pc, (long long)t);
                break;
            }
            if (env->code[t].form == EBPF_OP_COUNT_) {
                err = ebpfvm__verr(env, "jump into the middle of ldimm64 insn %lld", (long long)t);
                break;
            }
            bool callee = (fmt == EBPF_FMT_CALL && d->src == EBPF_PSEUDO_CALL_LOCAL) ||
                          (fmt == EBPF_FMT_LD_IMM64 && d->src == EBPF_PSEUDO_FUNC);
            if (!callee || i > 0) {
                if (t != (int64_t)pc + insn_words(env, pc) && !env->prune_point[t])
                    env->prune_point[t] = 1;
            }
            if (!seen[t]) {
                seen[t] = 1;
                work[top++] = (uint32_t)t;
            }
        }
    }
    for (uint32_t pc = 0; pc < n && !err; pc += insn_words(env, pc))
        if (!seen[pc])
            err = ebpfvm__verr(env, "unreachable insn %u", pc);
    if (!err)
        err = find_subprogs(env);
out:
    ebpfvm__free(env->vm, seen);
    ebpfvm__free(env->vm, work);
    if (err == EBPFVM_ERR_NOMEM)
        return err;
    return err ? -1 : 0;
}
