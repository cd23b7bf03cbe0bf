/*
 * vm/helpers_std.c - the standard helpers that are not about maps or the
 * XDP frame, and ebpfvm_vm_register_std_helpers: ktime_get_ns (5),
 * jiffies64 (118), loop (181),
 * trace_printk (6), get_prandom_u32 (7), get_smp_processor_id (8),
 * tail_call (12), perf_event_output (25), csum_diff (28), fib_lookup (69);
 * the registration also takes the tables of maps/helpers.c, vm/helpers_xdp.c,
 * vm/skb.c and vm/helpers_str.c (strtol (105), strtoul (106)).
 *
 * Invariants:
 *   - results are the kernel's (6.12, net/core/filter.c, kernel/bpf/helpers.c,
 *     kernel/trace/bpf_trace.c) where a program can observe them: negative
 *     Linux errno values for the failures it can handle;
 *   - in checked mode every pointer a program passes is checked with
 *     ebpfvm__env_check_access before it is touched; a bad one stops the run
 *     with "<helper>: rN 0x...: <reason>";
 *   - registration is all or nothing (ebpfvm__register_helper_table);
 *   - the options of the registration (callbacks, the route table) live in
 *     one block, vm->std_state, owned by the vm (see std_state_alloc).
 *
 * bpf_tail_call does not jump by itself: it records the target in the env
 * and stops the run the way a fault does (env->faulted with
 * env->tail_target set); the run driver (ebpfvm__run_chain, vm/interp.c)
 * then starts the target with the same ctx and a fresh stack. Like the
 * kernel it allows EBPFVM_MAX_TAIL_CALLS (33) per run, counting attempts
 * that reach an empty slot, and failed calls return to the program. A tail
 * call from a bpf-to-bpf subprogram (the kernel unwinds only the subprogram's
 * frame) is not supported: it faults.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ebpfvm/xdp.h"
#include "maps/map.h"
#include "vm/helper_args.h"

enum {
    LINUX_ENOENT = 2,
    LINUX_E2BIG = 7,
    LINUX_EFAULT = 14,
    LINUX_ENODEV = 19,
    LINUX_EINVAL = 22,
    LINUX_EAFNOSUPPORT = 97
};

#define NEG_ERRNO(e) ((uint64_t)(int64_t)-(e))

/* vm/helpers_str.c */
EBPFVM_INTERNAL extern const struct ebpfvm__helper_def ebpfvm__str_helpers[];
EBPFVM_INTERNAL extern const size_t ebpfvm__str_nhelpers;

/* ------------------------------------------------------ the options block */

struct ebpfvm__std_state {
    ebpfvm_trace_fn trace;
    void *trace_ud;
    ebpfvm_perf_fn perf;
    void *perf_ud;
    size_t nroutes;
    struct ebpfvm_fib_route routes[];
};

/* ----------------------------------------------------------- time, random */

static uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    if (env->ktime_ns)
        return env->ktime_ns;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* bpf_jiffies64: the kernel's tick counter. ebpfvm counts ticks of
 * EBPFVM_JIFFIES_HZ (250, Debian's CONFIG_HZ) on the same clock as
 * ktime_get_ns (the run's fixed ktime_ns when it has one), from 0 rather
 * than the kernel's INITIAL_JIFFIES: programs may only compare or subtract
 * jiffies. */
#define EBPFVM_JIFFIES_HZ 250u

static uint64_t helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    uint64_t ns = helper_ktime_get_ns(r1, r2, r3, r4, r5, env);
    return ns / (1000000000u / EBPFVM_JIFFIES_HZ);
}

/* ----------------------------------------------------------------- bpf_loop */

/* The kernel's BPF_MAX_LOOPS: bpf_loop's largest count. */
#define EBPFVM_MAX_LOOPS (8u * 1024 * 1024)

/* bpf_loop(nr_loops, callback, ctx, flags): callback(i, ctx) for i from 0
 * while it returns 0, at most nr_loops (a u32) times; the number of calls
 * made, -E2BIG above BPF_MAX_LOOPS, -EINVAL for non-zero flags (the
 * kernel's kernel/bpf/bpf_iter.c). The callback runs in the interpreter
 * as a call from the helper's frame (env->call_fn, vm/interp.c). */
static uint64_t helper_loop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r5;
    uint32_t nr = (uint32_t)r1;
    if (r4)
        return (uint64_t)(int64_t)-22; /* -EINVAL */
    if (nr > EBPFVM_MAX_LOOPS)
        return (uint64_t)(int64_t)-7; /* -E2BIG */
    if (!env->call_fn) {
        ebpfvm__env_faultf(env, "loop: callbacks need the interpreter");
        return 0;
    }
    uint32_t i;
    for (i = 0; i < nr; i++) {
        const uint64_t args[5] = {i, r3, 0, 0, 0};
        uint64_t ret = 0;
        if (env->call_fn(env, r2, args, &ret))
            return 0; /* the callback faulted: the run ends with its fault */
        if (ret)
            return (uint64_t)i + 1;
    }
    return i;
}

/* splitmix64: one step of the sequence from *state. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t helper_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    if (env->prandom_seeded)
        return (uint32_t)(splitmix64(&env->prandom_state) >> 32);
    /* Unseeded: one generator per thread, seeded once from the clock and
     * the thread's own address. */
    static _Thread_local uint64_t thread_state;
    static _Thread_local bool thread_seeded;
    if (!thread_seeded) {
        struct timespec ts = {0, 0};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        thread_state = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        thread_state ^= (uint64_t)(uintptr_t)&thread_state;
        thread_seeded = true;
    }
    return (uint32_t)(splitmix64(&thread_state) >> 32);
}

static uint64_t helper_get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                            ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    return env->cpu;
}

/* ------------------------------------------------------------ trace_printk */

enum { TRACE_MAX_ARGS = 3, TRACE_BUF = 1024 /* MAX_BPRINTF_BUF */ };

/* Copy the NUL-terminated string at ptr into buf (at most size - 1 bytes).
 * Like the kernel's nofault copy: an unreadable string (checked mode) or
 * NULL prints as "". */
static void trace_string(const ebpfvm_env *env, uint64_t ptr, char *buf, size_t size)
{
    size_t n = 0;
    if (ptr != 0) {
        for (; n + 1 < size; n++) {
            if (env->checked && !ebpfvm__env_check_access(env, (uintptr_t)(ptr + n), 1, false)) {
                n = 0;
                break;
            }
            char c = *(const char *)(uintptr_t)(ptr + n);
            if (c == '\0')
                break;
            buf[n] = c;
        }
    }
    buf[n] = '\0';
}

static bool is_print_or_space(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r');
}

/* Output under construction: bytes kept (up to size - 1) and the length
 * vsnprintf would report. */
struct trace_out {
    char *buf;
    size_t size, used, total;
};

static void out_char(struct trace_out *o, char c)
{
    if (o->used + 1 < o->size)
        o->buf[o->used++] = c;
    o->total++;
}

/* One converted field: prefix (sign or "0x") and body, padded to width
 * with spaces (left or right) or zeros between prefix and body. */
static void out_field(struct trace_out *o, const char *prefix, const char *body, size_t body_len, unsigned width,
                      bool left, bool zero)
{
    size_t len = strlen(prefix) + body_len;
    size_t pad = width > len ? width - len : 0;
    if (!left && !zero)
        for (size_t k = 0; k < pad; k++)
            out_char(o, ' ');
    for (const char *p = prefix; *p; p++)
        out_char(o, *p);
    if (!left && zero)
        for (size_t k = 0; k < pad; k++)
            out_char(o, '0');
    for (size_t k = 0; k < body_len; k++)
        out_char(o, body[k]);
    if (left)
        for (size_t k = 0; k < pad; k++)
            out_char(o, ' ');
}

/* The digits of v in base 10 or 16 into buf (no terminator); returns the count. */
static size_t format_digits(uint64_t v, unsigned base, bool upper, char buf[24])
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (size_t k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    return n;
}

/*
 * Format fmt (NUL-terminated) with the kernel's bpf_bprintf_prepare rules:
 * conversions %d %i %u %x %X with an optional l/ll, %p %pK %px, %s %pks
 * %pus, %c and %%, each optionally after flags "0+- " and a width; at most three
 * arguments; only printable ASCII and whitespace. Returns the length
 * vsnprintf would produce, or -EINVAL.
 */
static int64_t trace_format(const ebpfvm_env *env, const char *fmt, const uint64_t args[TRACE_MAX_ARGS], char *out,
                            size_t out_size)
{
    struct trace_out o = {out, out_size, 0, 0};
    int nargs = 0;
    for (size_t i = 0; fmt[i];) {
        unsigned char c = (unsigned char)fmt[i];
        if (!is_print_or_space(c))
            return -LINUX_EINVAL;
        if (c != '%') {
            out_char(&o, (char)c);
            i++;
            continue;
        }
        if (fmt[i + 1] == '%') {
            out_char(&o, '%');
            i += 2;
            continue;
        }
        if (nargs == TRACE_MAX_ARGS)
            return -LINUX_EINVAL;
        i++;
        bool left = false, zero = false, plus = false, space = false;
        for (;; i++) {
            if (fmt[i] == '-')
                left = true;
            else if (fmt[i] == '0')
                zero = true;
            else if (fmt[i] == '+')
                plus = true;
            else if (fmt[i] == ' ')
                space = true;
            else
                break;
        }
        unsigned width = 0;
        if (fmt[i] >= '1' && fmt[i] <= '9')
            while (fmt[i] >= '0' && fmt[i] <= '9') {
                if (width < TRACE_BUF)
                    width = width * 10 + (unsigned)(fmt[i] - '0');
                i++;
            }
        uint64_t arg = args[nargs++];
        char digits[24];
        char conv = fmt[i];
        if (conv == 'p') {
            /* %p, %pK, %px: 16 hex digits (the kernel hashes plain %p and
             * may print %pK as zeros: same length, not the same digits);
             * %pks and %pus: a string. %pB, %pi4, %pI6, ... are refused. */
            char next = fmt[i + 1];
            if ((next == 'k' || next == 'u') && fmt[i + 2] == 's') {
                char str[TRACE_BUF];
                trace_string(env, arg, str, sizeof str);
                out_field(&o, "", str, strlen(str), width, left, false);
                i += 3;
                continue;
            }
            if (next == 'K' || next == 'x')
                i++;
            else if ((next >= '0' && next <= '9') || (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'))
                return -LINUX_EINVAL;
            size_t n = format_digits(arg, 16, false, digits);
            char padded[16];
            memset(padded, '0', sizeof padded);
            memcpy(padded + sizeof padded - n, digits, n);
            out_field(&o, "", padded, sizeof padded, width, left, zero);
            i++;
            continue;
        }
        if (conv == 's') {
            char str[TRACE_BUF];
            trace_string(env, arg, str, sizeof str);
            out_field(&o, "", str, strlen(str), width, left, false);
            i++;
            continue;
        }
        if (conv == 'c') {
            char ch = (char)(unsigned char)arg;
            out_field(&o, "", &ch, 1, width, left, false);
            i++;
            continue;
        }
        int longs = 0;
        while (fmt[i] == 'l' && longs < 2) {
            longs++;
            i++;
        }
        conv = fmt[i];
        if (conv != 'd' && conv != 'i' && conv != 'u' && conv != 'x' && conv != 'X')
            return -LINUX_EINVAL;
        i++;
        uint64_t v = longs == 0 ? (uint32_t)arg : arg;
        const char *prefix = "";
        if (conv == 'd' || conv == 'i') {
            int64_t sv = longs == 0 ? (int64_t)(int32_t)(uint32_t)arg : (int64_t)arg;
            if (sv < 0) {
                prefix = "-";
                v = 0 - (uint64_t)sv;
            } else {
                v = (uint64_t)sv;
                prefix = plus ? "+" : space ? " " : "";
            }
        }
        unsigned base = conv == 'x' || conv == 'X' ? 16 : 10;
        size_t n = format_digits(v, base, conv == 'X', digits);
        out_field(&o, prefix, digits, n, width, left, zero);
    }
    out[o.used] = '\0';
    return (int64_t)o.total;
}

static uint64_t helper_trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    ebpfvm_env *env)
{
    static const char name[] = "trace_printk";
    if (!ebpfvm__helper_arg_mem(env, r1, r2, false, name, 1))
        return 0;
    const char *fmt = (const char *)(uintptr_t)r1;
    if (r2 == 0 || !fmt || !memchr(fmt, '\0', (size_t)r2))
        return NEG_ERRNO(LINUX_EINVAL);
    const uint64_t args[TRACE_MAX_ARGS] = {r3, r4, r5};
    char out[TRACE_BUF];
    int64_t n = trace_format(env, fmt, args, out, sizeof out);
    if (n < 0)
        return (uint64_t)n;
    const struct ebpfvm__std_state *st = env->prog->vm->std_state;
    if (st && st->trace) {
        size_t len = strlen(out);
        if (len && out[len - 1] == '\n')
            out[len - 1] = '\0';
        st->trace(st->trace_ud, out);
    }
    return (uint64_t)n;
}

/* --------------------------------------------------------------- csum_diff */

/*
 * x86-64's csum_partial(buf, len, seed): a one's-complement sum over 64-bit
 * words with end-around carries, folded to 32 bits. Modulo 0xffffffff that
 * is the seed plus the buffer's 32-bit little-endian words (the tail padded
 * with zeros), and the representative it returns is 0 only when the seed
 * and every byte are 0, otherwise the value in [1, 0xffffffff].
 */
static uint32_t csum_partial32(const uint8_t *buf, uint64_t len, uint32_t seed)
{
    uint64_t sum = seed; /* < 2^32 (len / 4 + 1): no overflow for any real length */
    for (uint64_t i = 0; i < len; i += 4) {
        uint8_t w[4] = {0, 0, 0, 0};
        memcpy(w, buf + i, len - i < 4 ? (size_t)(len - i) : 4);
        sum += (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
    }
    return sum == 0 ? 0 : (uint32_t)((sum - 1) % 0xffffffffull + 1);
}

/* The kernel's csum_add / csum_sub on __wsum (32-bit end-around carry). */
static uint32_t csum_add32(uint32_t a, uint32_t b)
{
    uint32_t r = a + b;
    return r + (r < b);
}

/* csum_from32to16: fold to 16 bits without complementing. */
static uint16_t csum_from32to16(uint32_t sum)
{
    sum += (sum >> 16) | (sum << 16);
    return (uint16_t)(sum >> 16);
}

/*
 * bpf_csum_diff(from, from_size, to, to_size, seed) as Linux computes it
 * since 6.13 (and on the 6.18 oracle): no size limits, and the result folded
 * to 16 bits so it is the same on every architecture:
 *   both sizes:  csum_sub(csum_partial(to, seed), csum_partial(from, 0))
 *   to only:     csum_partial(to, seed)
 *   from only:   ~csum_partial(from, ~seed)
 *   neither:     seed
 * then csum_from32to16. (Older kernels returned the 32-bit sum and refused
 * sizes not a multiple of 4 or above 512 bytes with -EINVAL.)
 */
static uint64_t helper_csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 ebpfvm_env *env)
{
    static const char name[] = "csum_diff";
    uint32_t from_size = (uint32_t)r2, to_size = (uint32_t)r4, seed = (uint32_t)r5;
    if (!ebpfvm__helper_arg_mem(env, r1, from_size, false, name, 1) || !ebpfvm__helper_arg_mem(env, r3, to_size, false, name, 3))
        return 0;
    const uint8_t *from = (const uint8_t *)(uintptr_t)r1, *to = (const uint8_t *)(uintptr_t)r3;
    uint32_t ret = seed;
    if (from_size && to_size)
        ret = csum_add32(csum_partial32(to, to_size, seed), ~csum_partial32(from, from_size, 0));
    else if (to_size)
        ret = csum_partial32(to, to_size, seed);
    else if (from_size)
        ret = ~csum_partial32(from, from_size, ~seed);
    return csum_from32to16(ret);
}

/* ------------------------------------------------------- perf_event_output */

#define PERF_F_INDEX_MASK 0xffffffffull
#define PERF_F_CURRENT_CPU 0xffffffffull
#define PERF_F_CTXLEN_MASK (0xfffffull << 32)

/*
 * bpf_perf_event_output(ctx, map, flags, data, size) for XDP (the kernel's
 * bpf_xdp_event_output): flags hold the index (BPF_F_CURRENT_CPU: the run's
 * cpu) and, in BPF_F_CTXLEN_MASK, a number of packet bytes appended to the
 * sample. The slot must have been opened (a value stored in it: the
 * kernel's perf event fd), else -ENOENT. The sample goes to the perf
 * callback of the registration. ebpfvm's own limit: at most 512 bytes of
 * program data (-E2BIG above).
 */
static uint64_t helper_perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                         ebpfvm_env *env)
{
    (void)r1; /* the context: the run's, env->ctx */
    static const char name[] = "perf_event_output";
    struct ebpfvm_map *map = ebpfvm__helper_arg_map(env, r2, 2, name);
    if (!map)
        return 0;
    if (map->type != EBPFVM_MAP_PERF_EVENT_ARRAY) {
        ebpfvm__env_faultf(env, "%s: r2 is a %s map, not a perf_event_array", name, map->type_name);
        return 0;
    }
    if (!ebpfvm__helper_arg_mem(env, r4, r5, false, name, 4))
        return 0;
    if (r3 & ~(PERF_F_CTXLEN_MASK | PERF_F_INDEX_MASK))
        return NEG_ERRNO(LINUX_EINVAL);
    uint64_t ctx_len = (r3 & PERF_F_CTXLEN_MASK) >> 32;
    const struct ebpfvm_xdp_buff *buff = NULL;
    if (ctx_len) {
        if (env->prog->prog_type != EBPFVM_PROG_TYPE_XDP || !env->ctx)
            return NEG_ERRNO(LINUX_EFAULT);
        buff = env->ctx;
        if (ctx_len > buff->data_end - buff->data)
            return NEG_ERRNO(LINUX_EFAULT);
    }
    uint64_t index = r3 & PERF_F_INDEX_MASK;
    if (index == PERF_F_CURRENT_CPU)
        index = env->cpu;
    if (index >= map->max_entries)
        return NEG_ERRNO(LINUX_E2BIG);
    uint32_t key = (uint32_t)index, opened;
    if (map->ops->lookup_copy(map, &key, &opened) != 0)
        return NEG_ERRNO(LINUX_ENOENT); /* no perf event in the slot */
    if (r5 > EBPF_STACK_SIZE) /* ebpfvm's limit: the sample is assembled on the host stack */
        return NEG_ERRNO(LINUX_E2BIG);
    const struct ebpfvm__std_state *st = env->prog->vm->std_state;
    if (!st || !st->perf)
        return 0;
    uint8_t sample[EBPF_STACK_SIZE + EBPFVM_XDP_MAX_PACKET];
    if (r5)
        memcpy(sample, (const void *)(uintptr_t)r4, (size_t)r5);
    size_t total = (size_t)r5;
    if (ctx_len && ctx_len <= EBPFVM_XDP_MAX_PACKET) {
        memcpy(sample + total, (const void *)(uintptr_t)buff->data, (size_t)ctx_len);
        total += (size_t)ctx_len;
    }
    st->perf(st->perf_ud, map->fd, (uint32_t)index, sample, total);
    return 0;
}

/* ---------------------------------------------------------------- tail_call */

static uint64_t helper_tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 ebpfvm_env *env)
{
    (void)r1, (void)r4, (void)r5;
    static const char name[] = "tail_call";
    struct ebpfvm_map *map = ebpfvm__helper_arg_map(env, r2, 2, name);
    if (!map)
        return 0;
    if (map->type != EBPFVM_MAP_PROG_ARRAY) {
        ebpfvm__env_faultf(env, "%s: r2 is a %s map, not a prog_array", name, map->type_name);
        return 0;
    }
    if (env->pc >= env->prog->main_end) {
        ebpfvm__env_faultf(env, "%s: called from a bpf-to-bpf subprogram (insn %u), which ebpfvm does not support",
                           name, env->pc);
        return 0;
    }
    /* The kernel's order: the index, then the count (which an empty slot
     * consumes too), then the slot. Failures continue after the call. */
    uint32_t index = (uint32_t)r3;
    if (index >= map->max_entries)
        return NEG_ERRNO(LINUX_EINVAL);
    if (env->tail_calls >= EBPFVM_MAX_TAIL_CALLS)
        return NEG_ERRNO(LINUX_E2BIG);
    env->tail_calls++;
    const struct ebpfvm_prog *target = ebpfvm__prog_array_get(map, index);
    if (!target)
        return NEG_ERRNO(LINUX_ENOENT);
    if (target->prog_type != env->prog->prog_type) {
        ebpfvm__env_faultf(env, "%s: the program at index %u has another program type", name, index);
        return 0;
    }
    env->tail_target = target;
    ebpfvm_env_fault(env, "tail call"); /* stops the run; the driver starts the target */
    return 0;
}

/* --------------------------------------------------------------- fib_lookup */

/* struct bpf_fib_lookup (linux/bpf.h), the fields ebpfvm reads and writes. */
struct fib_params {
    uint8_t family;
    uint8_t l4_protocol;
    uint16_t sport;
    uint16_t dport;
    uint16_t tot_len; /* in: packet length; out (union): mtu_result */
    uint32_t ifindex; /* in: ingress; out: egress */
    uint32_t tos_flowinfo_metric;
    uint32_t src[4];  /* ipv4_src / ipv6_src */
    uint32_t dst[4];  /* ipv4_dst / ipv6_dst */
    uint16_t h_vlan_proto;
    uint16_t h_vlan_TCI;
    uint8_t smac[6];
    uint8_t dmac[6];
};
_Static_assert(sizeof(struct fib_params) == 64, "struct bpf_fib_lookup is 64 bytes");
_Static_assert(offsetof(struct fib_params, ifindex) == 8 && offsetof(struct fib_params, dst) == 32 &&
                   offsetof(struct fib_params, smac) == 52 && offsetof(struct fib_params, dmac) == 58,
               "struct bpf_fib_lookup layout");

enum {
    FIB_AF_INET = 2,
    FIB_AF_INET6 = 10,
    FIB_RET_SUCCESS = 0,
    FIB_RET_NOT_FWDED = 4,
    FIB_RET_FRAG_NEEDED = 8,
    /* BPF_FIB_LOOKUP_DIRECT, OUTPUT, SKIP_NEIGH, TBID, SRC, MARK */
    FIB_FLAGS_KNOWN = 0x3f
};

/* Whether the first bits of addr match the route's prefix. */
static bool prefix_match(const uint8_t *addr, const struct ebpfvm_fib_route *route)
{
    unsigned bits = route->prefixlen;
    unsigned bytes = bits / 8;
    if (memcmp(addr, route->dst, bytes) != 0)
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[bytes] & mask) == (route->dst[bytes] & mask);
}

/*
 * bpf_fib_lookup(ctx, params, plen, flags), as the kernel's
 * bpf_xdp_fib_lookup over a static table: the longest matching prefix of
 * the family wins; on a hit the egress ifindex, smac and dmac are filled,
 * a gateway replaces the destination address (as the kernel does), and the
 * result is BPF_FIB_LKUP_RET_SUCCESS (0). No route: BPF_FIB_LKUP_RET_NOT_FWDED
 * (4). tot_len larger than the route's MTU (default 1500):
 * BPF_FIB_LKUP_RET_FRAG_NEEDED (8) with mtu_result. Supported: IPv4 and IPv6
 * with the flags accepted (DIRECT, OUTPUT, SKIP_NEIGH, TBID, SRC, MARK are
 * accepted and ignored: one table, every neighbour known, no source
 * selection). Not modelled: forwarding disabled, ingress device existence,
 * blackhole/unreachable/prohibit routes. Errors: -EINVAL (plen < 64,
 * unknown flags), -EAFNOSUPPORT (another family).
 */
static uint64_t helper_fib_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                  ebpfvm_env *env)
{
    (void)r1, (void)r5;
    static const char name[] = "fib_lookup";
    if (r3 < sizeof(struct fib_params) || r3 > UINT32_MAX)
        return NEG_ERRNO(LINUX_EINVAL);
    if (r4 & ~(uint64_t)FIB_FLAGS_KNOWN)
        return NEG_ERRNO(LINUX_EINVAL);
    if (!ebpfvm__helper_arg_mem(env, r2, r3, true, name, 2))
        return 0;
    struct fib_params params;
    memcpy(&params, (const void *)(uintptr_t)r2, sizeof params);
    size_t addr_len;
    if (params.family == FIB_AF_INET)
        addr_len = 4;
    else if (params.family == FIB_AF_INET6)
        addr_len = 16;
    else
        return NEG_ERRNO(LINUX_EAFNOSUPPORT);

    const struct ebpfvm__std_state *st = env->prog->vm->std_state;
    const struct ebpfvm_fib_route *best = NULL;
    uint8_t dst[16];
    memcpy(dst, params.dst, addr_len);
    for (size_t i = 0; st && i < st->nroutes; i++) {
        const struct ebpfvm_fib_route *route = &st->routes[i];
        if (route->family != params.family || route->prefixlen > 8 * addr_len)
            continue;
        if (prefix_match(dst, route) && (!best || route->prefixlen > best->prefixlen))
            best = route;
    }
    if (!best)
        return FIB_RET_NOT_FWDED;
    uint16_t mtu = best->mtu ? best->mtu : 1500;
    if (params.tot_len > mtu) {
        params.tot_len = mtu; /* mtu_result */
        memcpy((void *)(uintptr_t)r2, &params, sizeof params);
        return FIB_RET_FRAG_NEEDED;
    }
    static const uint8_t zero[16];
    if (memcmp(best->gateway, zero, addr_len) != 0)
        memcpy(params.dst, best->gateway, addr_len);
    params.ifindex = best->ifindex;
    memcpy(params.smac, best->smac, 6);
    memcpy(params.dmac, best->dmac, 6);
    params.h_vlan_proto = 0;
    params.h_vlan_TCI = 0;
    params.tot_len = mtu; /* mtu_result */
    memcpy((void *)(uintptr_t)r2, &params, sizeof params);
    return FIB_RET_SUCCESS;
}

/* ------------------------------------------------------------ registration */

static const struct ebpfvm__helper_def std_helpers[] = {
    {EBPF_HELPER_ktime_get_ns, "ktime_get_ns", helper_ktime_get_ns, {EBPFVM_RET_INTEGER, {EBPFVM_ARG_NONE}, 0}},
    {EBPF_HELPER_jiffies64, "jiffies64", helper_jiffies64, {EBPFVM_RET_INTEGER, {EBPFVM_ARG_NONE}, 0}},
    {EBPF_HELPER_loop, "loop", helper_loop,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_ANYTHING, EBPFVM_ARG_PTR_TO_FUNC, EBPFVM_ARG_PTR_TO_STACK_OR_NULL,
                           EBPFVM_ARG_ANYTHING},
      0}},
    {EBPF_HELPER_trace_printk, "trace_printk", helper_trace_printk,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_ANYTHING,
                           EBPFVM_ARG_ANYTHING},
      0}},
    {EBPF_HELPER_get_prandom_u32, "get_prandom_u32", helper_get_prandom_u32,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_NONE}, 0}},
    {EBPF_HELPER_get_smp_processor_id, "get_smp_processor_id", helper_get_smp_processor_id,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_NONE}, 0}},
    {EBPF_HELPER_tail_call, "tail_call", helper_tail_call,
     {EBPFVM_RET_VOID, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_ANYTHING}, 0}},
    {EBPF_HELPER_perf_event_output, "perf_event_output", helper_perf_event_output,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_ANYTHING,
                           EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE_OR_ZERO},
      0}},
    {EBPF_HELPER_csum_diff, "csum_diff", helper_csum_diff,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_MEM_OR_NULL, EBPFVM_ARG_CONST_SIZE_OR_ZERO,
                           EBPFVM_ARG_PTR_TO_MEM_OR_NULL, EBPFVM_ARG_CONST_SIZE_OR_ZERO, EBPFVM_ARG_ANYTHING},
      EBPFVM_HELPER_PKT_ACCESS}},
    {EBPF_HELPER_fib_lookup, "fib_lookup", helper_fib_lookup,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_PTR_TO_CTX, EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE, EBPFVM_ARG_ANYTHING},
      0}},
};

/* Remove helper id (registered by this file's caller moments ago). */
static void unregister(struct ebpfvm_vm *vm, uint32_t id)
{
    struct ebpfvm_helper *h = &vm->helpers[id];
    ebpfvm__free(vm, h->name);
    memset(h, 0, sizeof *h);
}

int ebpfvm__register_helper_table(struct ebpfvm_vm *vm, const struct ebpfvm__helper_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int err = ebpfvm_vm_register_helper(vm, defs[i].id, defs[i].name, defs[i].fn, &defs[i].proto);
        if (err) {
            while (i-- > 0)
                unregister(vm, defs[i].id);
            return err;
        }
    }
    return EBPFVM_OK;
}

/*
 * The options block. The vm frees every helper's name block when it is
 * destroyed (vm/core.c), so the block is allocated as the name of the
 * trace_printk helper: "trace_printk\0", padded, then the state. This keeps
 * its lifetime exactly the registration's without a hook in core.c.
 */
enum { STATE_NAME_BYTES = 16 };
_Static_assert(sizeof "trace_printk" <= STATE_NAME_BYTES, "name fits before the state");

static char *std_state_alloc(struct ebpfvm_vm *vm, const struct ebpfvm_helper_opts *o,
                             struct ebpfvm__std_state **state)
{
    size_t nroutes = o->routes ? o->nroutes : 0;
    if (nroutes > (SIZE_MAX - 64 - sizeof(struct ebpfvm__std_state)) / sizeof(struct ebpfvm_fib_route))
        return NULL;
    size_t head = (STATE_NAME_BYTES + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t);
    size_t size = head + sizeof(struct ebpfvm__std_state) + nroutes * sizeof(struct ebpfvm_fib_route);
    char *block = ebpfvm__calloc(vm, 1, size);
    if (!block)
        return NULL;
    memcpy(block, "trace_printk", sizeof "trace_printk");
    struct ebpfvm__std_state *st = (struct ebpfvm__std_state *)(void *)(block + head);
    st->trace = o->trace;
    st->trace_ud = o->trace_ud;
    st->perf = o->perf;
    st->perf_ud = o->perf_ud;
    st->nroutes = nroutes;
    if (nroutes)
        memcpy(st->routes, o->routes, nroutes * sizeof *o->routes);
    *state = st;
    return block;
}

int ebpfvm_vm_register_std_helpers(ebpfvm_vm *vm, const struct ebpfvm_helper_opts *opts)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (opts && opts->sz < sizeof(size_t))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "register std helpers: opts->sz is %zu", opts->sz);
    struct ebpfvm_helper_opts o = {0};
    if (opts) {
        size_t n = opts->sz < sizeof o ? opts->sz : sizeof o;
        memcpy(&o, opts, n);
    }
    if (o.nroutes && !o.routes)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "register std helpers: %zu routes but routes is NULL", o.nroutes);

    struct {
        const struct ebpfvm__helper_def *defs;
        size_t n;
    } tables[] = {
        {ebpfvm__map_helpers, ebpfvm__map_nhelpers},
        {std_helpers, sizeof std_helpers / sizeof std_helpers[0]},
        {ebpfvm__xdp_helpers, ebpfvm__xdp_nhelpers},
        {ebpfvm__skb_helpers, ebpfvm__skb_nhelpers},
        {ebpfvm__str_helpers, ebpfvm__str_nhelpers},
    };
    size_t ntables = sizeof tables / sizeof tables[0];
    int err = 0;
    size_t done = 0;
    for (; done < ntables; done++) {
        err = ebpfvm__register_helper_table(vm, tables[done].defs, tables[done].n);
        if (err)
            break;
    }
    if (!err) {
        struct ebpfvm__std_state *st;
        char *block = std_state_alloc(vm, &o, &st);
        if (!block) {
            err = ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "register std helpers: out of memory");
        } else {
            struct ebpfvm_helper *h = &vm->helpers[EBPF_HELPER_trace_printk];
            ebpfvm__free(vm, h->name);
            h->name = block;
            vm->std_state = st;
            return EBPFVM_OK;
        }
    }
    while (done-- > 0)
        for (size_t i = 0; i < tables[done].n; i++)
            unregister(vm, tables[done].defs[i].id);
    return err;
}
