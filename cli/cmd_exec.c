/*
 * cli/cmd_exec.c - `ebpfvm exec`: load a program (assembly text or raw
 * words) as EBPFVM_PROG_TYPE_MEMORY and run it once on a memory block.
 *
 * Invariants: no helpers are registered (a program that calls one fails to
 * load with "insn N: unknown helper ID", exit 3); programs are unverified,
 * so they run in the checked interpreter unless --fast is given, which sets
 * EBPFVM_RUN_ALLOW_UNVERIFIED_FAST and says so on stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/util.h"

void cli_help_exec(void)
{
    fputs("Usage: ebpfvm exec FILE [--mem HEX | --mem-file PATH] [--checked | --fast]\n"
          "                   [--budget N] [--stats]\n"
          "\n"
          "Load FILE (assembly text if it ends in .asm or .s, raw little-endian\n"
          "words otherwise) as a memory program and run it once: r1 = the memory\n"
          "block, r2 = its length (r1 = 0, r2 = 0 without one). Prints\n"
          "  r0 = 0xHEX (DECIMAL)\n"
          "where DECIMAL is r0 read as a signed 64-bit number. No helpers are\n"
          "registered: a program that calls one fails to load.\n"
          "\n"
          "Options:\n"
          "  --mem HEX        the memory block as hex bytes (\"aa bb 11\" or \"aabb11\")\n"
          "  --mem-file PATH  the memory block is the contents of PATH\n"
          "  --checked        check every memory access and count instructions\n"
          "                   (default: programs are not verified)\n"
          "  --fast           no runtime checks (EBPFVM_RUN_ALLOW_UNVERIFIED_FAST):\n"
          "                   only for programs you trust; a bad access may crash\n"
          "  --budget N       stop with a fault after N instructions (checked mode\n"
          "                   default: 100000000)\n"
          "  --stats          also print the instructions executed and the run time\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 ok, 2 usage error, 3 the program does not assemble or\n"
          "load, 4 runtime fault or budget exhausted, 5 I/O error.\n",
          stdout);
}

struct exec_args {
    const char *input;
    const char *mem_hex;
    const char *mem_file;
    int checked, fast, stats;
    uint64_t budget;
};

static int parse_args(int argc, char **argv, struct exec_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_exec();
            return -1;
        } else if (strcmp(arg, "--checked") == 0) {
            a->checked = 1;
        } else if (strcmp(arg, "--fast") == 0) {
            a->fast = 1;
        } else if (strcmp(arg, "--stats") == 0) {
            a->stats = 1;
        } else if ((r = cli_opt_value("exec", argc, argv, &i, "--mem", &a->mem_hex)) != 0 ||
                   (r = cli_opt_value("exec", argc, argv, &i, "--mem-file", &a->mem_file)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_opt_value("exec", argc, argv, &i, "--budget", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a->budget) != 0 || a->budget == 0)
                return cli_usage_error("exec", "--budget needs a positive number, not '%s'", value);
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("exec", "unknown option '%s'", arg);
        } else if (a->input) {
            return cli_usage_error("exec", "more than one program file ('%s' and '%s')", a->input, arg);
        } else {
            a->input = arg;
        }
    }
    if (!a->input)
        return cli_usage_error("exec", "no program file");
    if (a->checked && a->fast)
        return cli_usage_error("exec", "--checked and --fast exclude each other");
    if (a->mem_hex && a->mem_file)
        return cli_usage_error("exec", "--mem and --mem-file exclude each other");
    return 0;
}

/* The memory block from --mem or --mem-file (NULL/0 when neither). */
static int load_memory(const struct exec_args *a, uint8_t **mem, size_t *size)
{
    *mem = NULL;
    *size = 0;
    if (a->mem_file)
        return cli_read_file(a->mem_file, mem, size);
    if (a->mem_hex) {
        const char *bad;
        if (cli_parse_hex(a->mem_hex, mem, size, &bad) != 0) {
            if (*bad == '\0')
                return cli_usage_error("exec", "--mem: odd number of hex digits");
            return cli_usage_error("exec", "--mem: '%c' at offset %td is not a hex digit", *bad,
                                   bad - a->mem_hex);
        }
    }
    return 0;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int cli_cmd_exec(int argc, char **argv)
{
    struct exec_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;

    ebpfvm_vm *vm = NULL;
    struct ebpf_insn *insns = NULL;
    uint8_t *mem = NULL;
    size_t count = 0, mem_size = 0;
    ebpfvm_prog *prog = NULL;

    if (ebpfvm_vm_create(NULL, &vm)) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    /* The memory first: a bad --mem is a usage error whatever the program. */
    rc = load_memory(&a, &mem, &mem_size);
    if (rc)
        goto out;
    rc = cli_load_words(vm, a.input, CLI_INPUT_AUTO, &insns, &count);
    if (rc)
        goto out;
    if (count == 0) {
        cli_error("%s: the program is empty", a.input);
        rc = CLI_EXIT_BADPROG;
        goto out;
    }

    struct ebpfvm_load_opts lopts = {.sz = sizeof lopts, .prog_type = EBPFVM_PROG_TYPE_MEMORY, .name = a.input};
    int status = ebpfvm_prog_load(vm, insns, count, &lopts, &prog);
    if (status) {
        cli_report_vm_error(a.input, vm, status);
        rc = cli_exit_for_load(status);
        goto out;
    }

    struct ebpfvm_run_opts ropts = {.sz = sizeof ropts, .insn_budget = a.budget};
    if (a.fast) {
        ropts.mode = EBPFVM_EXEC_FAST;
        ropts.flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
        cli_error("%s: warning: running an unverified program in fast mode, without memory checks", a.input);
    } else {
        ropts.mode = EBPFVM_EXEC_CHECKED;
    }
    struct ebpfvm_run_result result;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    status = ebpfvm_prog_run(prog, mem, mem_size, &ropts, &result);
    double elapsed = seconds_since(&start);
    if (status) {
        cli_error("%s: %s", a.input, result.message[0] ? result.message : ebpfvm_strerror(status));
        rc = status == EBPFVM_ERR_FAULT || status == EBPFVM_ERR_BUDGET ? CLI_EXIT_FAULT : CLI_EXIT_INTERNAL;
        goto out;
    }
    printf("r0 = 0x%" PRIx64 " (%" PRId64 ")\n", result.r0, (int64_t)result.r0);
    if (a.stats) {
        if (ropts.mode == EBPFVM_EXEC_FAST && a.budget == 0)
            printf("executed: not counted (fast mode without --budget)\n");
        else
            printf("executed: %" PRIu64 " instructions\n", result.insns_executed);
        printf("time: %.3f us (%s mode)\n", elapsed * 1e6, a.fast ? "fast" : "checked");
    }
    rc = CLI_EXIT_OK;
out:
    free(mem);
    free(insns);
    ebpfvm_vm_destroy(vm);
    return rc;
}
