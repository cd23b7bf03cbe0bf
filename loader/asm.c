/*
 * loader/asm.c - the text assembler: the conformance suite's mnemonic syntax
 * to instruction words (ebpfvm_assemble).
 *
 * Syntax, one instruction per line:
 *   mnemonic operands          mov %r0, 1     ldxw %r0, [%r1+4]    exit
 *   lock <atomic mnemonic>     lock fetch add32 [%r10-8], %r1
 *   label:                     a name ([A-Za-z_.][A-Za-z0-9_.]*) for the next
 *                              instruction; may precede one on the same line
 *   # comment                  to the end of the line
 * Numbers are decimal or 0x-hex, with an optional sign. Jump and call targets
 * are labels or +N/-N (relative to the next instruction, as in the encoding).
 * A jump to `exit` when no label `exit` exists goes to the program's last
 * instruction (the conformance files rely on it). Extensions beyond the
 * suite's syntax, read back from the disassembler's ASM output:
 * `call %rN` / `callx %rN` (dst_reg holds the register, RFC 9669),
 * `call local <target>` (src 1), `call kfunc <id>` (src 2, EBPFVM_KFUNC_*),
 * `may_goto <target>`, `swapNN` for `bswapNN`, and LD_IMM64 pseudo
 * loads `lddw %r1, map_fd N | map_idx N | map_value N, OFF |
 * map_idx_value N, OFF | func <target>`.
 *
 * Owns no opcode facts: a mnemonic is looked up in ebpfvm__forms[] (the
 * EBPF_INSN_FORMS table) and the form's operand format decides how operands
 * are read; discriminator fields (off of sdiv/movsx, imm of endian/atomic
 * forms) come from the table too.
 *
 * Invariants: every allocation goes through the vm's allocator and is freed
 * on every path except the result; errors are EBPFVM_ERR_FORMAT with the
 * vm message "line N: reason" (1-based line numbers).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "vm/internal.h"

#define ASM_MAX_LINE 512
#define ASM_MAX_NAME 64
#define ASM_MAX_MNEMONIC 32

/* A label definition: the word index it names. */
struct asm_label {
    char name[ASM_MAX_NAME];
    size_t index;
};

/* Where a label reference must be patched once all labels are known. */
enum asm_fix_kind {
    ASM_FIX_OFF, /* 16-bit off field (conditional jumps, ja) */
    ASM_FIX_IMM  /* 32-bit imm field (ja32, call local, lddw func) */
};

struct asm_fixup {
    char name[ASM_MAX_NAME];
    size_t index; /* the referring instruction */
    unsigned line;
    enum asm_fix_kind kind;
};

struct assembler {
    struct ebpfvm_vm *vm;
    struct ebpf_insn *insns;
    size_t count, insns_cap;
    struct asm_label *labels;
    size_t nlabels, labels_cap;
    struct asm_fixup *fixups;
    size_t nfixups, fixups_cap;
    size_t last_start; /* word index of the last instruction assembled */
    unsigned line;
    const char *p;     /* the operand cursor within the current line */
};

/* ------------------------------------------------------------ storage */

/* Grow *array (elements of elem bytes, capacity *cap) to hold need elements. */
static int grow(struct ebpfvm_vm *vm, void **array, size_t *cap, size_t elem, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 32;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / elem)
        return EBPFVM_ERR_NOMEM;
    void *fresh = ebpfvm__alloc(vm, ncap * elem);
    if (!fresh)
        return EBPFVM_ERR_NOMEM;
    if (*array) {
        memcpy(fresh, *array, *cap * elem);
        ebpfvm__free(vm, *array);
    }
    *array = fresh;
    *cap = ncap;
    return 0;
}

static int fail(struct assembler *as, const char *fmt, ...) EBPFVM_PRINTF(2, 3);

/* Record "line N: <message>" and return EBPFVM_ERR_FORMAT. */
static int fail(struct assembler *as, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ebpfvm__error(as->vm, EBPFVM_ERR_FORMAT, "line %u: %s", as->line, msg);
}

static int nomem(struct assembler *as)
{
    return ebpfvm__error(as->vm, EBPFVM_ERR_NOMEM, "line %u: out of memory", as->line);
}

/* Append one word; *out points at it (valid until the next append). */
static int emit(struct assembler *as, struct ebpf_insn **out)
{
    if (as->count >= EBPFVM_MAX_INSNS)
        return fail(as, "too many instructions (limit %d)", EBPFVM_MAX_INSNS);
    if (grow(as->vm, (void **)&as->insns, &as->insns_cap, sizeof *as->insns, as->count + 1))
        return nomem(as);
    struct ebpf_insn *insn = &as->insns[as->count++];
    memset(insn, 0, sizeof *insn);
    *out = insn;
    return 0;
}

/* ---------------------------------------------------------------- lexing */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static void skip_space(struct assembler *as)
{
    while (is_space(*as->p))
        as->p++;
}

/* The next token of the line, for messages: up to a space or comma. */
static void next_token(const char *p, char *out, size_t size)
{
    size_t n = 0;
    while (p[n] && !is_space(p[n]) && p[n] != ',' && n + 1 < size)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Read a name ([A-Za-z_.][A-Za-z0-9_.]*) into out. 0 or an error. */
static int read_name(struct assembler *as, char *out, size_t size, const char *what)
{
    skip_space(as);
    if (!is_name_start(*as->p)) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected %s, got '%s'", what, tok);
    }
    size_t n = 0;
    while (is_name_char(as->p[n]))
        n++;
    if (n >= size)
        return fail(as, "%s too long (max %zu characters)", what, size - 1);
    memcpy(out, as->p, n);
    out[n] = '\0';
    as->p += n;
    return 0;
}

/*
 * Read a number: optional sign, then decimal or 0x-hex. *magnitude gets the
 * absolute value, *negative the sign. Returns 0, 1 when there is no number
 * here (nothing consumed), or an error (overflow of 64 bits).
 */
static int read_number(struct assembler *as, uint64_t *magnitude, bool *negative)
{
    const char *s = as->p;
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
        while (is_space(*s))
            s++;
    }
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t value = 0;
    const char *digits = s;
    bool overflow = false;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (value > (UINT64_MAX - d) / base)
            overflow = true;
        value = value * base + d;
    }
    if (s == digits || is_name_char(*s))
        return 1;
    as->p = s;
    if (overflow)
        return fail(as, "immediate out of range");
    *magnitude = value;
    *negative = neg;
    return 0;
}

/* Read a number that must fit in [min, max]; `what` names it in messages. */
static int read_ranged(struct assembler *as, int64_t min, uint64_t max, const char *what, int64_t *out)
{
    skip_space(as);
    uint64_t mag;
    bool neg;
    int rc = read_number(as, &mag, &neg);
    if (rc == 1) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected %s, got '%s'", what, tok);
    }
    if (rc)
        return rc;
    if (neg ? mag > (uint64_t)0 - (uint64_t)min : mag > max)
        return fail(as, "%s out of range", what);
    /* In range, so the conversion is exact. */
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

/* A 32-bit immediate: signed or unsigned 32-bit (0xffffffff is -1). */
static int read_imm32(struct assembler *as, int32_t *out)
{
    int64_t v;
    int rc = read_ranged(as, INT32_MIN, UINT32_MAX, "immediate", &v);
    if (rc)
        return rc;
    *out = (int32_t)(uint32_t)(uint64_t)v;
    return 0;
}

/* "%rN" (or "rN"), N in 0..10. */
static int read_reg(struct assembler *as, uint8_t *reg)
{
    skip_space(as);
    const char *s = as->p;
    if (*s == '%')
        s++;
    if (*s != 'r' || !(s[1] >= '0' && s[1] <= '9')) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected register, got '%s'", tok);
    }
    s++;
    unsigned n = 0;
    while (*s >= '0' && *s <= '9' && n < 100)
        n = n * 10 + (unsigned)(*s++ - '0');
    if (n >= EBPF_NREGS || is_name_char(*s)) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "invalid register '%s' (r0..r10)", tok);
    }
    as->p = s;
    *reg = (uint8_t)n;
    return 0;
}

static bool at_reg(struct assembler *as)
{
    skip_space(as);
    const char *s = as->p;
    if (*s == '%')
        return true;
    return s[0] == 'r' && s[1] >= '0' && s[1] <= '9';
}

static int expect_char(struct assembler *as, char c)
{
    skip_space(as);
    if (*as->p != c) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected '%c', got '%s'", c, tok[0] ? tok : "end of line");
    }
    as->p++;
    return 0;
}

/* "[%rN]", "[%rN+off]" or "[%rN-off]" with a 16-bit signed offset. */
static int read_mem(struct assembler *as, uint8_t *reg, int16_t *off)
{
    skip_space(as);
    if (*as->p != '[') {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected memory operand [%%rN+off], got '%s'", tok);
    }
    as->p++;
    int rc = read_reg(as, reg);
    if (rc)
        return rc;
    skip_space(as);
    int64_t v = 0;
    if (*as->p == '+' || *as->p == '-') {
        rc = read_ranged(as, INT16_MIN, INT16_MAX, "offset", &v);
        if (rc)
            return rc;
    }
    rc = expect_char(as, ']');
    if (rc)
        return rc;
    *off = (int16_t)v;
    return 0;
}

/* ------------------------------------------------------ labels, targets */

static struct asm_label *find_label(struct assembler *as, const char *name)
{
    for (size_t i = 0; i < as->nlabels; i++)
        if (strcmp(as->labels[i].name, name) == 0)
            return &as->labels[i];
    return NULL;
}

static int define_label(struct assembler *as, const char *name)
{
    if (find_label(as, name))
        return fail(as, "duplicate label '%s'", name);
    if (grow(as->vm, (void **)&as->labels, &as->labels_cap, sizeof *as->labels, as->nlabels + 1))
        return nomem(as);
    struct asm_label *l = &as->labels[as->nlabels++];
    memcpy(l->name, name, strlen(name) + 1);
    l->index = as->count;
    return 0;
}

/*
 * A jump or call target for the instruction at word `index`: +N/-N/N sets
 * the field now; a label is recorded as a fixup. The field is off (16 bits)
 * or imm (32 bits) by kind.
 */
static int read_target(struct assembler *as, size_t index, enum asm_fix_kind kind)
{
    skip_space(as);
    if (is_name_start(*as->p)) {
        struct asm_fixup fix = {.index = index, .line = as->line, .kind = kind};
        int rc = read_name(as, fix.name, sizeof fix.name, "label");
        if (rc)
            return rc;
        if (grow(as->vm, (void **)&as->fixups, &as->fixups_cap, sizeof *as->fixups, as->nfixups + 1))
            return nomem(as);
        as->fixups[as->nfixups++] = fix;
        return 0;
    }
    int64_t v;
    int rc = kind == ASM_FIX_OFF ? read_ranged(as, INT16_MIN, INT16_MAX, "jump offset", &v)
                                 : read_ranged(as, INT32_MIN, INT32_MAX, "jump offset", &v);
    if (rc)
        return rc;
    if (kind == ASM_FIX_OFF)
        as->insns[index].off = (int16_t)v;
    else
        as->insns[index].imm = (int32_t)v;
    return 0;
}

static int resolve_fixups(struct assembler *as)
{
    for (size_t i = 0; i < as->nfixups; i++) {
        const struct asm_fixup *fix = &as->fixups[i];
        as->line = fix->line;
        size_t target;
        const struct asm_label *l = find_label(as, fix->name);
        if (l)
            target = l->index;
        else if (strcmp(fix->name, "exit") == 0)
            target = as->last_start;
        else
            return fail(as, "undefined label '%s'", fix->name);
        if (target >= as->count)
            return fail(as, "label '%s' is past the last instruction", fix->name);
        /* Both indices are below EBPFVM_MAX_INSNS, so this fits. */
        int64_t rel = (int64_t)target - (int64_t)fix->index - 1;
        if (fix->kind == ASM_FIX_OFF) {
            if (rel < INT16_MIN || rel > INT16_MAX)
                return fail(as, "jump offset out of range: label '%s' is %lld instructions away (use ja32)",
                            fix->name, (long long)rel);
            as->insns[fix->index].off = (int16_t)rel;
        } else {
            as->insns[fix->index].imm = (int32_t)rel;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- forms */

/* The first form with this mnemonic and format (any format when fmt < 0). */
static int find_form(const char *mnemonic, int fmt)
{
    for (int i = 0; i < EBPF_OP_COUNT_; i++)
        if (strcmp(ebpfvm__forms[i].mnemonic, mnemonic) == 0 && (fmt < 0 || ebpfvm__forms[i].format == fmt))
            return i;
    return -1;
}

/* The first form with this mnemonic that is an atomic (after "lock") or,
 * when !locked, that is not: "add32" names both an ALU and an atomic form. */
static int find_form_locked(const char *mnemonic, bool locked)
{
    if (locked)
        return find_form(mnemonic, EBPF_FMT_ATOMIC);
    for (int i = 0; i < EBPF_OP_COUNT_; i++)
        if (ebpfvm__forms[i].format != EBPF_FMT_ATOMIC && strcmp(ebpfvm__forms[i].mnemonic, mnemonic) == 0)
            return i;
    return -1;
}

/* Fill the opcode and the discriminating field of form into insn. */
static void apply_form(struct ebpf_insn *insn, int form)
{
    const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
    insn->opcode = f->opcode;
    switch (f->disc) {
    case EBPF_DISC_OFF: insn->off = (int16_t)f->disc_value; break;
    case EBPF_DISC_IMM: insn->imm = f->disc_value; break;
    case EBPF_DISC_SRC: insn->src_reg = (uint8_t)f->disc_value; break;
    default: break;
    }
}

/* The sibling of `form` with the same mnemonic and format fmt, or an error
 * naming what the operand should have been. */
static int sibling(struct assembler *as, int form, enum ebpf_insn_format fmt, const char *need)
{
    int other = find_form(ebpfvm__forms[form].mnemonic, (int)fmt);
    if (other < 0)
        return fail(as, "'%s' needs %s", ebpfvm__forms[form].mnemonic, need);
    return other;
}

/*
 * "%rD, %rS" or "%rD, IMM" (ALU and conditional jumps): the destination, then
 * a register or a 32-bit immediate source, switching `form` to the
 * mnemonic's register-source (reg_fmt) or immediate (imm_fmt) sibling. The
 * error names what the operand should have been ("an immediate" + what).
 * Returns the chosen form, or an error.
 */
static int read_dst_and_source(struct assembler *as, struct ebpf_insn *insn, int form,
                               enum ebpf_insn_format reg_fmt, enum ebpf_insn_format imm_fmt, const char *what)
{
    uint8_t reg;
    int rc;
    char need[32];
    if ((rc = read_reg(as, &reg)) || (rc = expect_char(as, ',')))
        return rc;
    insn->dst_reg = reg;
    bool from_reg = at_reg(as);
    snprintf(need, sizeof need, "%s%s", from_reg ? "an immediate" : "a register", what);
    if ((form = sibling(as, form, from_reg ? reg_fmt : imm_fmt, need)) < 0)
        return form;
    if (from_reg) {
        if ((rc = read_reg(as, &reg)))
            return rc;
        insn->src_reg = reg;
    } else if ((rc = read_imm32(as, &insn->imm))) {
        return rc;
    }
    return form;
}

/* lddw's operand after "%rN,": a 64-bit number or a pseudo reference. */
static int read_lddw_value(struct assembler *as, size_t index)
{
    struct ebpf_insn *lo = &as->insns[index], *hi = &as->insns[index + 1];
    skip_space(as);
    if (is_name_start(*as->p)) {
        static const struct {
            const char *word;
            uint8_t src;
            bool has_off;
        } pseudo[] = {
            {"map_fd", EBPF_PSEUDO_MAP_FD, false},
            {"map_idx", EBPF_PSEUDO_MAP_IDX, false},
            {"map_value", EBPF_PSEUDO_MAP_VALUE, true},
            {"map_idx_value", EBPF_PSEUDO_MAP_IDX_VALUE, true},
            {"func", EBPF_PSEUDO_FUNC, false},
        };
        char word[ASM_MAX_NAME];
        int rc = read_name(as, word, sizeof word, "immediate");
        if (rc)
            return rc;
        for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++) {
            if (strcmp(word, pseudo[i].word) != 0)
                continue;
            lo->src_reg = pseudo[i].src;
            if (pseudo[i].src == EBPF_PSEUDO_FUNC)
                return read_target(as, index, ASM_FIX_IMM);
            int64_t v;
            rc = read_ranged(as, INT32_MIN, INT32_MAX, "map number", &v);
            if (rc)
                return rc;
            lo->imm = (int32_t)v;
            if (pseudo[i].has_off) {
                rc = expect_char(as, ',');
                if (!rc)
                    rc = read_imm32(as, &hi->imm);
            }
            return rc;
        }
        return fail(as, "expected immediate, got '%s'", word);
    }
    uint64_t mag;
    bool neg;
    int rc = read_number(as, &mag, &neg);
    if (rc == 1) {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "expected immediate, got '%s'", tok);
    }
    if (rc)
        return rc;
    if (neg && mag > (uint64_t)1 << 63)
        return fail(as, "immediate out of range");
    uint64_t v = neg ? 0 - mag : mag;
    lo->imm = (int32_t)(uint32_t)v;
    hi->imm = (int32_t)(uint32_t)(v >> 32);
    return 0;
}

/*
 * Assemble one instruction whose mnemonic is `mn` (for atomics, the words
 * after "lock"); the cursor is at its operands.
 */
static int assemble_insn(struct assembler *as, const char *mn, bool locked)
{
    int form = find_form_locked(mn, locked);
    if (form < 0 && !locked && strncmp(mn, "swap", 4) == 0) {
        /* The suite's swap16/32/64 are bswap16/32/64 (RFC 9669 BSWAP). */
        char alias[ASM_MAX_MNEMONIC + 2] = "b";
        strncat(alias, mn, ASM_MAX_MNEMONIC);
        form = find_form(alias, EBPF_FMT_ENDIAN);
    }
    if (form < 0)
        return fail(as, "unknown mnemonic '%s%s'", locked ? "lock " : "", mn);

    size_t index = as->count;
    struct ebpf_insn *insn;
    int rc = emit(as, &insn);
    if (rc)
        return rc;
    as->last_start = index;

    uint8_t reg;
    switch ((enum ebpf_insn_format)ebpfvm__forms[form].format) {
    case EBPF_FMT_ALU_IMM:
    case EBPF_FMT_ALU_REG:
        if ((form = read_dst_and_source(as, insn, form, EBPF_FMT_ALU_REG, EBPF_FMT_ALU_IMM, " source")) < 0)
            return form;
        break;
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
        if ((rc = read_reg(as, &reg)))
            return rc;
        insn->dst_reg = reg;
        break;
    case EBPF_FMT_LD_IMM64: {
        struct ebpf_insn *second;
        if ((rc = emit(as, &second)))
            return rc;
        insn = &as->insns[index]; /* emit may have moved the array */
        if ((rc = read_reg(as, &reg)) || (rc = expect_char(as, ',')))
            return rc;
        insn->dst_reg = reg;
        if ((rc = read_lddw_value(as, index)))
            return rc;
        break;
    }
    case EBPF_FMT_LD_ABS:
        if ((rc = read_imm32(as, &insn->imm)))
            return rc;
        break;
    case EBPF_FMT_LD_IND:
        if ((rc = read_reg(as, &reg)) || (rc = expect_char(as, ',')) || (rc = read_imm32(as, &insn->imm)))
            return rc;
        insn->src_reg = reg;
        break;
    case EBPF_FMT_LDX:
        if ((rc = read_reg(as, &reg)) || (rc = expect_char(as, ',')))
            return rc;
        insn->dst_reg = reg;
        if ((rc = read_mem(as, &reg, &insn->off)))
            return rc;
        insn->src_reg = reg;
        break;
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
    case EBPF_FMT_ATOMIC:
        if ((rc = read_mem(as, &reg, &insn->off)) || (rc = expect_char(as, ',')))
            return rc;
        insn->dst_reg = reg;
        if (ebpfvm__forms[form].format == EBPF_FMT_ST) {
            if ((rc = read_imm32(as, &insn->imm)))
                return rc;
        } else {
            if ((rc = read_reg(as, &reg)))
                return rc;
            insn->src_reg = reg;
        }
        break;
    case EBPF_FMT_JA:
    case EBPF_FMT_MAY_GOTO:
        if ((rc = read_target(as, index, ASM_FIX_OFF)))
            return rc;
        break;
    case EBPF_FMT_JA32:
        if ((rc = read_target(as, index, ASM_FIX_IMM)))
            return rc;
        break;
    case EBPF_FMT_JMP_IMM:
    case EBPF_FMT_JMP_REG:
        if ((form = read_dst_and_source(as, insn, form, EBPF_FMT_JMP_REG, EBPF_FMT_JMP_IMM, "")) < 0)
            return form;
        if ((rc = expect_char(as, ',')) || (rc = read_target(as, index, ASM_FIX_OFF)))
            return rc;
        break;
    case EBPF_FMT_CALL:
    case EBPF_FMT_CALLX:
        skip_space(as);
        if (at_reg(as)) { /* call %rN: callx, the register in dst (RFC 9669) */
            if ((form = find_form("callx", EBPF_FMT_CALLX)) < 0)
                return fail(as, "unknown mnemonic 'callx'");
            if ((rc = read_reg(as, &reg)))
                return rc;
            insn->dst_reg = reg;
        } else if (ebpfvm__forms[form].format == EBPF_FMT_CALLX) {
            return read_reg(as, &reg); /* reports "expected register" */
        } else if (strncmp(as->p, "local", 5) == 0 && !is_name_char(as->p[5])) {
            as->p += 5;
            insn->src_reg = EBPF_PSEUDO_CALL_LOCAL;
            if ((rc = read_target(as, index, ASM_FIX_IMM)))
                return rc;
        } else if (strncmp(as->p, "kfunc", 5) == 0 && !is_name_char(as->p[5])) {
            as->p += 5;
            int64_t id;
            insn->src_reg = EBPF_PSEUDO_CALL_KFUNC;
            if ((rc = read_ranged(as, INT32_MIN, INT32_MAX, "kfunc id", &id)))
                return rc;
            insn->imm = (int32_t)id;
        } else {
            int64_t id;
            if ((rc = read_ranged(as, INT32_MIN, INT32_MAX, "helper id", &id)))
                return rc;
            insn->imm = (int32_t)id;
        }
        break;
    case EBPF_FMT_EXIT: break;
    }
    apply_form(insn, form);

    skip_space(as);
    if (*as->p != '\0') {
        char tok[32];
        next_token(as->p, tok, sizeof tok);
        return fail(as, "unexpected '%s' after the operands of '%s'", tok, mn);
    }
    return 0;
}

/* One line, comments already cut off and not empty. */
static int assemble_line(struct assembler *as, char *line)
{
    as->p = line;
    skip_space(as);
    /* Leading "label:" definitions. */
    for (;;) {
        const char *start = as->p;
        size_t n = 0;
        while (is_name_char(start[n]))
            n++;
        const char *after = start + n;
        while (is_space(*after))
            after++;
        if (n == 0 || !is_name_start(start[0]) || *after != ':')
            break;
        if (n >= ASM_MAX_NAME)
            return fail(as, "label too long (max %d characters)", ASM_MAX_NAME - 1);
        char name[ASM_MAX_NAME];
        memcpy(name, start, n);
        name[n] = '\0';
        int rc = define_label(as, name);
        if (rc)
            return rc;
        as->p = after + 1;
        skip_space(as);
    }
    if (*as->p == '\0')
        return 0;

    char mn[ASM_MAX_MNEMONIC];
    const char *start = as->p;
    size_t n = 0;
    while (start[n] && !is_space(start[n]))
        n++;
    if (n >= sizeof mn)
        return fail(as, "unknown mnemonic '%.*s'", (int)n, start);
    memcpy(mn, start, n);
    mn[n] = '\0';
    as->p = start + n;
    if (strcmp(mn, "lock") != 0)
        return assemble_insn(as, mn, false);

    /* "lock" + the words of the atomic mnemonic, up to the memory operand. */
    skip_space(as);
    const char *words = as->p;
    const char *end = strchr(words, '[');
    if (!end)
        end = words + strlen(words);
    while (end > words && is_space(end[-1]))
        end--;
    if (end == words)
        return fail(as, "expected an atomic operation after 'lock'");
    n = (size_t)(end - words);
    if (n >= sizeof mn)
        return fail(as, "unknown mnemonic 'lock %.*s'", (int)n, words);
    memcpy(mn, words, n);
    mn[n] = '\0';
    as->p = end;
    return assemble_insn(as, mn, true);
}

static void assembler_free(struct assembler *as)
{
    ebpfvm__free(as->vm, as->insns);
    ebpfvm__free(as->vm, as->labels);
    ebpfvm__free(as->vm, as->fixups);
}

int ebpfvm_assemble(ebpfvm_vm *vm, const char *text, struct ebpf_insn **out, size_t *count)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (!text || !out || !count)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "assemble: %s is NULL", !text ? "text" : !out ? "out" : "count");
    *out = NULL;
    *count = 0;

    struct assembler as = {.vm = vm};
    int rc = 0;
    const char *p = text;
    while (*p && rc == 0) {
        as.line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[ASM_MAX_LINE];
        if (len >= sizeof line) {
            rc = fail(&as, "line too long (max %d characters)", ASM_MAX_LINE - 1);
            break;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        rc = assemble_line(&as, line);
        p = eol ? eol + 1 : p + len;
    }
    if (rc == 0 && as.count == 0)
        rc = ebpfvm__error(vm, EBPFVM_ERR_FORMAT, "line %u: no instructions", as.line ? as.line : 1);
    if (rc == 0)
        rc = resolve_fixups(&as);
    if (rc) {
        assembler_free(&as);
        return rc;
    }
    *out = as.insns;
    *count = as.count;
    as.insns = NULL;
    assembler_free(&as);
    return EBPFVM_OK;
}
