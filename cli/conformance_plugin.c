/*
 * cli/conformance_plugin.c - `ebpfvm-conformance-plugin`, the VM-under-test
 * program of the public bpf_conformance runner (protocol in
 * /work/shared/conformance/FORMAT.md):
 *
 *   ebpfvm-conformance-plugin ["<memory hex bytes>"] [--interp | --jit]
 *
 *   stdin:   the program's instruction bytes as hex, separated by spaces;
 *   argv[1]: the memory block (when it does not start with "--"), same format;
 *   success: prints r0 as 0x-hex on stdout, exit 0;
 *   failure: prints the error text on stdout, exit 1 (load or runtime error);
 *   usage errors and an unavailable JIT: message, exit 2.
 *
 * Helper 5 returns its first argument unchanged, as the suite expects. The
 * program is not verified, so --interp runs the checked interpreter (every
 * access bounds-checked) and --jit compiles it with
 * EBPFVM_JIT_ALLOW_UNVERIFIED.
 *
 * Memory here is the C library's; the plugin frees what it allocates.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

#define PLUGIN_EXIT_FAIL 1
#define PLUGIN_EXIT_USAGE 2

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Parse hex bytes separated by blanks ("b7 00 00 ..."; "0x" prefixes and
 * unseparated pairs are accepted too). Returns a malloc'd buffer (non-NULL,
 * possibly empty) or NULL with a reason in err.
 */
static uint8_t *parse_hex(const char *s, size_t *size, char *err, size_t err_size)
{
    uint8_t *out = malloc(strlen(s) / 2 + 1);
    size_t n = 0;
    if (!out) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    while (*s) {
        if (isspace((unsigned char)*s) || *s == ',') {
            s++;
            continue;
        }
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            s += 2;
        int hi = hex_digit((unsigned char)s[0]);
        int lo = hi < 0 ? -1 : hex_digit((unsigned char)s[1]);
        if (hi < 0 || lo < 0) {
            int len = 0;
            while (len < 8 && s[len] && !isspace((unsigned char)s[len]))
                len++;
            snprintf(err, err_size, "bad hex byte at '%.*s'", len, s);
            free(out);
            return NULL;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    *size = n;
    return out;
}

/* Read all of stdin into a NUL-terminated malloc'd string, or NULL. */
static char *read_stdin(void)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ebpfvm-conformance-plugin [\"<memory hex bytes>\"] [--interp | --jit]\n"
                 "Reads the program's bytes as hex on stdin, runs it with r1 = memory, r2 = its\n"
                 "length, and prints r0 in hex (exit 0) or the error (exit 1).\n");
}

int main(int argc, char **argv)
{
    const char *mem_hex = NULL;
    int use_jit = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--interp") == 0) {
            use_jit = 0;
        } else if (strcmp(argv[i], "--jit") == 0) {
            use_jit = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (i == 1 && strncmp(argv[i], "--", 2) != 0) {
            mem_hex = argv[i];
        } else {
            fprintf(stderr, "ebpfvm-conformance-plugin: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return PLUGIN_EXIT_USAGE;
        }
    }

    char err[128];
    uint8_t *mem = NULL;
    size_t mem_size = 0;
    if (mem_hex && !(mem = parse_hex(mem_hex, &mem_size, err, sizeof err))) {
        printf("memory: %s\n", err);
        return PLUGIN_EXIT_USAGE;
    }
    char *text = read_stdin();
    if (!text) {
        printf("out of memory reading the program\n");
        free(mem);
        return PLUGIN_EXIT_FAIL;
    }
    size_t code_size = 0;
    uint8_t *code = parse_hex(text, &code_size, err, sizeof err);
    free(text);
    if (!code || code_size == 0 || code_size % 8 != 0) {
        if (code)
            printf("program: %zu bytes is not a whole number of 8-byte instructions\n", code_size);
        else
            printf("program: %s\n", err);
        free(code);
        free(mem);
        return PLUGIN_EXIT_USAGE;
    }

    /* The bytes are little-endian instruction words. */
    size_t count = code_size / 8;
    struct ebpf_insn *insns = calloc(count, sizeof *insns);
    ebpfvm_vm *vm = NULL;
    int status = insns ? ebpfvm_vm_create(NULL, &vm) : EBPFVM_ERR_NOMEM;
    int rc = PLUGIN_EXIT_FAIL;
    ebpfvm_prog *prog = NULL;
    if (status != 0) {
        printf("%s\n", ebpfvm_strerror(status));
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *b = code + i * 8;
        insns[i].opcode = b[0];
        insns[i].dst_reg = b[1] & 0xf;
        insns[i].src_reg = b[1] >> 4;
        insns[i].off = (int16_t)(uint16_t)(b[2] | b[3] << 8);
        insns[i].imm = (int32_t)((uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24);
    }
    status = ebpfvm_vm_register_helper(vm, 5, "conformance_identity", helper_identity, NULL);
    if (status == 0)
        status = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    if (status != 0) {
        printf("%s\n", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        goto out;
    }

    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_CHECKED};
    if (use_jit) {
        status = ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED);
        if (status != 0) {
            const char *why = ebpfvm_vm_errmsg(vm);
            printf("JIT not available: %s\n", why[0] ? why : ebpfvm_strerror(status));
            rc = PLUGIN_EXIT_USAGE;
            goto out;
        }
        opts.mode = EBPFVM_EXEC_JIT;
    }
    struct ebpfvm_run_result result;
    status = ebpfvm_prog_run(prog, mem, mem_size, &opts, &result);
    if (status != 0) {
        printf("%s\n", result.message[0] ? result.message : ebpfvm_strerror(status));
        goto out;
    }
    printf("0x%llx\n", (unsigned long long)result.r0);
    rc = 0;
out:
    ebpfvm_vm_destroy(vm);
    free(insns);
    free(code);
    free(mem);
    return rc;
}
