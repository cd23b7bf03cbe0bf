/*
 * cli/util.c - diagnostics, file I/O, program-file loading and argument
 * parsing for the `ebpfvm` command (see util.h for the exit-code contract).
 *
 * Invariant: every function that fails has already printed one diagnostic
 * naming the file or argument, so callers only pass the exit code up.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ebpfvm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ebpfvm: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'ebpfvm %s --help'.\n", cmd);
    else
        fputs("Try 'ebpfvm --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_read_file(const char *path, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return CLI_EXIT_IO;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        cli_error("%s: out of memory", path);
        return CLI_EXIT_INTERNAL;
    }
    for (;;) {
        if (cap - len < 2) {
            uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                fclose(f);
                cli_error("%s: out of memory", path);
                return CLI_EXIT_INTERNAL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        free(buf);
        fclose(f);
        cli_error("%s: read error: %s", path, err ? strerror(err) : "unknown");
        return CLI_EXIT_IO;
    }
    fclose(f);
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return CLI_EXIT_OK;
}

int cli_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return CLI_EXIT_IO;
    }
    int bad = size != 0 && fwrite(data, 1, size, f) != size;
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        cli_error("%s: write error: %s", path, strerror(err));
        return CLI_EXIT_IO;
    }
    return CLI_EXIT_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cli_is_asm_path(const char *path)
{
    return ends_with(path, ".asm") || ends_with(path, ".s");
}

int cli_exit_for_load(int status)
{
    switch (status) {
    case EBPFVM_OK: return CLI_EXIT_OK;
    case EBPFVM_ERR_NOMEM: return CLI_EXIT_INTERNAL;
    case EBPFVM_ERR_IO: return CLI_EXIT_IO;
    default: return CLI_EXIT_BADPROG;
    }
}

void cli_report_vm_error(const char *path, ebpfvm_vm *vm, int status)
{
    const char *msg = ebpfvm_vm_errmsg(vm);
    cli_error("%s: %s", path, msg[0] ? msg : ebpfvm_strerror(status));
}

int cli_load_words(ebpfvm_vm *vm, const char *path, enum cli_input input, struct ebpf_insn **insns,
                   size_t *count)
{
    *insns = NULL;
    *count = 0;
    uint8_t *data;
    size_t size;
    int rc = cli_read_file(path, &data, &size);
    if (rc)
        return rc;

    if (input == CLI_INPUT_ASM || (input == CLI_INPUT_AUTO && cli_is_asm_path(path))) {
        if (memchr(data, '\0', size)) {
            free(data);
            cli_error("%s: assembly text contains a NUL byte", path);
            return CLI_EXIT_BADPROG;
        }
        struct ebpf_insn *words = NULL;
        size_t n = 0;
        int status = ebpfvm_assemble(vm, (const char *)data, &words, &n);
        free(data);
        if (status) {
            cli_report_vm_error(path, vm, status);
            return cli_exit_for_load(status);
        }
        *insns = malloc(n ? n * sizeof *words : 1);
        if (!*insns) {
            ebpfvm_free(vm, words);
            cli_error("%s: out of memory", path);
            return CLI_EXIT_INTERNAL;
        }
        if (n)
            memcpy(*insns, words, n * sizeof *words);
        ebpfvm_free(vm, words);
        *count = n;
        return CLI_EXIT_OK;
    }

    if (size % sizeof(struct ebpf_insn) != 0) {
        free(data);
        cli_error("%s: truncated program: %zu bytes is not a multiple of 8", path, size);
        return CLI_EXIT_IO;
    }
    /* Raw words: the file is the little-endian encoding, which is the
     * in-memory layout of struct ebpf_insn on the supported hosts. */
    *insns = malloc(size ? size : 1);
    if (!*insns) {
        free(data);
        cli_error("%s: out of memory", path);
        return CLI_EXIT_INTERNAL;
    }
    if (size)
        memcpy(*insns, data, size);
    free(data);
    *count = size / sizeof(struct ebpf_insn);
    return CLI_EXIT_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cli_parse_hex(const char *s, uint8_t **out, size_t *size, const char **bad)
{
    *out = NULL;
    *size = 0;
    *bad = NULL;
    uint8_t *buf = malloc(strlen(s) / 2 + 1);
    if (!buf) {
        *bad = s;
        return -1;
    }
    size_t n = 0;
    int high = -1;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',' || *p == ':')
            continue;
        if (*p == '0' && (p[1] == 'x' || p[1] == 'X') && high < 0) {
            p++;
            continue;
        }
        int d = hex_digit(*p);
        if (d < 0) {
            free(buf);
            *bad = p;
            return -1;
        }
        if (high < 0) {
            high = d;
        } else {
            buf[n++] = (uint8_t)(high << 4 | d);
            high = -1;
        }
    }
    if (high >= 0) {
        free(buf);
        *bad = s + strlen(s);
        return -1;
    }
    *out = buf;
    *size = n;
    return 0;
}

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

int cli_read_words(const char *path, enum cli_input input, struct ebpf_insn **insns, size_t *count)
{
    ebpfvm_vm *vm;
    if (ebpfvm_vm_create(NULL, &vm)) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int rc = cli_load_words(vm, path, input, insns, count);
    ebpfvm_vm_destroy(vm);
    return rc;
}
