/*
 * vm/kfuncs.c - ebpfvm's built-in kernel functions (kfuncs): the calls
 * (src_reg 2) a program may make besides helpers. The loader resolves a
 * call to an extern function of one of these names to `call kfunc <id>`
 * (include/ebpfvm/ebpfvm.h, EBPFVM_KFUNC_*); validation refuses any other
 * id; the verifier checks each by its rules (verifier/check_jmp.c); the
 * interpreter and the JIT call them like helpers.
 *
 * Today: the numeric open-coded iterator of kernel/bpf/bpf_iter.c,
 * bpf_iter_num_{new,next,destroy}, with the kernel's results. Its state is
 * the program's 8-byte struct bpf_iter_num on the stack, laid out as the
 * kernel's: { int cur; int end; }.
 */
#include <string.h>

#include "vm/helper_args.h"
#include "vm/internal.h"

/* The kernel's BPF_MAX_LOOPS: the longest range an iterator covers. */
#define ITER_NUM_MAX (8ll * 1024 * 1024)

struct iter_num {
    int32_t cur; /* the value next() returned last; start - 1 before the first */
    int32_t end; /* exclusive */
};

static struct iter_num *iter_arg(ebpfvm_env *env, uint64_t it, const char *name)
{
    if (!ebpfvm__helper_arg_mem(env, it, sizeof(struct iter_num), true, name, 1))
        return NULL;
    return (struct iter_num *)(uintptr_t)it;
}

/* 0, or -EINVAL (start > end) / -E2BIG (more than BPF_MAX_LOOPS values),
 * which leave an iterator whose next() returns NULL. */
static uint64_t kfunc_iter_num_new(uint64_t it, uint64_t start, uint64_t end, uint64_t r4, uint64_t r5,
                                   ebpfvm_env *env)
{
    (void)r4, (void)r5;
    struct iter_num *s = iter_arg(env, it, "bpf_iter_num_new");
    if (!s)
        return 0;
    int32_t lo = (int32_t)start, hi = (int32_t)end;
    if (lo > hi) {
        s->cur = s->end = 0;
        return (uint64_t)(int64_t)-22; /* -EINVAL */
    }
    if ((int64_t)hi - (int64_t)lo > ITER_NUM_MAX) {
        s->cur = s->end = 0;
        return (uint64_t)(int64_t)-7; /* -E2BIG */
    }
    s->cur = (int32_t)((uint32_t)lo - 1u); /* wraps like the kernel's for INT_MIN */
    s->end = hi;
    return 0;
}

/* A pointer to the next value (in the iterator itself), or NULL when done. */
static uint64_t kfunc_iter_num_next(uint64_t it, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    struct iter_num *s = iter_arg(env, it, "bpf_iter_num_next");
    if (!s)
        return 0;
    if ((int64_t)s->cur + 1 >= (int64_t)s->end) {
        s->cur = s->end = 0;
        return 0;
    }
    s->cur++;
    return (uint64_t)(uintptr_t)&s->cur;
}

static uint64_t kfunc_iter_num_destroy(uint64_t it, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    struct iter_num *s = iter_arg(env, it, "bpf_iter_num_destroy");
    if (s)
        s->cur = s->end = 0;
    return 0;
}

const struct ebpfvm__kfunc ebpfvm__kfuncs[EBPFVM_KFUNC_COUNT_] = {
    [EBPFVM_KFUNC_ITER_NUM_NEW] = {"bpf_iter_num_new", kfunc_iter_num_new},
    [EBPFVM_KFUNC_ITER_NUM_NEXT] = {"bpf_iter_num_next", kfunc_iter_num_next},
    [EBPFVM_KFUNC_ITER_NUM_DESTROY] = {"bpf_iter_num_destroy", kfunc_iter_num_destroy},
};

int ebpfvm__kfunc_by_name(const char *name)
{
    for (int id = 1; id < EBPFVM_KFUNC_COUNT_; id++)
        if (ebpfvm__kfuncs[id].name && !strcmp(ebpfvm__kfuncs[id].name, name))
            return id;
    return 0;
}
