/*
 * verifier/log.c - the verifier log, in the kernel's vocabulary and format.
 *
 * Owns: the run's log text (an internal buffer grown through the vm's
 * allocator and capped at EBPFVM_VERIFIER_LOG_MAX bytes; the public entry
 * copies it out at the end), the printing of registers and states
 * ("R1=ctx() R10=fp0", "scalar(smin=...,var_off=(0x0; 0xff))",
 * "pkt(off=14,r=14)") and of instructions ("3: (61) r2 = *(u32 *)(r1 +4)").
 *
 * Invariant: buf is NUL terminated at len whenever it is not NULL. At the
 * cap the older half of the text is dropped (the end of a log is what
 * explains a rejection); when the allocator fails, `overflow` is set and
 * later text is dropped.
 */
#include <stdio.h>
#include <string.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

#ifndef EBPFVM_VERIFIER_LOG_MAX
#define EBPFVM_VERIFIER_LOG_MAX (16u << 20)
#endif

static void log_append(struct venv *env, const char *text, size_t n)
{
    struct vlog *log = &env->log;
    if (log->overflow)
        return;
    if (log->len + n + 1 > log->cap) {
        size_t cap = log->cap ? log->cap : 4096;
        while (cap < log->len + n + 1)
            cap *= 2;
        if (cap > EBPFVM_VERIFIER_LOG_MAX) {
            /* Keep the most recent half, from a line start (like the
             * kernel's rotating log, the end is what matters). */
            if (n + 1 > EBPFVM_VERIFIER_LOG_MAX / 2) {
                log->overflow = true;
                return;
            }
            size_t drop = log->len / 2;
            while (drop < log->len && log->buf[drop - 1] != '\n')
                drop++;
            memmove(log->buf, log->buf + drop, log->len - drop + 1);
            log->len -= drop;
            env->path_log_start = 0;
            log_append(env, text, n);
            return;
        }
        char *nb = ebpfvm__alloc(env->vm, cap);
        if (!nb) {
            log->overflow = true;
            return;
        }
        if (log->buf)
            memcpy(nb, log->buf, log->len + 1);
        ebpfvm__free(env->vm, log->buf);
        log->buf = nb;
        log->cap = cap;
    }
    memcpy(log->buf + log->len, text, n);
    log->len += n;
    log->buf[log->len] = '\0';
}

static void vlog_va(struct venv *env, const char *fmt, va_list ap)
{
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    log_append(env, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void ebpfvm__vlog(struct venv *env, const char *fmt, ...)
{
    if (!env->log.level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog_va(env, fmt, ap);
    va_end(ap);
}

int ebpfvm__verr(struct venv *env, const char *fmt, ...)
{
    char text[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (env->log.level)
        ebpfvm__vlog(env, "%s\n", text);
    /* A rejection explained in two lines (the kernel's "invalid access to
     * packet ..." then "R2 offset is outside of the packet") keeps both in
     * the one-line reason. */
    size_t used = strlen(env->reason);
    if (used && used + 3 < sizeof env->reason)
        snprintf(env->reason + used, sizeof env->reason - used, ": %s", text);
    else if (!used)
        snprintf(env->reason, sizeof env->reason, "%s", text);
    if (!env->err)
        env->err = EBPFVM_ERR_VERIFY;
    return -1;
}

void ebpfvm__vlog_free(struct venv *env)
{
    ebpfvm__free(env->vm, env->log.buf);
    env->log.buf = NULL;
    env->log.len = env->log.cap = 0;
}

const char *ebpfvm__vtype_name(uint8_t type)
{
    switch (type) {
    case NOT_INIT: return "?";
    case SCALAR_VALUE: return "scalar";
    case PTR_TO_CTX: return "ctx";
    case PTR_TO_STACK: return "fp";
    case PTR_TO_PACKET: return "pkt";
    case PTR_TO_PACKET_END: return "pkt_end";
    case PTR_TO_PACKET_META: return "pkt_meta";
    case CONST_PTR_TO_MAP: return "map_ptr";
    case PTR_TO_MAP_VALUE: return "map_value";
    case PTR_TO_MAP_VALUE_OR_NULL: return "map_value_or_null";
    case PTR_TO_MEM: return "mem";
    case PTR_TO_MEM_OR_NULL: return "mem_or_null";
    case PTR_TO_FUNC: return "func";
    default: return "unknown";
    }
}

/* The kernel's number style: small values in decimal, others in hex. */
static void fmt_snum(char *buf, size_t size, int64_t v)
{
    if (v >= -32768 && v <= 32767)
        snprintf(buf, size, "%lld", (long long)v);
    else
        snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

static void fmt_unum(char *buf, size_t size, uint64_t v)
{
    if (v <= 32767)
        snprintf(buf, size, "%llu", (unsigned long long)v);
    else
        snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

const char *ebpfvm__reg_type_name(const struct vreg *reg)
{
    if (reg->ref_obj_id && reg->type == PTR_TO_MEM)
        return "ringbuf_mem";
    if (reg->ref_obj_id && reg->type == PTR_TO_MEM_OR_NULL)
        return "ringbuf_mem_or_null";
    if (reg->rdonly && reg->type == PTR_TO_MEM)
        return "rdonly_mem";
    return ebpfvm__vtype_name(reg->type);
}

/* A growing "a=1,b=2" list inside one register's parentheses. */
struct fields {
    char buf[400];
    size_t len;
};

static void field_add(struct fields *f, const char *fmt, ...) EBPFVM_PRINTF(2, 3);
static void field_add(struct fields *f, const char *fmt, ...)
{
    if (f->len >= sizeof f->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->buf + f->len, sizeof f->buf - f->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->len += (size_t)n < sizeof f->buf - f->len ? (size_t)n : sizeof f->buf - f->len - 1;
}

/*
 * The ranges that differ from "anything", in the kernel's order. A value
 * printed once names every later field of the same kind (min or max) with
 * the same value and sign: "smax=umax=255".
 */
static void add_ranges(struct fields *f, const struct bounds *b, const char **sep)
{
    struct {
        const char *name;
        uint64_t val;
        bool omit;
        bool is_signed;
    } m[8] = {
        {"smin", (uint64_t)b->smin, b->smin == INT64_MIN, true},
        {"smax", (uint64_t)b->smax, b->smax == INT64_MAX, true},
        {"umin", b->umin, b->umin == 0, false},
        {"umax", b->umax, b->umax == UINT64_MAX, false},
        {"smin32", (uint64_t)(int64_t)b->s32_min, b->s32_min == INT32_MIN, true},
        {"smax32", (uint64_t)(int64_t)b->s32_max, b->s32_max == INT32_MAX, true},
        {"umin32", b->u32_min, b->u32_min == 0, false},
        {"umax32", b->u32_max, b->u32_max == UINT32_MAX, false},
    };
    for (int i = 0; i < 8; i++) {
        if (m[i].omit)
            continue;
        bool neg = m[i].is_signed && ebpf_as_s64(m[i].val) < 0;
        field_add(f, "%s%s=", *sep, m[i].name);
        *sep = ",";
        for (int j = i + 2; j < 8; j += 2) {
            if (m[j].omit || m[j].val != m[i].val)
                continue;
            bool neg2 = m[j].is_signed && ebpf_as_s64(m[j].val) < 0;
            if (neg2 != neg)
                continue;
            m[j].omit = true;
            field_add(f, "%s=", m[j].name);
        }
        char num[32];
        if (m[i].is_signed)
            fmt_snum(num, sizeof num, ebpf_as_s64(m[i].val));
        else
            fmt_unum(num, sizeof num, m[i].val);
        field_add(f, "%s", num);
    }
}

void ebpfvm__vlog_reg(struct venv *env, const struct vreg *reg)
{
    const struct bounds *b = &reg->b;
    bool is_const = ebpfvm__tnum_is_const(b->var_off);
    if (reg->type == SCALAR_VALUE && is_const && !reg->id) {
        char num[32];
        fmt_snum(num, sizeof num, ebpf_as_s64(b->var_off.value));
        ebpfvm__vlog(env, "%s", num);
        return;
    }
    if (reg->type == PTR_TO_STACK && is_const) {
        ebpfvm__vlog(env, "fp%lld", (long long)(ebpf_as_s64(b->var_off.value) + reg->off));
        return;
    }
    struct fields f = {{0}, 0};
    const char *sep = "";
    if (reg->id) {
        if (reg->add_const)
            field_add(&f, "id=%u%+d", reg->id, reg->off);
        else
            field_add(&f, "id=%u", reg->id);
        sep = ",";
    }
    if (reg->ref_obj_id) {
        field_add(&f, "%sref_obj_id=%u", sep, reg->ref_obj_id);
        sep = ",";
    }
    if (reg->type != SCALAR_VALUE && reg->off) {
        field_add(&f, "%soff=%d", sep, reg->off);
        sep = ",";
    }
    if (reg->type == PTR_TO_PACKET || reg->type == PTR_TO_PACKET_META) {
        field_add(&f, "%sr=%u", sep, reg->range);
        sep = ",";
    } else if (reg->type == CONST_PTR_TO_MAP || reg->type == PTR_TO_MAP_VALUE ||
               reg->type == PTR_TO_MAP_VALUE_OR_NULL) {
        if (reg->map && reg->map->name && reg->map->name[0])
            field_add(&f, "%smap=%s,ks=%u,vs=%u", sep, reg->map->name, reg->map->key_size, reg->map->value_size);
        else if (reg->map)
            field_add(&f, "%sks=%u,vs=%u", sep, reg->map->key_size, reg->map->value_size);
        sep = ",";
    } else if (reg->type == PTR_TO_MEM || reg->type == PTR_TO_MEM_OR_NULL) {
        field_add(&f, "%ssz=%u", sep, reg->mem_size);
        sep = ",";
    }
    if (is_const) {
        if (b->var_off.value)
            field_add(&f, "%simm=%llx", sep, (unsigned long long)b->var_off.value);
    } else {
        add_ranges(&f, b, &sep);
        if (!ebpfvm__tnum_is_unknown(b->var_off)) {
            char tn[64];
            field_add(&f, "%svar_off=%s", sep, ebpfvm__tnum_str(b->var_off, tn, sizeof tn));
        }
    }
    ebpfvm__vlog(env, "%s(%s)", ebpfvm__reg_type_name(reg), f.buf);
}

/* The registers in `mask` that hold something, "R0=1 R2=fp-8". */
static const char *vlog_regs(struct venv *env, const struct vstate *st, uint32_t mask)
{
    const char *sep = "";
    for (int r = 0; r < EBPF_NREGS; r++) {
        const struct vreg *reg = &st->regs[r];
        if (reg->type == NOT_INIT || !((mask >> r) & 1))
            continue;
        ebpfvm__vlog(env, "%sR%d=", sep, r);
        ebpfvm__vlog_reg(env, reg);
        sep = " ";
    }
    return sep;
}

void ebpfvm__vlog_insn_state(struct venv *env, size_t line_end, uint32_t mask)
{
    struct vlog *log = &env->log;
    if (!log->level || !log->buf || log->overflow || line_end >= log->len || log->buf[line_end] != '\n')
        return;
    if (!mask) 
        return;
    size_t start = line_end;
    while (start > 0 && log->buf[start - 1] != '\n')
        start--;
    log->len = line_end;
    log->buf[line_end] = '\0';
    size_t width = line_end - start;
    ebpfvm__vlog(env, "%*s; ", width < 38 ? (int)(38 - width) : 0, "");
    vlog_regs(env, env->cur, mask);
    ebpfvm__vlog(env, "\n");
}

void ebpfvm__vlog_state(struct venv *env, const struct vstate *st)
{
    const char *sep = vlog_regs(env, st, UINT32_MAX);
    for (int slot = NSLOTS - 1; slot >= 0; slot--) {
        const uint8_t *bytes = &st->stack[slot * 8];
        int off = slot * 8 - EBPF_STACK_SIZE;
        if (bytes[0] == STACK_SPILL) {
            ebpfvm__vlog(env, "%sfp%d=", sep, off);
            ebpfvm__vlog_reg(env, &st->spills[slot]);
            sep = " ";
            continue;
        }
        if (bytes[0] == STACK_ITER) {
            const struct vreg *it = &st->spills[slot];
            ebpfvm__vlog(env, "%sfp%d=iter_num(ref_id=%u,state=%s,depth=%u)", sep, off, it->ref_obj_id,
                         it->off == ITER_ACTIVE ? "active" : "drained", it->range);
            sep = " ";
            continue;
        }
        bool any = false;
        char text[9];
        for (int i = 0; i < 8; i++) {
            any |= bytes[i] != STACK_INVALID;
            text[7 - i] = bytes[i] == STACK_MISC ? 'm' : '?';
        }
        text[8] = '\0';
        if (any) {
            ebpfvm__vlog(env, "%sfp%d=%s", sep, off, text);
            sep = " ";
        }
    }
    for (uint32_t i = 0; i < st->nrefs; i++)
        ebpfvm__vlog(env, "%srefs=%u", i ? "," : " ", st->refs[i]);
    ebpfvm__vlog(env, "\n");
}

static const char *helper_name(void *ud, int32_t id)
{
    struct ebpfvm_vm *vm = ud;
    if (id <= 0 || id > EBPFVM_MAX_HELPER_ID || !vm->helpers || !vm->helpers[id].fn)
        return NULL;
    return vm->helpers[id].name;
}

void ebpfvm__vlog_insn(struct venv *env, uint32_t pc)
{
    if (!env->log.level)
        return;
    char text[160];
    if (ebpfvm_disasm_insn(env->insns, env->count, pc, EBPFVM_SYNTAX_LLVM, helper_name, env->vm, text, sizeof text) <
        0)
        snprintf(text, sizeof text, "?");
    ebpfvm__vlog(env, "%u: (%02x) %s\n", pc, env->insns[pc].opcode, text);
}
