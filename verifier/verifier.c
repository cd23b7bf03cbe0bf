/*
 * verifier/verifier.c - the verifier's driver: ebpfvm_prog_verify(), the
 * path explorer and state pruning.
 *
 * How it works (the kernel's algorithm, written for ebpfvm):
 *
 * The program is first checked as a graph (cfg.c): every instruction is
 * reachable, jumps stay inside, nothing falls off the end. Then it is
 * executed abstractly. The state is what the verifier knows about each
 * register and stack byte: its type (scalar, ctx, fp, pkt, pkt_end,
 * map_value, map_value_or_null, ...), a fixed offset for pointers, and for
 * scalars and variable pointer offsets a tnum (known bits) plus signed and
 * unsigned 64- and 32-bit ranges (reg_bounds.c). Each instruction is
 * checked against the state and transforms it (check_alu.c, check_mem.c,
 * check_jmp.c); a violation stops everything with a message in the
 * kernel's words.
 *
 * A conditional jump whose outcome the state does not decide splits the
 * path: the jump's state is pushed on a stack of pending branches (each
 * side refined by what the condition implies), and exploration continues
 * with the fall-through. When a path reaches exit, the next pending branch
 * is popped. The exploration is a depth-first walk over all paths, so it
 * would be exponential without pruning:
 *
 * At prune points (jump targets, loop heads, the instruction after a
 * conditional jump) the current state is compared with the states already
 * seen there. Each kept state (a checkpoint) counts the paths still being
 * explored below it (`branches`); when that count drops to zero every path
 * from it reached exit safely. If such a completed state includes the
 * current one (state.c: every register's possible values inside the old
 * one's; registers dead there and scalars whose value reaches no check
 * from there are not compared, precision.c), the current path is safe too
 * and ends ("safe"). A path keeps a new checkpoint only 8 processed
 * instructions after its last one (the kernel's heuristic). A checkpoint
 * still in progress that is identical to the current state means the path
 * came back to where it was with nothing changed: "infinite loop detected".
 *
 * Loops need no special treatment: a loop whose counter changes the state
 * is explored iteration by iteration until its exit condition is decided;
 * one that never ends exhausts the budget of 1,000,000 processed
 * instructions ("BPF program is too large. Processed 1000001 insn").
 *
 * A bpf-to-bpf call pushes the caller's frame (its registers and stack)
 * into the state and starts the callee with r1-r5 of the caller and a
 * fresh stack; the callee's exit pops it back, with r0 the callee's and
 * r1-r5 clobbered. States compare equal only with the same call stack.
 * Every stack access records how deep it reaches in its frame's
 * subprogram; after exploration, like the kernel, the static call graph
 * (dead calls included) is walked and a chain of calls is rejected when
 * its stacks add up to more than 512 bytes or it is more than 8 frames
 * deep (check_max_stack_depth).
 *
 * ebpfvm verifies as for a privileged (CAP_BPF + CAP_PERFMON) loader: pointer
 * ALU the kernel turns into an unknown scalar for root does so here too
 * (check_alu.c); pointers may be stored and returned, uninitialised stack
 * read, the stack addressed with a bounded variable offset (check_mem.c).
 * EBPFVM_VERIFY_STRICT (env->strict) rejects those last three.
 *
 * Memory: checkpoints live until the end of the run; at most
 * MAX_STATES_PER_INSN per instruction and MAX_TOTAL_STATES in all are
 * searched (beyond that, paths are explored without pruning, which only
 * costs instructions from the budget). Like the kernel, a checkpoint
 * still in progress (a loop head the path keeps coming back to) that was
 * compared more than 3 * (its hits + 1) times in vain leaves the search
 * (it stays allocated: paths below it count down its branches), so a loop
 * that runs to the budget compares each iteration with a few recent
 * states, not with all earlier ones. A completed checkpoint leaves after
 * 128 * (hits + 1) vain comparisons (the kernel: 3; ebpfvm's coarser
 * liveness needs its checkpoints more).
 */
#include <stdio.h>
#include <string.h>

#include "ebpfvm/verifier.h"
#include "verifier/verifier_internal.h"

#ifndef EBPFVM_VERIFIER_MAX_STATES_PER_INSN
#define EBPFVM_VERIFIER_MAX_STATES_PER_INSN 2560u
#endif
#ifndef EBPFVM_VERIFIER_MAX_TOTAL_STATES
#define EBPFVM_VERIFIER_MAX_TOTAL_STATES 16384u
#endif

uint32_t ebpfvm__new_id(struct venv *env)
{
    return ++env->id_gen;
}

int ebpfvm__push_branch(struct venv *env, const struct vstate *st, uint32_t insn, uint32_t prev)
{
    if (env->npending == env->cap_pending) {
        uint32_t cap = env->cap_pending ? env->cap_pending * 2 : 64;
        struct vpending *np = ebpfvm__calloc(env->vm, cap, sizeof *np);
        if (!np) {
            env->err = EBPFVM_ERR_NOMEM;
            return ebpfvm__verr(env, "out of memory");
        }
        if (env->pending)
            memcpy(np, env->pending, env->npending * sizeof *np);
        ebpfvm__free(env->vm, env->pending);
        env->pending = np;
        env->cap_pending = cap;
    }
    struct vstate *copy = ebpfvm__calloc(env->vm, 1, sizeof *copy);
    if (!copy || ebpfvm__state_copy(env, copy, st)) {
        ebpfvm__free(env->vm, copy);
        env->err = EBPFVM_ERR_NOMEM;
        return ebpfvm__verr(env, "out of memory");
    }
    if (copy->parent)
        copy->parent->branches++;
    env->pending[env->npending++] = (struct vpending){copy, insn, prev, env->log.len};
    return 0;
}

/* A path ended: the checkpoints above it may now be complete. */
static void update_branch_counts(struct vstate *st)
{
    while (st) {
        if (--st->branches)
            break;
        st = st->parent;
    }
}

/* 1: the current state is covered (prune); 0: go on; -1: rejected. */
static int is_state_visited(struct venv *env, uint32_t pc)
{
    struct vstate *cur = env->cur;
    if (env->need_dirty)
        ebpfvm__precision_compute(env);
    uint16_t dead_regs = 0, loose_regs = 0;
    uint64_t loose_slots = 0;
    if (!cur->curframe && pc < env->prog->main_end) {
        dead_regs = (uint16_t)~env->live_regs[pc];
        loose_regs = (uint16_t)~env->need_regs[pc];
        loose_slots = ~env->need_slots[pc];
    }
    bool force = env->prune_point[pc] >= PRUNE_FORCE;
    bool calls_back = env->prune_point[pc] == PRUNE_CALLBACK;
    bool iter_next = env->prune_point[pc] == PRUNE_ITER_NEXT;
    env->just_kept = NULL;
    for (struct vstate_list **link = &env->explored[pc], *sl; (sl = *link) != NULL;) {
        if (sl->st.branches && iter_next) {
            /* An iterator's next() reached again with more elements taken:
             * within an earlier visit and still ACTIVE, the earlier one's
             * paths cover it (the kernel's is_iter_next_insn case; exact
             * states are compared, no liveness, since the earlier one's
             * paths are not all known; never an infinite loop: the
             * iterator ends). */
            const struct vreg *it = ebpfvm__iter_of_r1(cur);
            if (ebpfvm__states_equal(&sl->st, cur, RANGE_WITHIN, env->strict, 0, 0, 0) && it &&
                it->off == ITER_ACTIVE) {
                sl->hit_cnt++;
                return 1;
            }
        } else if (sl->st.branches && calls_back) {
            /* A helper call that runs a callback, reached again after
             * more callback visits: one inside the earlier state's ranges
             * is covered by it (the kernel's calls_callback case; coming
             * back unchanged is how the iteration converges, not an
             * infinite loop). */
            if (ebpfvm__states_equal(&sl->st, cur, RANGE_WITHIN, env->strict, 0, 0, 0)) {
                sl->hit_cnt++;
                return 1;
            }
        } else if (sl->st.branches) {
            /* A may_goto loop head seen again after more fall-throughs,
             * inside the values it had then: the earlier visit's paths
             * cover this one's (the loop may stop at any iteration, so
             * the jump path explored from there is every way out). */
            if (force && sl->st.may_goto_depth != cur->may_goto_depth &&
                ebpfvm__states_equal(&sl->st, cur, RANGE_WITHIN, env->strict, 0, 0, 0)) {
                sl->hit_cnt++;
                return 1;
            }
            if (ebpfvm__states_equal(&sl->st, cur, EXACT, env->strict, 0, 0, 0))
                return ebpfvm__verr(env, "infinite loop detected at insn %u", pc);
        } else if (ebpfvm__states_equal(&sl->st, cur, NOT_EXACT, env->strict, dead_regs, loose_regs, loose_slots)) {
            sl->hit_cnt++;
            return 1;
        }
        /* The kernel's heuristic: a checkpoint that keeps failing to match
         * (a loop's earlier iterations) is dropped from the search. The
         * kernel allows 3 misses per hit for every checkpoint; ebpfvm keeps
         * that for checkpoints in progress but allows completed ones 128,
         * because its coarser liveness makes it rely on them more (with 32
         * tests/xdp/bounded_loops.c runs out of budget; with 128 it
         * processes exactly as many instructions as with no eviction, in a
         * fifth of the time). Only the search's length depends on it. */
        unsigned allowed = sl->st.branches ? (force ? 64 : 3) : 128;
        if (++sl->miss_cnt > sl->hit_cnt * allowed + allowed) {
            *link = sl->next;
            sl->next = env->retired;
            env->retired = sl;
            env->nexplored[pc]--;
            env->total_states--;
            continue;
        }
        link = &sl->next;
    }
    /* Like the kernel, keep a new checkpoint only when the path has run
     * at least 8 instructions since the last one it kept: fewer, more
     * useful checkpoints (not keeping one only costs pruning). */
    if (env->nexplored[pc] >= EBPFVM_VERIFIER_MAX_STATES_PER_INSN ||
        env->total_states >= EBPFVM_VERIFIER_MAX_TOTAL_STATES ||
        (!force && env->insn_processed - env->last_checkpoint_insn < 8))
        return 0;
    env->last_checkpoint_insn = env->insn_processed;
    struct vstate_list *sl = ebpfvm__calloc(env->vm, 1, sizeof *sl);
    if (!sl || ebpfvm__state_copy(env, &sl->st, cur)) {
        ebpfvm__free(env->vm, sl);
        env->err = EBPFVM_ERR_NOMEM;
        return ebpfvm__verr(env, "out of memory");
    }
    sl->st.branches = 1;
    sl->st.insn = pc;
    sl->st.ndecided = 0;
    sl->st.decided_all = false;
    sl->next = env->explored[pc];
    env->explored[pc] = sl;
    cur->parent = &sl->st;
    cur->written = 0;
    env->just_kept = &sl->st;
    env->nexplored[pc]++;
    if (env->nexplored[pc] > env->max_states_per_insn)
        env->max_states_per_insn = env->nexplored[pc];
    env->total_states++;
    env->states_kept++;
    if (env->total_states > env->peak_states)
        env->peak_states = env->total_states;
    return 0;
}

static void init_state(struct venv *env, struct vstate *st)
{
    memset(st, 0, sizeof *st);
    ebpfvm__mark_reg_ptr(&st->regs[EBPF_REG_FP], PTR_TO_STACK);
    if (env->prog->prog_type == EBPFVM_PROG_TYPE_MEMORY) {
        ebpfvm__mark_reg_ptr(&st->regs[1], PTR_TO_MEM);
        st->regs[1].mem_size = env->mem_size;
        ebpfvm__mark_reg_unknown(&st->regs[2]);
    } else {
        ebpfvm__mark_reg_ptr(&st->regs[1], PTR_TO_CTX);
    }
}

/* Path finished at an exit or was pruned: continue with a pending branch.
 * Returns 1 when none is left. */
static int pop_branch(struct venv *env, uint32_t *pc)
{
    update_branch_counts(env->cur->parent);
    if (!env->npending)
        return 1;
    struct vpending p = env->pending[--env->npending];
    /* The popped state's frames move into cur. */
    ebpfvm__state_free(env, env->cur);
    *env->cur = *p.st;
    ebpfvm__free(env->vm, p.st);
    if (env->log.level == 1 && env->log.buf && p.log_pos <= env->log.len) {
        /* Back to the branch point: its line may have got its "; R..."
         * suffix since, so cut at the padding and end the line. */
        size_t len = p.log_pos;
        while (len && (env->log.buf[len - 1] == ' ' || env->log.buf[len - 1] == '\n'))
            len--;
        env->log.len = len;
        env->log.buf[len] = '\0';
        if (len)
            ebpfvm__vlog(env, "\n");
    }
    if (env->log.level) {
        ebpfvm__vlog(env, "from %u to %u: ", p.prev_insn, p.insn);
        ebpfvm__vlog_state(env, env->cur);
    }
    *pc = p.insn;
    return 0;
}

/* The registers an instruction reads or writes (the log's "; R..."). */
static uint32_t touched_regs(const struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    uint32_t dst = 1u << insn->dst_reg, src = 1u << insn->src_reg;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_ALU_IMM:
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
    case EBPF_FMT_LD_IMM64:
    case EBPF_FMT_ST:
    case EBPF_FMT_JMP_IMM:
        return dst;
    case EBPF_FMT_ALU_REG:
    case EBPF_FMT_LDX:
    case EBPF_FMT_STX:
    case EBPF_FMT_JMP_REG:
        return dst | src;
    case EBPF_FMT_ATOMIC:
        return dst | src | (insn->imm == EBPF_ATOMIC_CMPXCHG ? 1u : 0u);
    case EBPF_FMT_CALL:
        return 1u;
    default:
        return 0;
    }
}

/* ------------------------------------------------ stack depth per subprogram */

/* The subprogram whose frame `frameno` of the current state runs. */
static uint32_t frame_subprog(const struct venv *env, uint32_t frameno, uint32_t pc)
{
    const struct vstate *st = env->cur;
    if (frameno >= st->curframe)
        return ebpfvm__subprog_of(env, pc);
    /* The frame above it was entered by a call from inside it. */
    return ebpfvm__subprog_of(env, st->callers[frameno].callsite);
}

/* A stack access the instruction at pc is about to make. */
struct stack_use {
    uint32_t subprog[EBPF_NREGS];
    uint32_t depth[EBPF_NREGS];
    unsigned n;
};

/* An access from R[regno] + off upwards: like the kernel (grow_stack_state),
 * the frame it points into needs -(lowest offset) bytes, rounded up to 8. */
static void note_stack_use(const struct venv *env, struct stack_use *u, unsigned regno, int64_t off, uint32_t pc)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (reg->type != PTR_TO_STACK)
        return;
    int64_t min_off = (int64_t)reg->off + off + reg->b.smin;
    if (min_off >= 0 || min_off < -EBPF_STACK_SIZE)
        return; /* rejected by the access check */
    u->subprog[u->n] = frame_subprog(env, reg->frameno, pc);
    u->depth[u->n] = (uint32_t)((-min_off + 7) & ~(int64_t)7);
    u->n++;
}

/* The stack the instruction at pc accesses (loads, stores, atomics, and
 * helper memory arguments), before it is checked. */
static void stack_use_of(const struct venv *env, uint32_t pc, struct stack_use *u)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    u->n = 0;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_LDX:
        note_stack_use(env, u, insn->src_reg, insn->off, pc);
        break;
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
    case EBPF_FMT_ATOMIC:
        note_stack_use(env, u, insn->dst_reg, insn->off, pc);
        break;
    case EBPF_FMT_CALL: {
        int32_t id = insn->imm;
        if (env->code[pc].src == EBPF_PSEUDO_CALL_KFUNC) { /* the iterator: 8 bytes at r1 */
            note_stack_use(env, u, 1, 0, pc);
            break;
        }
        if (env->code[pc].src != EBPF_PSEUDO_CALL_HELPER || id <= 0 || id > EBPFVM_MAX_HELPER_ID ||
            !env->vm->helpers || !env->vm->helpers[id].fn)
            break;
        const struct ebpfvm_helper_proto *proto = &env->vm->helpers[id].proto;
        for (unsigned i = 0; i < 5; i++) {
            switch (proto->args[i]) {
            case EBPFVM_ARG_PTR_TO_MAP_KEY:
            case EBPFVM_ARG_PTR_TO_MAP_VALUE:
            case EBPFVM_ARG_PTR_TO_MEM:
            case EBPFVM_ARG_PTR_TO_MEM_OR_NULL:
            case EBPFVM_ARG_PTR_TO_UNINIT_MEM:
            case EBPFVM_ARG_PTR_TO_LONG:
                note_stack_use(env, u, i + 1, 0, pc);
                break;
            default:
                break;
            }
        }
        break;
    }
    default:
        break;
    }
}

static void mark_stack_use(struct venv *env, const struct stack_use *u)
{
    for (unsigned i = 0; i < u->n; i++)
        if (env->subprog_depth[u->subprog[i]] < u->depth[i])
            env->subprog_depth[u->subprog[i]] = u->depth[i];
}

/*
 * The kernel's check_max_stack_depth, after exploration: walk the static
 * call graph from the main program (every bpf-to-bpf call, explored or
 * not) and reject a chain of calls whose stacks add up to more than 512
 * bytes, or that is more than 8 frames deep. A frame's stack is its
 * subprogram's depth rounded up to 16 (the kernel's rounding for JITed
 * programs; the x86-64 kernel JITs every program).
 *
 * The walk is the kernel's depth-first one, in the same order, so it fails
 * at the same call with the same numbers; a callee whose whole subtree
 * cannot fail is not entered (need / height, computed first), which keeps
 * it linear where the kernel's is exponential.
 */
enum { SUBTREE_INF = UINT32_MAX / 2 };

static uint32_t frame_stack(const struct venv *env, uint32_t subprog)
{
    return (env->subprog_depth[subprog] + 15) & ~15u;
}

static uint32_t subprog_end(const struct venv *env, uint32_t subprog)
{
    return subprog + 1 < env->nsubprogs ? env->subprog_start[subprog + 1] : env->count;
}

/* A bpf-to-bpf call, or (like the kernel) the address of a function taken
 * for a helper's callback: its frame goes below this one. */
static bool is_local_call(const struct venv *env, uint32_t pc)
{
    return (env->code[pc].form == EBPF_OP_CALL && env->code[pc].src == EBPF_PSEUDO_CALL_LOCAL) ||
           (env->code[pc].form == EBPF_OP_LDDW && env->code[pc].src == EBPF_PSEUDO_FUNC);
}

static uint32_t callee_of(const struct venv *env, uint32_t pc)
{
    const struct ebpfvm_dinsn *d = &env->code[pc];
    return ebpfvm__subprog_of(env, d->form == EBPF_OP_LDDW ? (uint32_t)d->u.uimm : d->u.target);
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a >= SUBTREE_INF || b >= SUBTREE_INF || a + b >= SUBTREE_INF ? SUBTREE_INF : a + b;
}

/* need[s]: the largest stack of a chain of calls starting with s (its own
 * included); height[s]: the most frames of one. SUBTREE_INF for
 * subprograms that reach a recursion. Iterative (no C recursion). */
static int subtree_bounds(struct venv *env, uint32_t *need, uint32_t *height)
{
    uint32_t n = env->nsubprogs;
    uint8_t *mark = ebpfvm__calloc(env->vm, n, 1); /* 0 new, 1 on the path, 2 done */
    uint32_t *sp_sub = ebpfvm__calloc(env->vm, n, sizeof *sp_sub);
    uint32_t *sp_pc = ebpfvm__calloc(env->vm, n, sizeof *sp_pc);
    if (!mark || !sp_sub || !sp_pc) {
        ebpfvm__free(env->vm, mark);
        ebpfvm__free(env->vm, sp_sub);
        ebpfvm__free(env->vm, sp_pc);
        return EBPFVM_ERR_NOMEM;
    }
    uint32_t top = 0;
    sp_sub[top] = 0;
    sp_pc[top++] = env->subprog_start[0];
    mark[0] = 1;
    need[0] = height[0] = 0;
    while (top) {
        uint32_t s = sp_sub[top - 1], end = subprog_end(env, s);
        uint32_t pc = sp_pc[top - 1];
        while (pc < end && !is_local_call(env, pc))
            pc++;
        if (pc < end) {
            sp_pc[top - 1] = pc + 1;
            uint32_t c = callee_of(env, pc);
            if (mark[c] == 1) {
                need[s] = height[s] = SUBTREE_INF;
            } else if (mark[c] == 2) {
                if (need[c] > need[s])
                    need[s] = need[c];
                if (height[c] > height[s])
                    height[s] = height[c];
            } else {
                mark[c] = 1;
                need[c] = height[c] = 0;
                sp_sub[top] = c;
                sp_pc[top++] = env->subprog_start[c];
            }
            continue;
        }
        /* s is done: until now need / height held its callees' maxima. */
        need[s] = sat_add(need[s], frame_stack(env, s));
        height[s] = sat_add(height[s], 1);
        mark[s] = 2;
        top--;
        if (top) {
            uint32_t p = sp_sub[top - 1];
            if (need[s] > need[p])
                need[p] = need[s];
            if (height[s] > height[p])
                height[p] = height[s];
        }
    }
    ebpfvm__free(env->vm, mark);
    ebpfvm__free(env->vm, sp_sub);
    ebpfvm__free(env->vm, sp_pc);
    return 0;
}

/* 0, -1 (rejected, *fail_pc = the call that went too far) or
 * EBPFVM_ERR_NOMEM. */
static int check_max_stack_depth(struct venv *env, uint32_t *fail_pc)
{
    uint32_t *need = ebpfvm__calloc(env->vm, env->nsubprogs, sizeof *need);
    uint32_t *height = ebpfvm__calloc(env->vm, env->nsubprogs, sizeof *height);
    int ret = need && height ? subtree_bounds(env, need, height) : EBPFVM_ERR_NOMEM;
    uint32_t ret_pc[EBPF_MAX_CALL_DEPTH], ret_sub[EBPF_MAX_CALL_DEPTH];
    uint32_t frame = 0, depth = 0, idx = 0, pc = 0;
    if (ret)
        goto out;
    depth = frame_stack(env, 0);
    for (;;) {
        if (pc < subprog_end(env, idx)) {
            if (!is_local_call(env, pc)) {
                pc++;
                continue;
            }
            uint32_t c = callee_of(env, pc);
            /* Nothing below this call can fail: the kernel's walk would
             * come back from it with no error. */
            if (sat_add(depth, need[c]) <= EBPF_STACK_SIZE && sat_add(frame, height[c]) < EBPF_MAX_CALL_DEPTH) {
                pc++;
                continue;
            }
            ret_pc[frame] = pc + 1;
            ret_sub[frame] = idx;
            frame++;
            if (frame >= EBPF_MAX_CALL_DEPTH) {
                *fail_pc = pc;
                ret = ebpfvm__verr(env, "the call stack of %u frames is too deep !", frame);
                goto out;
            }
            depth += frame_stack(env, c);
            if (depth > EBPF_STACK_SIZE) {
                *fail_pc = pc;
                ret = ebpfvm__verr(env, "combined stack size of %u calls is %u. Too large", frame + 1, depth);
                goto out;
            }
            idx = c;
            pc = env->subprog_start[c];
            continue;
        }
        if (!frame)
            break;
        depth -= frame_stack(env, idx);
        frame--;
        pc = ret_pc[frame];
        idx = ret_sub[frame];
    }
out:
    ebpfvm__free(env->vm, need);
    ebpfvm__free(env->vm, height);
    return ret;
}

/* ------------------------------------------------------------- may_goto */

static bool same_callsites(const struct vstate *a, const struct vstate *b)
{
    if (a->curframe != b->curframe)
        return false;
    for (uint32_t f = 0; f < a->curframe; f++)
        if (a->callers[f].callsite != b->callers[f].callsite)
            return false;
    return true;
}

const struct vstate *ebpfvm__find_prev_entry(const struct venv *env, const struct vstate *st, uint32_t pc,
                                             const struct vstate *skip)
{
    (void)env;
    for (const struct vstate *p = st->parent; p; p = p->parent)
        if (p != skip && p->insn == pc && p->branches && same_callsites(p, st))
            return p;
    return NULL;
}

static bool bounds_equal(const struct bounds *a, const struct bounds *b)
{
    return a->smin == b->smin && a->smax == b->smax && a->umin == b->umin && a->umax == b->umax &&
           a->s32_min == b->s32_min && a->s32_max == b->s32_max && a->u32_min == b->u32_min &&
           a->u32_max == b->u32_max && ebpfvm__tnum_equals(a->var_off, b->var_off);
}

/* The kernel's maybe_widen_reg: a scalar that changed since the previous
 * visit and whose value matters nowhere (not precise) becomes unknown, so
 * that a counter nothing checks does not make every iteration new. */
static void maybe_widen(const struct vreg *old, struct vreg *cur, bool precise)
{
    if (precise || old->type != SCALAR_VALUE || cur->type != SCALAR_VALUE)
        return;
    if (old->id == cur->id && bounds_equal(&old->b, &cur->b))
        return;
    ebpfvm__mark_reg_unknown(cur);
}

/* Widen st (about to run pc) against prev, the state of an earlier visit.
 * "Precise" is precision.c's need set at pc, known for the main frame
 * only: in a subprogram nothing widens. */
void ebpfvm__widen_imprecise_scalars(struct venv *env, const struct vstate *prev, struct vstate *q, uint32_t pc)
{
    if (q->curframe || pc >= env->prog->main_end)
        return;
    uint16_t need;
    uint64_t slots;
    if (!ebpfvm__widen_need(env, prev, pc, &need, &slots))
        return; /* out of memory: no widening (more exact states, never unsound) */
    for (unsigned r = 0; r < EBPF_REG_FP; r++)
        maybe_widen(&prev->regs[r], &q->regs[r], (need >> r) & 1);
    for (unsigned k = 0; k < NSLOTS; k++)
        if (prev->stack[k * 8] == STACK_SPILL && q->stack[k * 8] == STACK_SPILL)
            maybe_widen(&prev->spills[k], &q->spills[k], (slots >> k) & 1);
}

/*
 * may_goto (the kernel's BPF_JCOND): at run time it falls through while the
 * frame's budget of EBPF_MAY_GOTO_BUDGET lasts, then jumps. The verifier
 * explores the jump first with the current state, and queues the
 * fall-through with may_goto_depth + 1, widened against the previous visit
 * of this instruction on the same path. The forced checkpoint here
 * (cfg.c) lets a later visit be pruned by an earlier one whose ranges
 * include it (is_state_visited), which is how such loops converge.
 */
static int check_may_goto(struct venv *env, uint32_t pc, uint32_t *next)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    if (insn->off == 0 || insn->imm || insn->dst_reg)
        return ebpfvm__verr(env, "invalid may_goto off %d imm %d", insn->off, insn->imm);
    const struct vstate *prev = ebpfvm__find_prev_entry(env, env->cur, pc, env->just_kept);
    if (ebpfvm__push_branch(env, env->cur, pc + 1, pc))
        return -1;
    struct vstate *q = env->pending[env->npending - 1].st;
    q->may_goto_depth++;
    if (prev)
        ebpfvm__widen_imprecise_scalars(env, prev, q, pc + 1);
    *next = env->code[pc].u.target;
    return 0;
}

static int do_check(struct venv *env)
{
    uint32_t pc = 0;
    init_state(env, env->cur);
    if (env->log.level) {
        ebpfvm__vlog(env, "0: ");
        ebpfvm__vlog_state(env, env->cur);
    }
    for (;;) {
        if (++env->insn_processed > EBPFVM_VERIFIER_INSN_LIMIT)
            return ebpfvm__verr(env, "BPF program is too large. Processed %llu insn",
                                (unsigned long long)env->insn_processed);
        if (env->prune_point[pc]) {
            int r = is_state_visited(env, pc);
            if (r < 0)
                return -1;
            if (r > 0) {
                if (env->log.level >= 2)
                    ebpfvm__vlog(env, "%u: safe\n", pc);
                if (pop_branch(env, &pc))
                    return 0;
                continue;
            }
        }
        ebpfvm__precision_note(env, pc);
        ebpfvm__vlog_insn(env, pc);
        size_t line_end = env->log.len ? env->log.len - 1 : 0;
        env->prev_insn = pc;

        const struct ebpfvm_dinsn *d = &env->code[pc];
        enum ebpf_insn_format fmt = ebpfvm__vformat(env, pc);
        uint32_t next = pc + 1;
        int err = 0;
        bool path_done = false;
        struct stack_use use;
        stack_use_of(env, pc, &use);
        switch (fmt) {
        case EBPF_FMT_ALU_IMM:
        case EBPF_FMT_ALU_REG:
        case EBPF_FMT_ALU_UNARY:
        case EBPF_FMT_ENDIAN:
            err = ebpfvm__check_alu(env, pc);
            break;
        case EBPF_FMT_LD_IMM64:
            err = ebpfvm__check_ld_imm64(env, pc);
            next = pc + 2;
            break;
        case EBPF_FMT_LD_ABS:
        case EBPF_FMT_LD_IND:
            err = ebpfvm__check_ld_abs(env, pc);
            break;
        case EBPF_FMT_LDX:
            err = ebpfvm__check_ldx(env, pc);
            break;
        case EBPF_FMT_ST:
        case EBPF_FMT_STX:
            err = ebpfvm__check_store(env, pc);
            break;
        case EBPF_FMT_ATOMIC:
            err = ebpfvm__check_atomic(env, pc);
            break;
        case EBPF_FMT_JA:
        case EBPF_FMT_JA32:
            next = d->u.target;
            break;
        case EBPF_FMT_MAY_GOTO:
            err = check_may_goto(env, pc, &next);
            break;
        case EBPF_FMT_JMP_IMM:
        case EBPF_FMT_JMP_REG: {
            int r = ebpfvm__check_cond_jmp(env, pc, &next);
            if (r < 0)
                err = r;
            else if (r > 0)
                path_done = true;
            break;
        }
        case EBPF_FMT_CALL:
            if (d->src == EBPF_PSEUDO_CALL_HELPER)
                err = ebpfvm__check_helper_call(env, pc);
            else if (d->src == EBPF_PSEUDO_CALL_KFUNC)
                err = ebpfvm__check_kfunc_call(env, pc);
            else
                err = ebpfvm__check_local_call(env, pc, &next);
            break;
        case EBPF_FMT_CALLX:
            env->err = EBPFVM_ERR_UNSUPP;
            err = ebpfvm__verr(env, "callx is not supported by the verifier");
            break;
        case EBPF_FMT_EXIT:
            if (env->cur->curframe) {
                err = ebpfvm__check_return(env, pc, &next);
            } else {
                err = ebpfvm__check_exit(env, pc);
                path_done = true;
            }
            break;
        }
        if (err)
            return -1;
        mark_stack_use(env, &use);
        if (!path_done)
            ebpfvm__vlog_insn_state(env, line_end, touched_regs(env, pc));
        if (path_done) {
            if (pop_branch(env, &pc))
                return 0;
            continue;
        }
        pc = next;
    }
}

/* ------------------------------------------------- the context rewrite */

/* The decoded load a context field access becomes (vm/ctx_rewrite.c). */
static int expected_ctx_load(const struct ebpf_insn *insn, const struct ebpfvm_ctx_field *field,
                             struct ebpfvm_dinsn *out)
{
    uint8_t mode = EBPF_MODE(insn->opcode);
    if (field->rt_size != field->size)
        mode = EBPF_MODE_MEM;
    uint8_t size_bits = field->rt_size == 1   ? EBPF_SIZE_B
                        : field->rt_size == 2 ? EBPF_SIZE_H
                        : field->rt_size == 4 ? EBPF_SIZE_W
                                              : EBPF_SIZE_DW;
    struct ebpf_insn word = {0};
    word.opcode = (uint8_t)(EBPF_CLASS_LDX | mode | size_bits);
    word.dst_reg = insn->dst_reg;
    word.src_reg = insn->src_reg;
    word.off = (int16_t)field->rt_off;
    int form = ebpfvm__form_of(&word);
    if (form < 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->form = (uint8_t)form;
    out->dst = insn->dst_reg;
    out->src = insn->src_reg;
    out->size = field->rt_size;
    out->off = field->rt_off;
    return 0;
}

static int apply_ctx_rewrite(struct venv *env)
{
    struct ebpfvm_dinsn *code = env->prog->code;
    for (uint32_t pc = 0; pc < env->count; pc++) {
        const struct ebpf_insn *insn = &env->insns[pc];
        struct ebpfvm_dinsn *d = &code[pc];
        if (env->access[pc] == ACCESS_NONE)
            continue;
        int orig_form = ebpfvm__form_of(insn);
        bool original = d->form == orig_form && d->off == insn->off;
        if (env->access[pc] == ACCESS_OTHER) {
            if (!original)
                return ebpfvm__verr(env, "internal error: insn %u was rewritten as a context access but is not one",
                                    pc);
            continue;
        }
        if (ebpfvm__ctx_field_identity(env->ctx_field[pc])) {
            /* The runtime keeps the field in place: the access stays. */
            if (!original)
                return ebpfvm__verr(env, "internal error: insn %u: the context rewrite disagrees with the verifier",
                                    pc);
            continue;
        }
        struct ebpfvm_dinsn want;
        if (expected_ctx_load(insn, env->ctx_field[pc], &want))
            return ebpfvm__verr(env, "internal error: no load form for context field %s", env->ctx_field[pc]->name);
        if (d->form == want.form && d->off == want.off && d->size == want.size)
            continue;
        if (!original)
            return ebpfvm__verr(env, "internal error: insn %u: the context rewrite disagrees with the verifier", pc);
        *d = want;
    }
    return 0;
}

/* ---------------------------------------------------------- the entry */

static void deliver_log(struct venv *env, const struct ebpfvm_verify_opts *o)
{
    const char *text = env->log.buf ? env->log.buf : "";
    if (o->log_buf && o->log_size) {
        /* Like the kernel's rotating log: when it does not fit, the end
         * (which explains the verdict) is kept, from a line start. */
        size_t n = env->log.len, skip = 0;
        if (n > o->log_size - 1) {
            skip = n - (o->log_size - 1);
            while (skip < env->log.len && text[skip - 1] != '\n')
                skip++;
            n = env->log.len - skip;
        }
        memcpy(o->log_buf, text + skip, n);
        o->log_buf[n] = '\0';
    }
    if (o->log_fn) {
        const char *p = text;
        char line[1024];
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            size_t c = n < sizeof line - 1 ? n : sizeof line - 1;
            memcpy(line, p, c);
            line[c] = '\0';
            o->log_fn(o->log_ud, line);
            p += n + (nl ? 1 : 0);
        }
    }
}

static void free_list(struct venv *env, struct vstate_list *sl)
{
    while (sl) {
        struct vstate_list *next = sl->next;
        ebpfvm__state_free(env, &sl->st);
        ebpfvm__free(env->vm, sl);
        sl = next;
    }
}

static void free_env(struct venv *env)
{
    struct ebpfvm_vm *vm = env->vm;
    free_list(env, env->retired);
    if (env->explored) {
        for (uint32_t pc = 0; pc < env->count; pc++)
            free_list(env, env->explored[pc]);
    }
    for (uint32_t i = 0; i < env->npending; i++) {
        ebpfvm__state_free(env, env->pending[i].st);
        ebpfvm__free(vm, env->pending[i].st);
    }
    ebpfvm__free(vm, env->pending);
    ebpfvm__free(vm, env->explored);
    ebpfvm__free(vm, env->nexplored);
    ebpfvm__free(vm, env->prune_point);
    ebpfvm__free(vm, env->access);
    ebpfvm__free(vm, (void *)env->ctx_field);
    ebpfvm__free(vm, env->live_regs);
    ebpfvm__free(vm, env->need_regs);
    ebpfvm__free(vm, env->need_slots);
    ebpfvm__free(vm, env->ptr_alu);
    ebpfvm__free(vm, env->stack_indirect);
    ebpfvm__free(vm, env->widen_regs);
    ebpfvm__free(vm, env->widen_live);
    ebpfvm__free(vm, env->widen_slots);
    ebpfvm__free(vm, env->subprog_start);
    ebpfvm__free(vm, env->subprog_depth);
    if (env->cur)
        ebpfvm__state_free(env, env->cur);
    ebpfvm__free(vm, env->cur);
    ebpfvm__vlog_free(env);
}

static uint32_t list_stack_depth(const struct vstate_list *sl, uint32_t depth)
{
    for (; sl; sl = sl->next)
        for (uint32_t k = 0; k < EBPF_STACK_SIZE; k++)
            if (sl->st.stack[k] != STACK_INVALID) {
                if (EBPF_STACK_SIZE - k > depth)
                    depth = EBPF_STACK_SIZE - k;
                break;
            }
    return depth;
}

static uint32_t stack_depth(const struct venv *env)
{
    /* The deepest byte any kept (or retired) state initialised. */
    uint32_t depth = list_stack_depth(env->retired, 0);
    for (uint32_t pc = 0; pc < env->count; pc++)
        depth = list_stack_depth(env->explored[pc], depth);
    return depth;
}

int ebpfvm_prog_verify(ebpfvm_prog *prog, const struct ebpfvm_verify_opts *opts)
{
    if (!prog)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_vm *vm = prog->vm;
    if (opts && opts->sz < sizeof(size_t))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "verifier: opts->sz is %zu", opts->sz);
    struct ebpfvm_verify_opts o;
    memset(&o, 0, sizeof o);
    if (opts) {
        size_t n = opts->sz < sizeof o ? opts->sz : sizeof o;
        memcpy(&o, opts, n);
    }
    if (!o.log_buf && o.log_size)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "verifier: log_size %zu without log_buf", o.log_size);

    struct venv env;
    memset(&env, 0, sizeof env);
    env.vm = vm;
    env.prog = prog;
    env.desc = ebpfvm__prog_type(prog->prog_type);
    env.insns = prog->insns;
    env.code = prog->code;
    env.count = (uint32_t)prog->count;
    env.mem_size = o.mem_size;
    env.strict = (o.flags & EBPFVM_VERIFY_STRICT) != 0;
    env.log.level = o.log_level;
    prog->verified = false;
    prog->verified_mem_size = 0;

    env.cur = ebpfvm__calloc(vm, 1, sizeof *env.cur);
    env.explored = ebpfvm__calloc(vm, env.count, sizeof *env.explored);
    env.nexplored = ebpfvm__calloc(vm, env.count, sizeof *env.nexplored);
    env.prune_point = ebpfvm__calloc(vm, env.count, 1);
    env.access = ebpfvm__calloc(vm, env.count, 1);
    env.ctx_field = ebpfvm__calloc(vm, env.count, sizeof *env.ctx_field);
    env.live_regs = ebpfvm__calloc(vm, env.count, sizeof *env.live_regs);
    env.need_regs = ebpfvm__calloc(vm, env.count, sizeof *env.need_regs);
    env.need_slots = ebpfvm__calloc(vm, env.count, sizeof *env.need_slots);
    env.ptr_alu = ebpfvm__calloc(vm, env.count, 1);
    env.stack_indirect = ebpfvm__calloc(vm, env.count, 1);
    env.need_dirty = true;
    int status = 0;
    uint32_t fail_pc = 0;
    if (!env.cur || !env.explored || !env.nexplored || !env.prune_point || !env.access || !env.ctx_field ||
        !env.live_regs || !env.need_regs || !env.need_slots || !env.ptr_alu || !env.stack_indirect) {
        free_env(&env);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "verifier: out of memory");
    }

    int r = ebpfvm__check_cfg(&env);
    if (r == EBPFVM_ERR_NOMEM) {
        status = EBPFVM_ERR_NOMEM;
        snprintf(env.reason, sizeof env.reason, "out of memory");
    } else if (r) {
        status = EBPFVM_ERR_BADPROG;
    } else if (do_check(&env)) {
        status = env.err ? env.err : EBPFVM_ERR_VERIFY;
        fail_pc = env.prev_insn;
    } else if ((r = check_max_stack_depth(&env, &fail_pc)) != 0) {
        status = r == EBPFVM_ERR_NOMEM ? r : EBPFVM_ERR_VERIFY;
        if (r == EBPFVM_ERR_NOMEM)
            snprintf(env.reason, sizeof env.reason, "out of memory");
    } else if (apply_ctx_rewrite(&env)) {
        status = EBPFVM_ERR_VERIFY;
    }

    uint32_t depth = stack_depth(&env);
    if (env.log.level) {
        if (!status)
            ebpfvm__vlog(&env, "stack depth %u\n", depth);
        ebpfvm__vlog(&env,
                     "processed %llu insns (limit %u) max_states_per_insn %u total_states %u peak_states %u "
                     "mark_read 0\n",
                     (unsigned long long)env.insn_processed, EBPFVM_VERIFIER_INSN_LIMIT, env.max_states_per_insn,
                     env.states_kept, env.peak_states);
    }
    deliver_log(&env, &o);
    if (o.stats) {
        o.stats->insns_processed = env.insn_processed;
        o.stats->total_states = env.states_kept;
        o.stats->max_states_per_insn = env.max_states_per_insn;
        o.stats->stack_depth = depth;
    }
    if (status == EBPFVM_ERR_BADPROG || status == EBPFVM_ERR_NOMEM)
        ebpfvm__error(vm, status, "verifier: %s", env.reason);
    else if (status)
        ebpfvm__error(vm, status, "verifier: insn %u: %s", fail_pc, env.reason);
    else {
        prog->verified = true;
        prog->verified_mem_size = prog->prog_type == EBPFVM_PROG_TYPE_MEMORY ? o.mem_size : 0;
    }
    free_env(&env);
    return status;
}
