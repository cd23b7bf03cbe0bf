/*
 * vm/helpers_str.c - the string helpers: strtol (105) and strtoul (106),
 * registered by ebpfvm_vm_register_std_helpers (vm/helpers_std.c) from
 * ebpfvm__str_helpers.
 *
 * bpf_strtol(buf, buf_len, flags, res) and bpf_strtoul(...) as Linux 6.12
 * computes them (kernel/bpf/helpers.c __bpf_strtoull, lib/kstrtox.c):
 *   - flags: the base in the low 5 bits, 0 (detect), 8, 10 or 16; any
 *     other base or any other bit set: -EINVAL;
 *   - leading whitespace (the kernel's isspace: \t \n \v \f \r, space and
 *     0xa0), then one optional '-' (strtoul refuses it afterwards with
 *     -EINVAL, "-0" included; there is no '+');
 *   - base 0: "0x" followed by a hex digit means 16, a leading '0' 8,
 *     anything else 10; base 16 skips a "0x"/"0X" prefix (even with no
 *     digit after it: then -EINVAL);
 *   - at most 63 characters after the whitespace and sign are looked at
 *     (the kernel's 64-byte copy); a NUL ends the digits like any other
 *     non-digit;
 *   - returns the number of characters consumed (whitespace, sign and
 *     prefix included); -EINVAL when buf_len is 0, the buffer holds only
 *     whitespace (and a sign) or no digit follows; -ERANGE when the value
 *     overflows 64 bits (or, for strtol, the signed range).
 * *res (8 bytes) is set to 0 first and to the value on success, as the
 * kernel does since 6.12 ("Zero former ARG_PTR_TO_{LONG,INT} args in case
 * of error"). The result is always 64-bit (s64 / u64), as on 64-bit hosts.
 *
 * In checked mode both pointers are checked before they are touched:
 * [buf, buf + buf_len) readable (when buf_len > 0) and [res, res + 8)
 * writable; a bad one stops the run with
 * "<helper>: rN 0x...: is not readable|writable memory for N bytes".
 */
#include <string.h>

#include "vm/helper_args.h"

EBPFVM_INTERNAL extern const struct ebpfvm__helper_def ebpfvm__str_helpers[];
EBPFVM_INTERNAL extern const size_t ebpfvm__str_nhelpers;

enum { LINUX_EINVAL = 22, LINUX_ERANGE = 34 };

#define STRTOX_BASE_MASK 0x1fu
#define STRTOX_MAX_CHARS 63 /* sizeof(str) - 1 in __bpf_strtoull */

/* The kernel's isspace (lib/ctype.c: 0xa0, NBSP, is a space too). */
static bool k_isspace(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static bool k_isxdigit(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char k_tolower(unsigned char c)
{
    return (unsigned char)(c | 0x20);
}

/* The digits at s (NUL-terminated) in base: *value, and their count, or -1
 * on overflow (lib/kstrtox.c _parse_integer: the overflow is noted and the
 * digits still counted). */
static int parse_digits(const char *s, unsigned base, uint64_t *value)
{
    uint64_t res = 0;
    int count = 0;
    bool overflow = false;
    for (;; s++, count++) {
        unsigned char c = (unsigned char)*s;
        unsigned val;
        if (c >= '0' && c <= '9')
            val = c - '0';
        else if (k_tolower(c) >= 'a' && k_tolower(c) <= 'f')
            val = k_tolower(c) - 'a' + 10u;
        else
            break;
        if (val >= base)
            break;
        if ((res & (~0ull << 60)) && res > (UINT64_MAX - val) / base)
            overflow = true;
        res = res * base + val;
    }
    *value = res;
    return overflow ? -1 : count;
}

/* __bpf_strtoull: the characters consumed, or a negative errno. */
static int64_t strtoull_common(const char *buf, uint64_t buf_len, uint64_t flags, uint64_t *value, bool *negative)
{
    unsigned base = (unsigned)(flags & STRTOX_BASE_MASK);
    if (!buf || buf_len == 0)
        return -LINUX_EINVAL;
    if (base != 0 && base != 8 && base != 10 && base != 16)
        return -LINUX_EINVAL;
    if (flags & ~(uint64_t)STRTOX_BASE_MASK)
        return -LINUX_EINVAL;
    uint64_t i = 0;
    while (i < buf_len && k_isspace((unsigned char)buf[i]))
        i++;
    *negative = i < buf_len && buf[i] == '-';
    if (*negative)
        i++;
    if (i == buf_len)
        return -LINUX_EINVAL;
    char str[STRTOX_MAX_CHARS + 1];
    size_t n = buf_len - i < STRTOX_MAX_CHARS ? (size_t)(buf_len - i) : STRTOX_MAX_CHARS;
    memcpy(str, buf + i, n);
    str[n] = '\0';
    /* _parse_integer_fixup_radix */
    const char *s = str;
    if (base == 0) {
        if (s[0] == '0')
            base = k_tolower((unsigned char)s[1]) == 'x' && k_isxdigit((unsigned char)s[2]) ? 16 : 8;
        else
            base = 10;
    }
    if (base == 16 && s[0] == '0' && k_tolower((unsigned char)s[1]) == 'x')
        s += 2;
    int digits = parse_digits(s, base, value);
    if (digits < 0)
        return -LINUX_ERANGE;
    if (digits == 0)
        return -LINUX_EINVAL;
    /* The kernel counts in an unsigned int and returns an int. */
    uint32_t consumed = (uint32_t)i + (uint32_t)(s - str) + (uint32_t)digits;
    return (int32_t)consumed;
}

static void store_res(uint64_t res_ptr, uint64_t value)
{
    memcpy((void *)(uintptr_t)res_ptr, &value, sizeof value);
}

/* bpf_strtol (is_signed) and bpf_strtoul: parse [r1, r1 + r2) with the
 * flags in r3, *(u64 *)r4 = the value (0 until it succeeds); return the
 * characters consumed or a negative errno. */
static uint64_t str_to_long(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, ebpfvm_env *env, bool is_signed)
{
    const char *name = is_signed ? "strtol" : "strtoul";
    if (!ebpfvm__helper_arg_mem(env, r1, r2, false, name, 1) || !ebpfvm__helper_arg_mem(env, r4, 8, true, name, 4))
        return 0;
    store_res(r4, 0);
    uint64_t value;
    bool negative;
    int64_t ret = strtoull_common((const char *)(uintptr_t)r1, r2, r3, &value, &negative);
    if (ret < 0)
        return (uint64_t)ret;
    if (!is_signed) {
        if (negative)
            return (uint64_t)(int64_t)-LINUX_EINVAL;
    } else if (negative) {
        if ((int64_t)(0 - value) > 0)
            return (uint64_t)(int64_t)-LINUX_ERANGE;
        value = 0 - value;
    } else if ((int64_t)value < 0) {
        return (uint64_t)(int64_t)-LINUX_ERANGE;
    }
    store_res(r4, value);
    return (uint64_t)ret;
}

static uint64_t helper_strtol(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r5;
    return str_to_long(r1, r2, r3, r4, env, true);
}

static uint64_t helper_strtoul(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r5;
    return str_to_long(r1, r2, r3, r4, env, false);
}

#define STRTOX_PROTO                                                                                               \
    {EBPFVM_RET_INTEGER,                                                                                           \
     {EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE, EBPFVM_ARG_ANYTHING, EBPFVM_ARG_PTR_TO_LONG},                    \
     0}

const struct ebpfvm__helper_def ebpfvm__str_helpers[] = {
    {EBPF_HELPER_strtol, "strtol", helper_strtol, STRTOX_PROTO},
    {EBPF_HELPER_strtoul, "strtoul", helper_strtoul, STRTOX_PROTO},
};
const size_t ebpfvm__str_nhelpers = sizeof ebpfvm__str_helpers / sizeof ebpfvm__str_helpers[0];
