/*
 * jit/jit.c - the backend-neutral JIT driver: compilation passes until the
 * code layout converges, the one place where jump and call displacements are
 * patched, the sticky emitter error, W^X code memory, the fallback to the
 * interpreter, and running native code.
 *
 * Invariants:
 *   - Code memory is mapped PROT_READ|PROT_WRITE, filled, then mprotect'ed
 *     PROT_READ|PROT_EXEC; it is never writable and executable at once and
 *     never writable again. It is unmapped by ebpfvm__jit_free (program
 *     destroy). The same mapping holds, after the code's last page, the
 *     table of instruction offsets (count + 1 uint32_t, PROT_READ only):
 *     its size follows from prog->jit_size and prog->count.
 *   - With EBPFVM_JIT_BLIND the keys are drawn from the OS once per
 *     compilation, before the first pass.
 *   - A program either has complete native code (prog->jit_code) or none:
 *     every failure leaves it running in the interpreter, with the reason
 *     logged and kept as the vm's message.
 *   - Passes start with every jump in its long form; a pass may only shorten
 *     jumps (distances only shrink), so offsets converge; if they do not
 *     within EBPFVM_JIT_MAX_PASSES the compilation falls back.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "jit/jit.h"
#include "vm/progtype.h"

#define EBPFVM_JIT_MAX_PASSES 16

/* ------------------------------------------------------------- emitter */

void ebpfvm__jit_fail(struct ebpfvm_jit *j, int status, const char *fmt, ...)
{
    if (j->err)
        return;
    j->err = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
    va_end(ap);
}

void ebpfvm__jit_emit(struct ebpfvm_jit *j, const void *bytes, size_t n)
{
    if (j->err)
        return;
    if (j->len + n > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->len + n)
            cap *= 2;
        uint8_t *buf = ebpfvm__alloc(j->vm, cap);
        if (!buf) {
            ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "out of memory for %zu bytes of code", cap);
            return;
        }
        if (j->len)
            memcpy(buf, j->buf, j->len);
        ebpfvm__free(j->vm, j->buf);
        j->buf = buf;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, bytes, n);
    j->len += n;
}

void ebpfvm__jit_bind(struct ebpfvm_jit *j, uint32_t label)
{
    if (j->err)
        return;
    if (label >= j->nlabels) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_INVAL, "insn %u: label %u out of range", j->pc, label);
        return;
    }
    j->off[label] = (uint32_t)j->len;
}

bool ebpfvm__jit_reaches_short(const struct ebpfvm_jit *j, uint32_t label, size_t field_end)
{
    if (j->err || label >= j->nlabels)
        return false;
    int64_t here, there;
    if (j->off[label] != EBPFVM_JIT_UNBOUND) {
        /* Bound in this pass (a backward jump): exact. */
        here = (int64_t)(j->len + field_end);
        there = j->off[label];
    } else {
        /* Forward: estimate in the previous pass's layout, where this
         * instruction started at prev_off[pc]. */
        uint32_t at = ebpfvm__jit_label_insn(j, j->pc);
        if (!j->prev_off || j->prev_off[label] == EBPFVM_JIT_UNBOUND || j->off[at] == EBPFVM_JIT_UNBOUND ||
            j->prev_off[at] == EBPFVM_JIT_UNBOUND)
            return false;
        here = (int64_t)j->prev_off[at] + (int64_t)(j->len - j->off[at]) + (int64_t)field_end;
        there = j->prev_off[label];
    }
    int64_t disp = there - here;
    return disp >= INT8_MIN && disp <= INT8_MAX;
}

void ebpfvm__jit_fixup(struct ebpfvm_jit *j, uint32_t label, uint8_t width)
{
    static const uint8_t zeros[4];
    if (j->err)
        return;
    if (j->nfixups == j->capfixups) {
        size_t cap = j->capfixups ? 2 * j->capfixups : 64;
        struct ebpfvm_jit_fixup *f = ebpfvm__calloc(j->vm, cap, sizeof *f);
        if (!f) {
            ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "out of memory for jump fixups");
            return;
        }
        if (j->nfixups)
            memcpy(f, j->fixups, j->nfixups * sizeof *f);
        ebpfvm__free(j->vm, j->fixups);
        j->fixups = f;
        j->capfixups = cap;
    }
    j->fixups[j->nfixups++] = (struct ebpfvm_jit_fixup){.at = (uint32_t)j->len, .label = label, .width = width};
    ebpfvm__jit_emit(j, zeros, width);
}

size_t ebpfvm__jit_local_rel8(struct ebpfvm_jit *j)
{
    static const uint8_t zero = 0;
    size_t at = j->len;
    ebpfvm__jit_emit(j, &zero, 1);
    return at;
}

void ebpfvm__jit_local_bind(struct ebpfvm_jit *j, size_t at)
{
    if (j->err)
        return;
    size_t disp = j->len - (at + 1);
    if (disp > INT8_MAX) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_RANGE, "insn %u: internal jump of %zu bytes does not fit rel8", j->pc, disp);
        return;
    }
    j->buf[at] = (uint8_t)disp;
}

/* The one place displacements are written: after the final pass. */
static void patch_fixups(struct ebpfvm_jit *j)
{
    for (size_t i = 0; i < j->nfixups && !j->err; i++) {
        const struct ebpfvm_jit_fixup *f = &j->fixups[i];
        uint32_t target = j->off[f->label];
        if (target == EBPFVM_JIT_UNBOUND) {
            ebpfvm__jit_fail(j, EBPFVM_ERR_INVAL, "jump to label %u, which was never placed", f->label);
            return;
        }
        int64_t disp = (int64_t)target - ((int64_t)f->at + f->width);
        if (f->width == 1) {
            if (disp < INT8_MIN || disp > INT8_MAX) {
                ebpfvm__jit_fail(j, EBPFVM_ERR_RANGE, "short jump of %lld bytes out of range", (long long)disp);
                return;
            }
            j->buf[f->at] = (uint8_t)(disp & 0xff);
        } else {
            uint32_t u = (uint32_t)(disp & 0xffffffff);
            for (int b = 0; b < 4; b++)
                j->buf[f->at + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
    }
}

/* ------------------------------------------------------------- compile */

static int fall_back(struct ebpfvm_vm *vm, const struct ebpfvm_prog *prog, int status, const char *reason)
{
    const char *name = prog->name && prog->name[0] ? prog->name : "prog";
    ebpfvm__log(vm, "jit: %s: falling back to the interpreter: %s", name, reason);
    return ebpfvm__error(vm, status, "jit: %s", reason);
}

static void mark_entries(struct ebpfvm_jit *j)
{
    const struct ebpfvm_prog *prog = j->prog;
    j->is_entry[0] = true;
    for (size_t pc = 0; pc < prog->count; pc++) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        if (d->form == EBPF_OP_CALL && prog->insns[pc].src_reg == EBPF_PSEUDO_CALL_LOCAL &&
            d->u.target < prog->count)
            j->is_entry[d->u.target] = true;
    }
}

/* ----------------------------------------------------- randomness */

static int os_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(p + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    if (got == len)
        return 0;
    /* No getrandom (old kernel, seccomp): /dev/urandom. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n > 0)
            got += (size_t)n;
        else if (!(n < 0 && errno == EINTR))
            break;
    }
    close(fd);
    return got == len ? 0 : -1;
}

int (*ebpfvm__jit_random)(void *buf, size_t len) = os_random;

/* One non-zero key per instruction word. */
static int draw_keys(struct ebpfvm_jit *j)
{
    size_t count = j->prog->count;
    j->keys = ebpfvm__calloc(j->vm, count ? count : 1, sizeof *j->keys);
    if (!j->keys) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "out of memory for %zu blinding keys", count);
        return j->err;
    }
    if (ebpfvm__jit_random(j->keys, count * sizeof *j->keys) != 0) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_IO, "constant blinding: no random bytes from getrandom or /dev/urandom");
        return j->err;
    }
    for (size_t i = 0; i < count; i++)
        while (j->keys[i] == 0)
            j->keys[i] = (uint32_t)(0x9e3779b9u * (i + 1)); /* a 1 in 2^32 draw: any fixed non-zero key */
    return 0;
}

/* ----------------------------------------------------------- memory */

static size_t page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Bytes of the mapping: code pages, then the offset table's pages. */
static size_t mapping_size(size_t code_size, size_t count)
{
    size_t psize = page_size();
    return round_up(code_size, psize) + round_up((count + 1) * sizeof(uint32_t), psize);
}

/* Copy the converged code into fresh pages and seal them read+execute;
 * the offset table after them, read-only. */
static int install(struct ebpfvm_jit *j, struct ebpfvm_prog *prog)
{
    size_t code_pages = round_up(j->len, page_size());
    size_t map_size = mapping_size(j->len, prog->count);
    void *mem = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "mmap of %zu bytes failed", map_size);
        return j->err;
    }
    memcpy(mem, j->buf, j->len);
    /* Fill the tail of the last page with int3. */
    memset((uint8_t *)mem + j->len, 0xcc, code_pages - j->len);
    uint32_t *offsets = (uint32_t *)(void *)((uint8_t *)mem + code_pages);
    for (size_t pc = 0; pc < prog->count; pc++)
        offsets[pc] = j->off[ebpfvm__jit_label_insn(j, (uint32_t)pc)];
    offsets[prog->count] = (uint32_t)j->len;
    /* The second word of an LD_IMM64 has no code: it starts where the next
     * instruction does. */
    for (size_t pc = prog->count; pc-- > 0;)
        if (offsets[pc] == EBPFVM_JIT_UNBOUND)
            offsets[pc] = offsets[pc + 1];
    if (mprotect(mem, code_pages, PROT_READ | PROT_EXEC) != 0 ||
        mprotect((uint8_t *)mem + code_pages, map_size - code_pages, PROT_READ) != 0) {
        munmap(mem, map_size);
        ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "mprotect(PROT_READ|PROT_EXEC) of %zu bytes failed", map_size);
        return j->err;
    }
    prog->jit_code = mem;
    prog->jit_size = j->len;
    return 0;
}

static int compile(struct ebpfvm_jit *j, struct ebpfvm_prog *prog)
{
    struct ebpfvm_vm *vm = prog->vm;
    j->nlabels = 2 * prog->count + EBPFVM_JIT_NSPECIAL;
    j->off = ebpfvm__calloc(vm, j->nlabels, sizeof *j->off);
    uint32_t *spare = ebpfvm__calloc(vm, j->nlabels, sizeof *spare);
    j->is_entry = ebpfvm__calloc(vm, prog->count, sizeof *j->is_entry);
    if (!j->off || !spare || !j->is_entry) {
        ebpfvm__free(vm, spare);
        ebpfvm__jit_fail(j, EBPFVM_ERR_NOMEM, "out of memory for %zu labels", j->nlabels);
        return j->err;
    }
    mark_entries(j);
    if (j->blind && draw_keys(j) != 0) {
        ebpfvm__free(vm, spare);
        return j->err;
    }

    bool converged = false;
    for (int pass = 0; pass < EBPFVM_JIT_MAX_PASSES && !j->err && !converged; pass++) {
        j->len = 0;
        j->nfixups = 0;
        j->pc = 0;
        for (size_t i = 0; i < j->nlabels; i++)
            j->off[i] = EBPFVM_JIT_UNBOUND;
        ebpfvm__jit_x86_64_emit(j);
        if (j->err)
            break;
        converged = j->prev_off && memcmp(j->prev_off, j->off, j->nlabels * sizeof *j->off) == 0;
        if (!converged) {
            /* This pass's layout becomes the estimate for the next one. */
            uint32_t *t = j->prev_off ? j->prev_off : spare;
            j->prev_off = j->off;
            j->off = t;
        }
    }
    if (!j->err && !converged)
        ebpfvm__jit_fail(j, EBPFVM_ERR_RANGE, "code size did not converge after %d passes", EBPFVM_JIT_MAX_PASSES);
    if (!j->err)
        patch_fixups(j);
    if (!j->err)
        install(j, prog);
    /* off and prev_off are the two label arrays (one of them `spare`). */
    if (j->prev_off != spare && j->off != spare)
        ebpfvm__free(vm, spare);
    return j->err;
}

int ebpfvm_prog_jit(ebpfvm_prog *prog, uint32_t flags)
{
    if (!prog)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_vm *vm = prog->vm;
    if (flags & ~(EBPFVM_JIT_ALLOW_UNVERIFIED | EBPFVM_JIT_BLIND))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "jit: unknown flags 0x%x", flags);
    if (prog->jit_code)
        return EBPFVM_OK;
    if (!prog->verified && !(flags & EBPFVM_JIT_ALLOW_UNVERIFIED))
        return fall_back(vm, prog, EBPFVM_ERR_PERM,
                         "the program is not verified (pass EBPFVM_JIT_ALLOW_UNVERIFIED to compile it anyway)");
    if (prog->fp_write_pc >= 0 && !prog->verified)
        return fall_back(vm, prog, EBPFVM_ERR_PERM, "the program writes the frame pointer r10");
#if !defined(__x86_64__)
    return fall_back(vm, prog, EBPFVM_ERR_UNSUPP, "no JIT backend for this host architecture");
#else
    struct ebpfvm_jit j;
    memset(&j, 0, sizeof j);
    j.vm = vm;
    j.prog = prog;
    j.blind = (flags & EBPFVM_JIT_BLIND) != 0;
    int err = compile(&j, prog);
    ebpfvm__free(vm, j.buf);
    ebpfvm__free(vm, j.off);
    ebpfvm__free(vm, j.prev_off);
    ebpfvm__free(vm, j.is_entry);
    ebpfvm__free(vm, j.fixups);
    ebpfvm__free(vm, j.keys);
    if (err)
        return fall_back(vm, prog, err, j.errmsg);
    ebpfvm__log(vm, "jit: %s: %zu instructions compiled to %zu bytes", prog->name && prog->name[0] ? prog->name : "prog",
                prog->count, prog->jit_size);
    return EBPFVM_OK;
#endif
}

int ebpfvm_prog_is_jitted(const ebpfvm_prog *prog)
{
    return prog && prog->jit_code;
}

const void *ebpfvm_prog_jit_code(const ebpfvm_prog *prog, size_t *size)
{
    if (size)
        *size = prog && prog->jit_code ? prog->jit_size : 0;
    return prog ? prog->jit_code : NULL;
}

int ebpfvm_prog_jit_offsets(const ebpfvm_prog *prog, const uint32_t **offsets, size_t *count)
{
    if (offsets)
        *offsets = NULL;
    if (count)
        *count = 0;
    if (!prog || !offsets || !count)
        return EBPFVM_ERR_INVAL;
    if (!prog->jit_code)
        return ebpfvm__error(prog->vm, EBPFVM_ERR_NOENT, "jit: the program has no native code");
    const uint8_t *table = (const uint8_t *)prog->jit_code + round_up(prog->jit_size, page_size());
    *offsets = (const uint32_t *)(const void *)table;
    *count = prog->count + 1;
    return EBPFVM_OK;
}

void ebpfvm__jit_free(struct ebpfvm_prog *prog)
{
    if (!prog || !prog->jit_code)
        return;
    munmap(prog->jit_code, mapping_size(prog->jit_size, prog->count));
    prog->jit_code = NULL;
    prog->jit_size = 0;
}

/* ----------------------------------------------------------------- run */

/* The entry point the backend emits at offset 0. */
typedef uint64_t (*jit_entry_fn)(void *ctx, uint64_t ctx_size, struct ebpfvm_jit_run *run);

/* Turn what native code recorded into the interpreter's fault reason. */
static void describe_fault(const struct ebpfvm_prog *prog, struct ebpfvm_env *env, const struct ebpfvm_jit_run *run)
{
    env->faulted = true;
    env->pc = run->fault_pc;
    switch (run->fault_kind) {
    case EBPFVM_JIT_FAULT_CALL_DEPTH:
        snprintf(env->fault_msg, sizeof env->fault_msg, "call depth exceeds %d frames", EBPF_MAX_CALL_DEPTH);
        break;
    case EBPFVM_JIT_FAULT_CALLX:
        snprintf(env->fault_msg, sizeof env->fault_msg, "callx r%u: unknown helper %llu",
                 (unsigned)prog->insns[run->fault_pc].dst_reg, (unsigned long long)run->fault_value);
        break;
    default: /* EBPFVM_JIT_FAULT_HELPER: the helper's own message, if any */
        if (!env->fault_msg[0] && run->fault_value <= EBPFVM_MAX_HELPER_ID && prog->vm->helpers)
            snprintf(env->fault_msg, sizeof env->fault_msg, "helper %u (%s) faulted", (unsigned)run->fault_value,
                     prog->vm->helpers[run->fault_value].name ? prog->vm->helpers[run->fault_value].name : "?");
        break;
    }
}

int ebpfvm__jit_run(const struct ebpfvm_prog *prog, struct ebpfvm_env *env, void *ctx, size_t ctx_size,
                    uint64_t *r0)
{
    if (!prog || !prog->jit_code || !env || !r0)
        return EBPFVM_ERR_INVAL;
    /* Everything else zero: no fault, no frames zeroed, depth 0. */
    struct ebpfvm_jit_run run = {.env = env};
    ebpfvm__prog_type_packet(prog->prog_type, ctx, ctx_size, &run.pkt, &run.pkt_len);
    jit_entry_fn entry;
    void *code = prog->jit_code;
    memcpy(&entry, &code, sizeof entry); /* object to function pointer without a cast */
    uint64_t ret = entry(ctx, (uint64_t)ctx_size, &run);
    if (run.fault_kind != EBPFVM_JIT_FAULT_NONE) {
        describe_fault(prog, env, &run);
        return EBPFVM_ERR_FAULT;
    }
    *r0 = ret;
    return EBPFVM_OK;
}

int ebpfvm__jit_prog_run(const struct ebpfvm_prog *prog, void *ctx, size_t ctx_size,
                         const struct ebpfvm_run_opts *opts, struct ebpfvm_run_result *result)
{
    result->r0 = 0;
    result->insns_executed = 0;
    result->fault_pc = -1;
    result->fault_addr = 0;
    result->message[0] = '\0';
    if (!prog->jit_code) {
        snprintf(result->message, sizeof result->message, "run: the program has no native code");
        return EBPFVM_ERR_INVAL;
    }
    /* The env set-up (context checks and regions by program type) and the
     * tail-call chain are the interpreter's (vm/interp.c): each program of
     * the chain runs here in native code when it has some. */
    struct ebpfvm_run_opts o = *opts;
    o.mode = EBPFVM_EXEC_JIT;
    return ebpfvm__run_chain(prog, ctx, ctx_size, &o, result);
}
