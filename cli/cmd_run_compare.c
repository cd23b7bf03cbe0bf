/*
 * cli/cmd_run_compare.c - `ebpfvm run --compare-kernel`: the same object and
 * program loaded into the Linux kernel (xdp/kernel.h), every packet that
 * ebpfvm runs run there too with BPF_PROG_TEST_RUN, and the verdict and the
 * frame (data_meta..data_end) compared; at the end every map compared by
 * name (xdp/kernel_compare.h) and a summary printed.
 *
 * Owns: the kernel object of the run, the per-packet comparison (through
 * cmd_run.c's hook) and its counts, the difference lines and the summary.
 * Invariants: results (difference lines, the summary) go to stdout, set-up
 * failures to stderr with an exit code of cli/util.h; the hook never stops
 * the run for a difference, only for an internal error. Only built with the
 * XDP runtime and libbpf (EBPFVM_HAVE_KERNEL_ORACLE); without it the option
 * is refused (see cmd_run.c).
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"

#if defined(EBPFVM_HAVE_XDP_RUNTIME) && defined(EBPFVM_HAVE_KERNEL_ORACLE)

#include <ebpfvm/loader.h>

#include "cli/run_compare.h"
#include "xdp/kernel.h"
#include "xdp/kernel_compare.h"

/* Difference lines printed without -v (the summary counts them all). */
#define SHOWN_DIFFERENCES 20
/* Map difference lines per map. */
#define MAP_LINES 20

struct run_compare {
    ebpfvm_kernel_obj *kobj;
    bool json, verbose;
    uint64_t packets, agree, shown;
    /* The last packet's outcome, for the JSON fields. */
    bool ran, same;
    const char *what; /* "verdict", "bytes", "run" */
    uint32_t kretval;
    size_t klen, elen, offset;
    uint64_t kfnv;
    char refused[256];
    uint8_t kout[EBPFVM_KERNEL_OUT_MAX];
    /* Map differences, for the JSON summary. */
    char **map_lines;
    size_t nmap_lines;
};

int cli_compare_open(const char *object, const char *section, const char *name, bool json, bool verbose,
                     struct run_compare **out)
{
    static char msg[1 << 16];
    *out = NULL;
    int rc = ebpfvm_kernel_probe(msg, sizeof msg);
    if (rc) {
        cli_error("--compare-kernel: the kernel cannot run XDP programs here: %s", msg);
        return CLI_EXIT_USAGE;
    }
    struct run_compare *c = calloc(1, sizeof *c);
    if (!c) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    c->json = json;
    c->verbose = verbose;
    rc = ebpfvm_kernel_open(object, section, name, &c->kobj, msg, sizeof msg);
    if (rc) {
        cli_error("--compare-kernel: %s", msg);
        free(c);
        return rc == EBPFVM_ERR_IO ? CLI_EXIT_IO
               : rc == EBPFVM_ERR_NOMEM ? CLI_EXIT_INTERNAL
               : rc == EBPFVM_ERR_PERM ? CLI_EXIT_USAGE
                                        : CLI_EXIT_BADPROG;
    }
    *out = c;
    return 0;
}

void cli_compare_close(struct run_compare *c)
{
    if (!c)
        return;
    ebpfvm_kernel_close(c->kobj);
    for (size_t i = 0; i < c->nmap_lines; i++)
        free(c->map_lines[i]);
    free(c->map_lines);
    free(c);
}

static const char *action_text(uint32_t v, char *buf, size_t size)
{
    const char *name = xdp_runner_action_name(v);
    if (name)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%" PRIu32 " (no XDP action)", v);
    return buf;
}

int cli_compare_packet(void *ud, const struct xdp_packet *pkt)
{
    struct run_compare *c = ud;
    struct ebpfvm_kernel_run_result kr;
    c->packets++;
    c->ran = true;
    c->refused[0] = '\0';
    const uint8_t *mine = pkt->out - pkt->meta_len;
    c->elen = pkt->meta_len + pkt->len_out;
    int rc = ebpfvm_kernel_run(c->kobj, pkt->in, pkt->len_in, c->kout, sizeof c->kout, &kr);
    if (rc) {
        c->same = false;
        c->what = "run";
        snprintf(c->refused, sizeof c->refused, "%s", ebpfvm_kernel_errmsg(c->kobj));
        return 0;
    }
    c->kretval = kr.retval;
    c->klen = kr.out_len;
    c->kfnv = xdp_fnv1a64(c->kout, kr.out_len);
    c->offset = ebpfvm_kernel_first_difference(c->kout, kr.out_len, mine, c->elen);
    c->same = kr.retval == pkt->action && c->offset == SIZE_MAX;
    c->what = kr.retval != pkt->action ? "verdict" : "bytes";
    if (c->same)
        c->agree++;
    return 0;
}

void cli_compare_print(struct run_compare *c, const struct xdp_packet *pkt)
{
    if (!c->ran)
        return;
    c->ran = false;
    if (c->json) {
        if (c->refused[0]) {
            fputs(",\"kernel\":{\"agree\":false,\"differs\":\"run\",\"error\":", stdout);
            cli_run_print_json_string(c->refused);
            putchar('}');
            return;
        }
        printf(",\"kernel\":{\"retval\":%" PRIu32 ",\"len_out\":%zu,\"fnv1a64\":\"%016" PRIx64 "\",\"agree\":%s",
               c->kretval, c->klen, c->kfnv, c->same ? "true" : "false");
        if (!c->same) {
            printf(",\"differs\":\"%s\"", c->what);
            if (c->offset != SIZE_MAX)
                printf(",\"offset\":%zu,\"ebpfvm_len\":%zu", c->offset, c->elen);
        }
        putchar('}');
        return;
    }
    if (c->same)
        return;
    c->shown++;
    if (!c->verbose && c->shown > SHOWN_DIFFERENCES)
        return;
    char k[48], e[48];
    if (c->refused[0])
        printf("kernel: packet %" PRIu64 ": the kernel refused to run it: %s\n", pkt->index, c->refused);
    else if (c->kretval != pkt->action)
        printf("kernel: packet %" PRIu64 ": verdict: kernel %s, ebpfvm %s\n", pkt->index,
               action_text(c->kretval, k, sizeof k), action_text(pkt->action, e, sizeof e));
    else {
        const uint8_t *mine = pkt->out - pkt->meta_len;
        char kb[8] = "(end)", eb[8] = "(end)";
        if (c->offset < c->klen)
            snprintf(kb, sizeof kb, "%02x", c->kout[c->offset]);
        if (c->offset < c->elen)
            snprintf(eb, sizeof eb, "%02x", mine[c->offset]);
        printf("kernel: packet %" PRIu64 ": %s: output differs at byte %zu of data_meta..data_end (kernel %zu "
               "bytes, ebpfvm %zu; byte: kernel %s, ebpfvm %s)\n",
               pkt->index, action_text(c->kretval, k, sizeof k), c->offset, c->klen, c->elen, kb, eb);
    }
}

static void on_map_diff(void *ud, const char *map, const char *line)
{
    struct run_compare *c = ud;
    (void)map;
    if (!c->json) {
        printf("kernel: %s\n", line);
        return;
    }
    char **l = realloc(c->map_lines, (c->nmap_lines + 1) * sizeof *l);
    if (!l)
        return;
    c->map_lines = l;
    size_t n = strlen(line) + 1;
    if ((l[c->nmap_lines] = malloc(n)) != NULL)
        memcpy(l[c->nmap_lines++], line, n);
}

int cli_compare_finish(struct run_compare *c, ebpfvm_vm *vm, const ebpfvm_object *obj)
{
    if (!c->json && !c->verbose && c->shown > SHOWN_DIFFERENCES)
        printf("kernel: %" PRIu64 " more packets differ (-v shows every one)\n", c->shown - SHOWN_DIFFERENCES);
    struct ebpfvm_kernel_map_counts mc;
    int rc = ebpfvm_kernel_compare_maps(c->kobj, vm, obj, MAP_LINES, on_map_diff, c, &mc);
    if (rc) {
        cli_error("--compare-kernel: comparing the maps: %s", ebpfvm_strerror(rc));
        return CLI_EXIT_INTERNAL;
    }
    if (c->json) {
        printf("{\"kernel\":{\"program\":");
        cli_run_print_json_string(ebpfvm_kernel_program_name(c->kobj));
        printf(",\"packets\":%" PRIu64 ",\"agree\":%" PRIu64 ",\"maps\":%zu,\"maps_agree\":%zu,\"map_differences\":[",
               c->packets, c->agree, mc.compared, mc.agree);
        for (size_t i = 0; i < c->nmap_lines; i++) {
            if (i)
                putchar(',');
            cli_run_print_json_string(c->map_lines[i]);
        }
        puts("]}}");
    } else {
        printf("kernel: %" PRIu64 "/%" PRIu64 " packets agree (verdict and bytes), maps: %zu/%zu agree\n", c->agree,
               c->packets, mc.agree, mc.compared);
    }
    return c->agree == c->packets && mc.agree == mc.compared ? CLI_EXIT_OK : CLI_EXIT_DIFFERS;
}

#endif
