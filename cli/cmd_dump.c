/*
 * cli/cmd_dump.c - `ebpfvm dump`: the programs of an ELF object as the
 * loader linked them, one instruction per line (llvm-objdump syntax), with
 * map references and helper calls by name; with --jited, the native code
 * of each program as bytes with offsets.
 *
 * Also owns the program selection `ebpfvm run` shares (cli_obj_select,
 * cli_obj_list_programs): -s SECTION / -n NAME, or the first XDP program.
 *
 * Invariant: nothing here knows an opcode beyond "LD_IMM64 with a map
 * pseudo source" and "call"; the text comes from ebpfvm_disasm_insn().
 * Only built with the ELF loader (EBPFVM_HAVE_ELF).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"

#ifdef EBPFVM_HAVE_ELF

#include <ebpfvm/loader.h>
#include <ebpfvm/xdp.h>

/* Shared with cli/cmd_run.c (declared there). */
void cli_obj_list_programs(const ebpfvm_object *obj, FILE *to);
int cli_obj_select(const ebpfvm_object *obj, const char *path, const char *section, const char *name,
                   bool xdp_only, size_t *index);

void cli_help_dump(void)
{
    fputs("Usage: ebpfvm dump PROG.o [-s SECTION | -n PROG] [--jited]\n"
          "\n"
          "Print the programs of an ELF object (clang -target bpf) one instruction\n"
          "per line in llvm-objdump syntax, after linking: subprograms appended\n"
          "after the program, map references shown by name (r1 = map[counters] ll),\n"
          "helper calls by name. Each program starts with a header naming its\n"
          "section and function; each function (the program, then the .text\n"
          "subprograms it uses) starts with a label line <name>:. Calls to\n"
          "subprograms show the target index and name (call pc+N -> M <name>).\n"
          "\n"
          "Options:\n"
          "  -s, --section SECTION  only the programs of SECTION (when no section is\n"
          "                         called so, a bare type name such as `xdp` selects\n"
          "                         the first program of that type)\n"
          "  -n, --name PROG        only the program (function) PROG\n"
          "  --jited                also compile each program with the x86-64 JIT\n"
          "                         (unverified: EBPFVM_JIT_ALLOW_UNVERIFIED) and\n"
          "                         print the native code as bytes with offsets:\n"
          "                         the entry and prologue, then each instruction\n"
          "                         followed by the bytes it became\n"
          "  -h, --help             show this help\n"
          "\n"
          "Exit status: 0 ok, 2 usage error, 3 the object cannot be loaded, no\n"
          "such section/program, or an invalid instruction, 5 I/O error.\n",
          stdout);
}

void cli_obj_list_programs(const ebpfvm_object *obj, FILE *to)
{
    size_t n = ebpfvm_object_program_count(obj);
    if (n == 0) {
        fputs("the object has no programs", to);
        return;
    }
    fputs("programs:", to);
    for (size_t i = 0; i < n; i++)
        fprintf(to, "%s %s (section %s)", i ? "," : "", ebpfvm_object_program_name(obj, i),
                ebpfvm_object_program_section(obj, i));
}

static bool is_xdp(const ebpfvm_object *obj, size_t index)
{
    enum ebpfvm_prog_type type;
    return ebpfvm_object_program_type(obj, index, &type) == 0 && type == EBPFVM_PROG_TYPE_XDP;
}

int cli_obj_select(const ebpfvm_object *obj, const char *path, const char *section, const char *name,
                   bool xdp_only, size_t *index)
{
    if (!section && !name) {
        size_t n = ebpfvm_object_program_count(obj);
        for (size_t i = 0; i < n; i++)
            if (!xdp_only || is_xdp(obj, i)) {
                *index = i;
                return 0;
            }
        fprintf(stderr, "ebpfvm: %s: no %sprogram in %s (", path, xdp_only ? "XDP " : "", path);
        cli_obj_list_programs(obj, stderr);
        fputs(")\n", stderr);
        return CLI_EXIT_BADPROG;
    }
    if (ebpfvm_object_find_program(obj, section, name, index) != 0) {
        fprintf(stderr, "ebpfvm: %s: no program", path);
        if (name)
            fprintf(stderr, " named '%s'", name);
        if (section)
            fprintf(stderr, " in section '%s'", section);
        fputs(" (", stderr);
        cli_obj_list_programs(obj, stderr);
        fputs(")\n", stderr);
        return CLI_EXIT_BADPROG;
    }
    if (xdp_only && !is_xdp(obj, *index)) {
        cli_error("%s: program %s (section %s) is not an XDP program", path,
                  ebpfvm_object_program_name(obj, *index), ebpfvm_object_program_section(obj, *index));
        return CLI_EXIT_BADPROG;
    }
    return 0;
}

static const char *helper_name(void *ud, int32_t id)
{
    (void)ud;
    switch (id) {
#define HELPER_CASE(name, num)                                                                                \
    case num: return #name;
        EBPF_HELPER_IDS(HELPER_CASE)
#undef HELPER_CASE
    default: return NULL;
    }
}

/* The object's name for the map with vm fd `fd`, or NULL. */
static const char *map_name(const ebpfvm_object *obj, int fd)
{
    size_t n = ebpfvm_object_map_count(obj);
    for (size_t i = 0; i < n; i++)
        if (ebpfvm_object_map_fd_at(obj, i) == fd)
            return ebpfvm_object_map_name(obj, i);
    return NULL;
}

/* Replace "map[fd:N]" in line by "map[NAME]" and end map loads with " ll". */
static void name_map_reference(const ebpfvm_object *obj, const struct ebpf_insn *insn, char *line, size_t size)
{
    char pattern[32];
    snprintf(pattern, sizeof pattern, "map[fd:%d]", insn->imm);
    char *at = strstr(line, pattern);
    const char *name = map_name(obj, insn->imm);
    if (!at || !name)
        return;
    char out[512];
    snprintf(out, sizeof out, "%.*smap[%s]%s ll", (int)(at - line), line, name, at + strlen(pattern));
    snprintf(line, size, "%s", out);
}

static void print_bytes(const uint8_t *code, size_t from, size_t to, const char *indent)
{
    for (size_t off = from; off < to; off += 16) {
        printf("%s%04zx:", indent, off);
        for (size_t j = off; j < off + 16 && j < to; j++)
            printf(" %02x", code[j]);
        putchar('\n');
    }
}

/* The native code: with the JIT's offset table, each BPF instruction
 * followed by its bytes; the entry stub and prologue first. */
static void print_native(const ebpfvm_object *obj, const ebpfvm_prog *prog)
{
    size_t size, count = 0;
    const uint8_t *code = ebpfvm_prog_jit_code(prog, &size);
    const uint32_t *offsets = NULL;
    printf("native code: %zu bytes (x86-64)\n", size);
    if (ebpfvm_prog_jit_offsets(prog, &offsets, &count) != 0 || count < 2) {
        print_bytes(code, 0, size, "  ");
        return;
    }
    size_t ninsns;
    const struct ebpf_insn *insns = ebpfvm_prog_insns(prog, &ninsns);
    if (offsets[0] > 0) {
        printf("  (entry and prologue)\n");
        print_bytes(code, 0, offsets[0], "    ");
    }
    char line[512];
    for (size_t pc = 0; pc + 1 < count && pc < ninsns;) {
        int used = ebpfvm_disasm_insn(insns, ninsns, pc, EBPFVM_SYNTAX_LLVM, helper_name, NULL, line, sizeof line);
        if (used == 2 && (insns[pc].src_reg == EBPF_PSEUDO_MAP_FD || insns[pc].src_reg == EBPF_PSEUDO_MAP_VALUE))
            name_map_reference(obj, &insns[pc], line, sizeof line);
        if (used <= 0)
            used = 1;
        size_t next = pc + (size_t)used < count ? pc + (size_t)used : count - 1;
        printf("  %4zu: %s\n", pc, line);
        print_bytes(code, offsets[pc], offsets[next], "    ");
        pc += (size_t)used;
    }
    if (offsets[count - 1] < size)
        print_bytes(code, offsets[count - 1], size, "    ");
}

/* Compile program index and print its native code. 0 or an exit code. */
static int dump_jited(ebpfvm_vm *vm, ebpfvm_object *obj, size_t index)
{
    ebpfvm_prog *prog;
    int status = ebpfvm_object_load_program(obj, index, &prog);
    if (status) {
        cli_error("%s", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        return cli_exit_for_load(status);
    }
    status = ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED);
    if (status || !ebpfvm_prog_is_jitted(prog)) {
        const char *why = ebpfvm_vm_errmsg(vm);
        printf("native code: none (%s)\n", why[0] ? why : ebpfvm_strerror(status ? status : EBPFVM_ERR_UNSUPP));
        return 0;
    }
    print_native(obj, prog);
    return 0;
}

static int dump_program(ebpfvm_vm *vm, ebpfvm_object *obj, const char *path, size_t index, bool jited)
{
    size_t count;
    const struct ebpf_insn *insns = ebpfvm_object_program_insns(obj, index, &count);
    printf("section %s, program %s: %zu instructions\n", ebpfvm_object_program_section(obj, index),
           ebpfvm_object_program_name(obj, index), count);
    int rc = 0;
    char line[512];
    for (size_t pc = 0; pc < count;) {
        int used = ebpfvm_disasm_insn(insns, count, pc, EBPFVM_SYNTAX_LLVM, helper_name, NULL, line, sizeof line);
        const struct ebpf_insn *insn = &insns[pc];
        if (used == 2 && (insn->src_reg == EBPF_PSEUDO_MAP_FD || insn->src_reg == EBPF_PSEUDO_MAP_VALUE))
            name_map_reference(obj, insn, line, sizeof line);
        const char *label = ebpfvm_object_program_func_at(obj, index, pc);
        if (label)
            printf("<%s>:\n", label);
        if (used > 0 && insn->opcode == (EBPF_CLASS_JMP | EBPF_JMP_CALL) && insn->src_reg == EBPF_PSEUDO_CALL_LOCAL) {
            ptrdiff_t target = (ptrdiff_t)pc + 1 + insn->imm;
            const char *callee = target >= 0 ? ebpfvm_object_program_func_at(obj, index, (size_t)target) : NULL;
            if (callee)
                printf("%4zu: %s -> %td <%s>\n", pc, line, target, callee);
            else
                printf("%4zu: %s -> %td\n", pc, line, target);
        } else
            printf("%4zu: %s\n", pc, line);
        if (used < 0) {
            if (!rc)
                cli_error("%s: program %s: insn %zu: %s", path, ebpfvm_object_program_name(obj, index), pc, line);
            rc = CLI_EXIT_BADPROG;
            used = 1;
        }
        pc += (size_t)used;
    }
    if (jited && !rc)
        rc = dump_jited(vm, obj, index);
    return rc;
}

int cli_cmd_dump(int argc, char **argv)
{
    const char *input = NULL, *section = NULL, *name = NULL;
    bool jited = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_dump();
            return CLI_EXIT_OK;
        }
        if (strcmp(arg, "--jited") == 0) {
            jited = true;
            continue;
        }
        if ((r = cli_opt_value("dump", argc, argv, &i, "-s", &section)) != 0 ||
            (r = cli_opt_value("dump", argc, argv, &i, "--section", &section)) != 0 ||
            (r = cli_opt_value("dump", argc, argv, &i, "-n", &name)) != 0 ||
            (r = cli_opt_value("dump", argc, argv, &i, "--name", &name)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error("dump", "unknown option '%s'", arg);
        if (input)
            return cli_usage_error("dump", "more than one object file ('%s' and '%s')", input, arg);
        input = arg;
    }
    if (!input)
        return cli_usage_error("dump", "no object file");

    ebpfvm_vm *vm;
    if (ebpfvm_vm_create(NULL, &vm)) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    ebpfvm_object *obj = NULL;
    int rc;
    int status = ebpfvm_vm_register_std_helpers(vm, NULL);
    if (status) {
        cli_report_vm_error(input, vm, status);
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    status = ebpfvm_object_open(vm, input, NULL, &obj);
    if (status) {
        cli_error("%s", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        rc = cli_exit_for_load(status);
        goto out;
    }
    if (section || name) {
        size_t index;
        rc = cli_obj_select(obj, input, section, name, false, &index);
        if (rc == 0 && !name) {
            /* Every program of the section (a section may hold several);
             * a bare type name selects only the first match. */
            size_t n = ebpfvm_object_program_count(obj), shown = 0;
            for (size_t i = index; i < n && rc == 0; i++) {
                if (i != index && strcmp(ebpfvm_object_program_section(obj, i), section) != 0)
                    continue;
                if (shown++)
                    putchar('\n');
                rc = dump_program(vm, obj, input, i, jited);
            }
        } else if (rc == 0) {
            rc = dump_program(vm, obj, input, index, jited);
        }
    } else {
        size_t n = ebpfvm_object_program_count(obj);
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            if (i)
                putchar('\n');
            int one = dump_program(vm, obj, input, i, jited);
            if (one && !rc)
                rc = one;
        }
    }
out:
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    return rc;
}

#endif /* EBPFVM_HAVE_ELF */
