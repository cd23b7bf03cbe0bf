/*
 * cli/main.c - the `ebpfvm` command: global options and dispatch to the
 * subcommands (cli/cmd_*.c).
 *
 * Commands: asm, disasm, exec; dump (with the ELF loader, EBPFVM_HAVE_ELF);
 * run (with the XDP runtime, EBPFVM_HAVE_XDP_RUNTIME); verify (cmd_verify.c).
 *
 * Exit status (the contract scripts rely on; also in --help):
 *   0  success
 *   1  internal error (out of memory)
 *   2  usage error (unknown command or option, missing argument)
 *   3  bad program (assembly error, load-time check or verifier rejection)
 *   4  runtime fault (checked-mode fault, helper fault, budget exhausted)
 *   5  I/O error (missing or unreadable file, .bin size not a multiple of 8)
 * Diagnostics go to stderr as "ebpfvm: FILE: insn N: reason"; results go to
 * stdout. The command never crashes on bad input: programs run in the
 * checked interpreter unless --fast is asked for.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "cli/util.h"

/* cli/cmd_run.c and cli/cmd_dump.c (declared here: cli/util.h belongs to
 * the command's shared code). */
int cli_cmd_run(int argc, char **argv);
void cli_help_run(void);
int cli_cmd_dump(int argc, char **argv);
void cli_help_dump(void);
int cli_cmd_verify(int argc, char **argv);
void cli_help_verify(void);

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*help)(void);
    const char *summary;
};

static const struct command commands[] = {
    {"asm", cli_cmd_asm, cli_help_asm, "assemble mnemonic text into raw instruction words"},
    {"disasm", cli_cmd_disasm, cli_help_disasm, "print a program one instruction per line"},
    {"exec", cli_cmd_exec, cli_help_exec, "run a program once on a memory block"},
    {"verify", cli_cmd_verify, cli_help_verify, "prove programs safe with the static verifier"},
#ifdef EBPFVM_HAVE_XDP_RUNTIME
    {"run", cli_cmd_run, cli_help_run, "run an XDP program of an ELF object over a pcap capture"},
#endif
#ifdef EBPFVM_HAVE_ELF
    {"dump", cli_cmd_dump, cli_help_dump, "disassemble the programs of an ELF object"},
#endif
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help(void)
{
    fputs("Usage: ebpfvm COMMAND [ARGS...]\n"
          "       ebpfvm --help | --version\n"
          "       ebpfvm COMMAND --help\n"
          "\n"
          "An embeddable eBPF virtual machine.\n"
          "\n"
          "Commands:\n",
          stdout);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  internal error (out of memory)\n"
          "  2  usage error\n"
          "  3  bad program (assembly error, load or verify failure)\n"
          "  4  runtime fault (memory fault, helper fault, budget exhausted)\n"
          "  5  I/O error (missing or unreadable file, truncated .bin or capture)\n",
          stdout);
}

static int finish(int rc)
{
    /* Output that could not be written is an I/O error too. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("error writing to standard output");
        if (rc == CLI_EXIT_OK)
            rc = CLI_EXIT_IO;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    commands[i].help();
                    return finish(CLI_EXIT_OK);
                }
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        help();
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("ebpfvm %d.%d.%d\n", EBPFVM_VERSION_MAJOR, EBPFVM_VERSION_MINOR, EBPFVM_VERSION_PATCH);
        return finish(CLI_EXIT_OK);
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return finish(commands[i].run(argc - 1, argv + 1));
    if (cmd[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
