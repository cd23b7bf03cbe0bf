/*
 * tests/support/conformance.c - parse bpf_conformance .data files (see
 * conformance.h). Sections start at lines whose first non-blank characters
 * are "--"; `#` starts a comment in the data sections (the asm text is kept
 * verbatim: the assembler handles its comments).
 */
#define _POSIX_C_SOURCE 200809L

#include "conformance.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum section { SEC_NONE, SEC_ASM, SEC_RAW, SEC_MEM, SEC_RESULT, SEC_ERROR, SEC_IGNORED };

/* "line N: <what> '<arg>'" (arg omitted when NULL). */
static void set_err(char *err, size_t size, const char *what, const char *arg, unsigned line)
{
    if (size == 0)
        return;
    if (arg)
        snprintf(err, size, "line %u: %s '%s'", line, what, arg);
    else
        snprintf(err, size, "line %u: %s", line, what);
}

/* Append len bytes of s and a newline to a growing string. */
static int append(char **buf, size_t *len, const char *s, size_t n)
{
    char *grown = realloc(*buf, *len + n + 2);
    if (!grown)
        return -1;
    memcpy(grown + *len, s, n);
    grown[*len + n] = '\n';
    grown[*len + n + 1] = '\0';
    *buf = grown;
    *len += n + 1;
    return 0;
}

struct ebpf_insn conformance_word(uint64_t value)
{
    struct ebpf_insn insn;
    insn.opcode = (uint8_t)value;
    insn.dst_reg = (uint8_t)((value >> 8) & 0xf);
    insn.src_reg = (uint8_t)((value >> 12) & 0xf);
    insn.off = (int16_t)(uint16_t)(value >> 16);
    insn.imm = (int32_t)(uint32_t)(value >> 32);
    return insn;
}

/* Parse whitespace-separated numbers of one data line. */
static int parse_data_line(struct conformance_case *c, enum section sec, char *text, unsigned line, char *err,
                           size_t err_size)
{
    char *save = NULL;
    for (char *tok = strtok_r(text, " \t\r,", &save); tok; tok = strtok_r(NULL, " \t\r,", &save)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(tok, &end, sec == SEC_MEM ? 16 : 0);
        if (*end || errno) {
            set_err(err, err_size, "bad number", tok, line);
            return -1;
        }
        if (sec == SEC_MEM) {
            if (v > 0xff) {
                set_err(err, err_size, "byte out of range:", tok, line);
                return -1;
            }
            uint8_t *grown = realloc(c->mem, c->mem_size + 1);
            if (!grown)
                return -1;
            c->mem = grown;
            c->mem[c->mem_size++] = (uint8_t)v;
        } else if (sec == SEC_RAW) {
            struct ebpf_insn *grown = realloc(c->raw, (c->raw_count + 1) * sizeof *grown);
            if (!grown)
                return -1;
            c->raw = grown;
            c->raw[c->raw_count++] = conformance_word((uint64_t)v);
        } else {
            if (c->has_result) {
                set_err(err, err_size, "second result value", tok, line);
                return -1;
            }
            c->has_result = true;
            c->result = (uint64_t)v;
        }
    }
    return 0;
}

int conformance_parse(const char *text, struct conformance_case *c, char *err, size_t err_size)
{
    memset(c, 0, sizeof *c);
    if (err_size)
        err[0] = '\0';
    enum section sec = SEC_NONE;
    size_t asm_len = 0, error_len = 0;
    unsigned line = 0;
    const char *p = text;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char *buf = malloc(len + 1);
        if (!buf)
            goto nomem;
        memcpy(buf, p, len);
        buf[len] = '\0';
        p = eol ? eol + 1 : p + len;

        char *s = buf;
        while (isspace((unsigned char)*s))
            s++;
        if (s[0] == '-' && s[1] == '-') {
            char *name = s + 2;
            while (isspace((unsigned char)*name))
                name++;
            char *e = name + strlen(name);
            while (e > name && isspace((unsigned char)e[-1]))
                *--e = '\0';
            if (strcmp(name, "asm") == 0)
                sec = SEC_ASM;
            else if (strcmp(name, "raw") == 0)
                sec = SEC_RAW;
            else if (strcmp(name, "mem") == 0)
                sec = SEC_MEM;
            else if (strcmp(name, "result") == 0)
                sec = SEC_RESULT;
            else if (strcmp(name, "error") == 0)
                sec = SEC_ERROR;
            else if (strcmp(name, "c") == 0 || strcmp(name, "no register offset") == 0)
                sec = SEC_IGNORED;
            else {
                sec = SEC_IGNORED;
                if (!c->unsupported[0])
                    snprintf(c->unsupported, sizeof c->unsupported, "%s", name);
            }
            free(buf);
            continue;
        }
        int rc = 0;
        if (sec == SEC_ASM) {
            rc = append(&c->asm_text, &asm_len, buf, len);
        } else if (sec == SEC_RAW || sec == SEC_MEM || sec == SEC_RESULT) {
            char *hash = strchr(s, '#');
            if (hash)
                *hash = '\0';
            rc = parse_data_line(c, sec, s, line, err, err_size);
        } else if (sec == SEC_ERROR) {
            char *hash = strchr(s, '#');
            if (hash)
                *hash = '\0';
            char *e = s + strlen(s);
            while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
            if (*s)
                rc = append(&c->error, &error_len, s, strlen(s));
        }
        free(buf);
        if (rc) {
            if (err_size && !err[0])
                goto nomem;
            conformance_case_free(c);
            return -1;
        }
    }
    if (c->error && error_len > 0)
        c->error[error_len - 1] = '\0'; /* drop the last newline */
    if (!c->asm_text && !c->raw && !c->unsupported[0]) {
        set_err(err, err_size, "no -- asm or -- raw section", NULL, line);
        conformance_case_free(c);
        return -1;
    }
    if (!c->has_result && !c->error && !c->unsupported[0]) {
        set_err(err, err_size, "no -- result or -- error section", NULL, line);
        conformance_case_free(c);
        return -1;
    }
    return 0;
nomem:
    if (err_size)
        snprintf(err, err_size, "out of memory");
    conformance_case_free(c);
    return -1;
}

int conformance_load(const char *path, struct conformance_case *c, char *err, size_t err_size)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                snprintf(err, err_size, "%s: out of memory", path);
                return -1;
            }
            text = grown;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(text);
        snprintf(err, err_size, "%s: read error", path);
        return -1;
    }
    text[len] = '\0';
    int rc = conformance_parse(text, c, err, err_size);
    free(text);
    return rc;
}

void conformance_case_free(struct conformance_case *c)
{
    free(c->asm_text);
    free(c->raw);
    free(c->mem);
    free(c->error);
    memset(c, 0, sizeof *c);
}

char *conformance_hex(const void *bytes, size_t size)
{
    const uint8_t *b = bytes;
    char *s = malloc(size * 3 + 1);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < size; i++)
        snprintf(s + i * 3, 4, i + 1 < size ? "%02x " : "%02x", b[i]);
    return s;
}
