/*
 * cli/cmd_verify.c - `ebpfvm verify`: run the static verifier on the
 * programs of an ELF object (or on an assembly/raw program as the MEMORY
 * program type) and print its verdict, its log and its statistics.
 *
 * The log is the verifier's own, in the kernel's vocabulary (docs/verifier.md):
 * level 1 is the failing path and the reason, level 2 every instruction with
 * the register states. Exit status: 0 every selected program verified,
 * 3 a program was rejected (or could not be loaded), 2 usage, 5 I/O.
 *
 * Owns nothing else; the program selection (-s/-n) is cmd_dump.c's.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"
#include "ebpfvm/verifier.h"
#include "ebpfvm/xdp.h"
#ifdef EBPFVM_HAVE_ELF
#include "ebpfvm/loader.h"
#endif

#ifdef EBPFVM_HAVE_ELF
int cli_obj_select(const ebpfvm_object *obj, const char *path, const char *section, const char *name,
                   bool xdp_only, size_t *index);
#endif

/* The largest log we keep (the kernel's own default buffer is 16 MiB at
 * most; level 2 on a large program can be long, and is cut at this size). */
#define VERIFY_LOG_SIZE (16u << 20)

struct verify_args {
    const char *input;
    const char *section;
    const char *name;
    uint64_t log_level;
    uint64_t mem_size;
    bool json;
    bool strict;
};

void cli_help_verify(void)
{
    fputs("Usage: ebpfvm verify PROG [-s SECTION | -n PROG] [--log-level 0|1|2] [--strict] [--json]\n"
          "       ebpfvm verify PROG.asm|PROG.bin [--mem-size N] [--log-level 0|1|2] [--strict] [--json]\n"
          "\n"
          "Prove programs safe with ebpfvm's static verifier, as the kernel's\n"
          "verifier would at BPF_PROG_LOAD, and print the verdict per program:\n"
          "  xdp_udp_drop.o: xdp/xdp_udp_drop: verified (processed 42 insns, 3 states, stack 0 bytes)\n"
          "PROG is an ELF object (clang -target bpf): every program, or the ones\n"
          "selected with -s/-n, is verified for its program type (XDP for xdp*\n"
          "sections, socket filter for socket). An assembly (.asm, .s) or raw (.bin) program is verified as\n"
          "the MEMORY type: r1 points to a block of --mem-size bytes (default 0:\n"
          "the program may not touch it), r2 holds its length.\n"
          "\n"
          "Options:\n"
          "  -s, --section SECTION  the programs of SECTION\n"
          "  -n, --name PROG        the program (function) called PROG\n"
          "  --log-level N          0: verdicts only; 1 (default): for a rejected\n"
          "                         program, the path that failed and the reason;\n"
          "                         2: every instruction with the register states,\n"
          "                         accepted programs too\n"
          "  --mem-size N           MEMORY programs: size of the block r1 points to\n"
          "  --strict               also reject what Linux rejects only for unprivileged\n"
          "                         loaders: pointer leaks (into maps, the context,\n"
          "                         helpers, the return value), uninitialised stack\n"
          "                         reads, variable-offset stack accesses\n"
          "  --json                 one JSON object per program: {\"program\",\n"
          "                         \"section\",\"verified\",\"error\",\"insns_processed\",\n"
          "                         \"total_states\",\"max_states_per_insn\",\n"
          "                         \"stack_depth\",\"log\"}\n"
          "  -h, --help             show this help\n"
          "\n"
          "Exit status: 0 all verified, 2 usage error, 3 a program was rejected or\n"
          "could not be loaded, 5 I/O error.\n",
          stdout);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Verify one loaded program and report it. Returns an exit code. */
static int verify_one(ebpfvm_vm *vm, ebpfvm_prog *prog, const struct verify_args *a, const char *label,
                      const char *section, char *log)
{
    struct ebpfvm_verify_stats stats;
    memset(&stats, 0, sizeof stats);
    struct ebpfvm_verify_opts opts = {
        .sz = sizeof opts,
        .log_level = (uint32_t)a->log_level,
        .log_buf = a->log_level ? log : NULL,
        .log_size = a->log_level ? VERIFY_LOG_SIZE : 0,
        .mem_size = (uint32_t)a->mem_size,
        .flags = a->strict ? EBPFVM_VERIFY_STRICT : 0,
        .stats = &stats,
    };
    if (log)
        log[0] = '\0';
    int status = ebpfvm_prog_verify(prog, &opts);
    const char *err = status ? ebpfvm_vm_errmsg(vm) : "";
    if (status && !err[0])
        err = ebpfvm_strerror(status);
    /* Level 1 logs only what failed; an accepted program's level-1 log is
     * just the summary line, which the verdict line repeats. */
    bool show_log = log && log[0] && (status || a->log_level >= 2);

    if (a->json) {
        printf("{\"file\":");
        json_string(a->input);
        printf(",\"program\":");
        json_string(label);
        printf(",\"section\":");
        json_string(section ? section : "");
        printf(",\"verified\":%s,\"error\":", status ? "false" : "true");
        json_string(err);
        printf(",\"insns_processed\":%llu,\"total_states\":%u,\"max_states_per_insn\":%u,\"stack_depth\":%u",
               (unsigned long long)stats.insns_processed, stats.total_states, stats.max_states_per_insn,
               stats.stack_depth);
        printf(",\"log\":");
        json_string(show_log ? log : "");
        printf("}\n");
    } else {
        if (show_log) {
            fputs(log, stdout);
            if (log[strlen(log) - 1] != '\n')
                putchar('\n');
        }
        if (status)
            printf("%s: %s%s%s: rejected: %s\n", a->input, section ? section : "", section ? "/" : "", label,
                   err);
        else
            printf("%s: %s%s%s: verified (processed %llu insns, %u states, stack %u bytes)\n", a->input,
                   section ? section : "", section ? "/" : "", label, (unsigned long long)stats.insns_processed,
                   stats.total_states, stats.stack_depth);
    }
    if (status == EBPFVM_ERR_NOMEM)
        return CLI_EXIT_INTERNAL;
    return status ? CLI_EXIT_BADPROG : CLI_EXIT_OK;
}

/* An assembly or raw program, verified as the MEMORY type. */
static int verify_words(ebpfvm_vm *vm, const struct verify_args *a, char *log)
{
    struct ebpf_insn *insns;
    size_t count;
    int rc = cli_load_words(vm, a->input, CLI_INPUT_AUTO, &insns, &count);
    if (rc)
        return rc;
    ebpfvm_prog *prog;
    int status = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    free(insns);
    if (status) {
        cli_report_vm_error(a->input, vm, status);
        return cli_exit_for_load(status);
    }
    return verify_one(vm, prog, a, "program", NULL, log);
}

#ifdef EBPFVM_HAVE_ELF
static int verify_object_program(ebpfvm_vm *vm, ebpfvm_object *obj, size_t index, const struct verify_args *a,
                                 char *log)
{
    ebpfvm_prog *prog;
    int status = ebpfvm_object_load_program(obj, index, &prog);
    if (status) {
        cli_report_vm_error(a->input, vm, status);
        return cli_exit_for_load(status);
    }
    int rc = verify_one(vm, prog, a, ebpfvm_object_program_name(obj, index),
                        ebpfvm_object_program_section(obj, index), log);
    ebpfvm_prog_destroy(prog);
    return rc;
}

static int verify_object(ebpfvm_vm *vm, const struct verify_args *a, char *log)
{
    ebpfvm_object *obj = NULL;
    int status = ebpfvm_object_open(vm, a->input, NULL, &obj);
    if (status) {
        cli_error("%s", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        return cli_exit_for_load(status);
    }
    int rc = CLI_EXIT_OK;
    size_t n = ebpfvm_object_program_count(obj);
    if (a->section || a->name) {
        size_t index;
        rc = cli_obj_select(obj, a->input, a->section, a->name, false, &index);
        if (rc == 0)
            rc = verify_object_program(vm, obj, index, a, log);
    } else if (n == 0) {
        cli_error("%s: the object has no programs", a->input);
        rc = CLI_EXIT_BADPROG;
    } else {
        /* Every program; the first failure decides the exit code. */
        for (size_t i = 0; i < n; i++) {
            enum ebpfvm_prog_type type;
            if (ebpfvm_object_program_type(obj, i, &type) != 0) {
                printf("%s: %s/%s: skipped: no ebpfvm program type for section %s\n", a->input,
                       ebpfvm_object_program_section(obj, i), ebpfvm_object_program_name(obj, i),
                       ebpfvm_object_program_section(obj, i));
                continue;
            }
            int one = verify_object_program(vm, obj, i, a, log);
            if (one && !rc)
                rc = one;
        }
    }
    ebpfvm_object_close(obj);
    return rc;
}
#endif

int cli_cmd_verify(int argc, char **argv)
{
    struct verify_args a = {.log_level = 1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_verify();
            return CLI_EXIT_OK;
        }
        if (strcmp(arg, "--json") == 0) {
            a.json = true;
            continue;
        }
        if (strcmp(arg, "--strict") == 0) {
            a.strict = true;
            continue;
        }
        if ((r = cli_opt_value("verify", argc, argv, &i, "-s", &a.section)) != 0 ||
            (r = cli_opt_value("verify", argc, argv, &i, "--section", &a.section)) != 0 ||
            (r = cli_opt_value("verify", argc, argv, &i, "-n", &a.name)) != 0 ||
            (r = cli_opt_value("verify", argc, argv, &i, "--name", &a.name)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt_value("verify", argc, argv, &i, "--log-level", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a.log_level) != 0 || a.log_level > 2)
                return cli_usage_error("verify", "--log-level must be 0, 1 or 2, not '%s'", value);
            continue;
        }
        if ((r = cli_opt_value("verify", argc, argv, &i, "--mem-size", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a.mem_size) != 0 || a.mem_size > UINT32_MAX)
                return cli_usage_error("verify", "--mem-size must be a number of bytes below 2^32, not '%s'",
                                       value);
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error("verify", "unknown option '%s'", arg);
        if (a.input)
            return cli_usage_error("verify", "more than one program file ('%s' and '%s')", a.input, arg);
        a.input = arg;
    }
    if (!a.input)
        return cli_usage_error("verify", "no program file");
    bool words = cli_is_asm_path(a.input) || (strlen(a.input) > 4 && strcmp(a.input + strlen(a.input) - 4, ".bin") == 0);
    if (words && (a.section || a.name))
        return cli_usage_error("verify", "-s/-n select programs of an ELF object, not of '%s'", a.input);
#ifndef EBPFVM_HAVE_ELF
    if (!words)
        return cli_usage_error("verify", "'%s': this build has no ELF loader (use .asm or .bin)", a.input);
#endif

    char *log = NULL;
    if (a.log_level) {
        log = malloc(VERIFY_LOG_SIZE);
        if (!log) {
            cli_error("out of memory");
            return CLI_EXIT_INTERNAL;
        }
    }
    ebpfvm_vm *vm;
    if (ebpfvm_vm_create(NULL, &vm)) {
        free(log);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int rc;
    int status = ebpfvm_vm_register_std_helpers(vm, NULL);
    if (status) {
        cli_report_vm_error(a.input, vm, status);
        rc = CLI_EXIT_INTERNAL;
    } else if (words) {
        rc = verify_words(vm, &a, log);
    } else {
#ifdef EBPFVM_HAVE_ELF
        rc = verify_object(vm, &a, log);
#else
        rc = CLI_EXIT_USAGE;
#endif
    }
    ebpfvm_vm_destroy(vm);
    free(log);
    return rc;
}
