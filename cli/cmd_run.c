/*
 * cli/cmd_run.c - `ebpfvm run PROG.o --pcap IN`: load an XDP program from an
 * ELF object and run it over every packet of a capture with the runner
 * library (xdp/runner.h), then print a summary per action.
 *
 * Owns: the command's options and output formats (text, -v lines, --json
 * lines), the engine choice and its warnings, the map dump, the progress
 * line, the per-packet hook (struct run_hook) a kernel comparison plugs into.
 * Invariants: every failure prints one diagnostic and maps to the exit-code
 * contract of cli/util.h; results go to stdout, diagnostics, warnings,
 * trace_printk output and the progress line to stderr. Only built with the
 * XDP runtime (EBPFVM_HAVE_XDP_RUNTIME).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/util.h"

#ifdef EBPFVM_HAVE_XDP_RUNTIME

#include <ebpfvm/loader.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "xdp/runner.h"

#ifdef EBPFVM_HAVE_KERNEL_ORACLE
#include "cli/run_compare.h"
#else
#define CLI_EXIT_DIFFERS 6
void cli_run_print_json_string(const char *s);
#endif

/* cli/cmd_dump.c */
void cli_obj_list_programs(const ebpfvm_object *obj, FILE *to);
int cli_obj_select(const ebpfvm_object *obj, const char *path, const char *section, const char *name,
                   bool xdp_only, size_t *index);

void cli_help_run(void)
{
    fputs("Usage: ebpfvm run PROG.o --pcap IN [options]\n"
          "\n"
          "Run an XDP program of an ELF object (clang -target bpf, libbpf's\n"
          "conventions) on every packet of a capture (pcap or pcapng, Ethernet\n"
          "only) and print how many packets and bytes each action got.\n"
          "\n"
          "Program:\n"
          "  -s, --section SECTION  the program in SECTION (default: the first XDP\n"
          "                         program of the object)\n"
          "  -n, --name PROG        the program (function) called PROG\n"
          "Engine: the program is verified first (as `ebpfvm verify` does); a\n"
          "rejected program is not run (exit 3) unless --unverified is given.\n"
          "A verified program runs as native code by default (x86-64; elsewhere,\n"
          "or when the JIT cannot compile it, in the fast interpreter).\n"
          "  --jit                  native code (the default for verified programs)\n"
          "  --fast                 the fast interpreter (no runtime checks)\n"
          "  --interp               the checked interpreter: every memory access\n"
          "                         checked, faults reported\n"
          "  --unverified           skip the verifier: run in the checked\n"
          "                         interpreter, or with --fast/--jit WITHOUT memory\n"
          "                         checks (a warning says so)\n"
          "  --budget N             checked mode: fault after N instructions per packet\n"
          "Packets:\n"
          "  --pcap IN              the capture to read (required)\n"
          "  -c, --count N          stop after N packets\n"
          "  --ifindex N            ingress_ifindex of every packet (default 1)\n"
          "  --rx-queue N           rx_queue_index of every packet (default 0)\n"
          "  --real-time            bpf_ktime_get_ns reads the clock; by default it\n"
          "                         returns the packet's capture timestamp in ns\n"
          "  --seed N               bpf_get_prandom_u32 of packet I is seeded with\n"
          "                         N + I (default N = 0x5eed): runs are reproducible\n"
          "  --route PREFIX/LEN,dev=IFINDEX[,via=GATEWAY][,smac=MAC][,dmac=MAC][,mtu=N]\n"
          "                         a route bpf_fib_lookup finds (repeatable, IPv4 or\n"
          "                         IPv6, longest prefix wins; MAC as 02:00:00:00:00:01;\n"
          "                         mtu default 1500). No route: \"not forwarded\"\n"
          "Output:\n"
          "  -w, --write OUT        write the packets that leave (XDP_PASS, XDP_TX,\n"
          "                         XDP_REDIRECT), as the program left them, to OUT:\n"
          "                         pcapng with a comment \"action=XDP_TX index=N\"\n"
          "                         (and \" redirect=...\") on each packet, or classic\n"
          "                         pcap (nanosecond timestamps, no verdicts) when\n"
          "                         OUT ends in .pcap\n"
          "  -v, --verbose          one line per packet: index, length in -> out,\n"
          "                         action, redirect target\n"
          "  --json                 JSON lines on stdout: one object per packet\n"
          "                         {\"index\",\"action\",\"retval\",\"len_in\",\"len_out\",\n"
          "                         \"fnv1a64\"} (FNV-1a 64 of the output bytes, as 16\n"
          "                         hex digits; with -v also \"hex\": the bytes), then\n"
          "                         {\"summary\":...} and with --dump-maps {\"maps\":...}\n"
          "  --dump-maps            print every map of the object at the end\n"
          "Kernel comparison:\n"
          "  --compare-kernel       also load the object into the Linux kernel (the\n"
          "                         same program), run every packet there too\n"
          "                         (BPF_PROG_TEST_RUN, on CPU 0 as ebpfvm) and report\n"
          "                         each packet whose verdict or frame (data_meta to\n"
          "                         data_end) differs: \"kernel: packet N: ...\" (the\n"
          "                         first 20 without -v); at the end compare every map\n"
          "                         by name (entries on one side only, differing values;\n"
          "                         per-CPU maps: CPU 0) and print \"kernel: A/N packets\n"
          "                         agree (verdict and bytes), maps: B/M agree\". With\n"
          "                         --json: a \"kernel\" object in each packet's line and\n"
          "                         a final {\"kernel\":...} line. Needs bpf() (root, or\n"
          "                         CAP_BPF and CAP_NET_ADMIN). The kernel always runs\n"
          "                         with ingress_ifindex 1 (loopback) and rx queue 0,\n"
          "                         its own clock, random numbers and routing table:\n"
          "                         programs that use them differ. Tail-call prog\n"
          "                         arrays start empty on both sides (neither fills\n"
          "                         them from the object): tail calls fail alike.\n"
          "  -h, --help             show this help\n"
          "\n"
          "Packets longer than a frame holds (3520 bytes) or shorter than an\n"
          "Ethernet header are not run: a warning, and they are counted as\n"
          "\"oversize\" / \"runt\". A return value that is no XDP action is counted\n"
          "as \"invalid action N\" and the packet is dropped, as the kernel does.\n"
          "Bytes per action are input bytes. bpf_trace_printk output goes to stderr\n"
          "as \"trace: packet N: MESSAGE\".\n"
          "\n"
          "Exit status: 0 ok, 2 usage error, 3 the object cannot be loaded or has\n"
          "no such (XDP) program, 4 runtime fault (\"packet N: insn K: ...\"),\n"
          "5 I/O error (missing object or capture, truncated or corrupt capture,\n"
          "link type other than Ethernet, write error), 6 --compare-kernel found a\n"
          "difference from the kernel. With --compare-kernel, bpf() unavailable (not\n"
          "root) is a usage error (2, with the reason) and an object or program the\n"
          "kernel refuses is 3 (with the kernel verifier's log).\n",
          stdout);
}

enum engine { ENGINE_INTERP = 0, ENGINE_FAST, ENGINE_JIT };

#define MAX_ROUTES 64

struct run_args {
    const char *object, *pcap, *section, *name, *write;
    struct ebpfvm_fib_route routes[MAX_ROUTES];
    size_t nroutes;
    enum engine engine;
    int engines_given;
    bool unverified;
    bool verbose, json, dump_maps, real_time, compare_kernel;
    uint64_t count, seed, ifindex, rx_queue, budget;
};

/*
 * The per-packet hook: called for every packet that ran (not for skipped
 * ones) with the packet as the runner saw it: pkt->index, the input bytes
 * (pkt->in, len_in), our verdict (pkt->action, retval, bucket) and our
 * output bytes (pkt->out, len_out, preceded by meta_len bytes of metadata,
 * for every packet that ran; pkt->leaves says whether it is written out).
 * A non-zero return stops the run with that exit code (print the reason
 * first). The kernel comparison (xdp/kernel.h: BPF_PROG_TEST_RUN returns
 * data_meta..data_end) plugs in here: set st.hook.fn/ud in cli_cmd_run
 * after the program is loaded.
 */
struct run_hook {
    int (*fn)(void *ud, const struct xdp_packet *pkt);
    /* After fn, while the packet's line is printed: with --json inside the
     * packet's object (",\"key\":..." fields), else after the -v line. */
    void (*print)(void *ud, const struct xdp_packet *pkt);
    void *ud;
};

struct run_state {
    const struct run_args *args;
    xdp_runner *runner;
    struct run_hook hook;
    bool progress;          /* stderr is a terminal */
    double next_progress;
    bool progress_shown;
};

static int parse_u32_opt(const char *opt, const char *value, uint64_t *out)
{
    if (cli_parse_u64(value, out) != 0 || *out > UINT32_MAX)
        return cli_usage_error("run", "%s needs a number from 0 to 4294967295, not '%s'", opt, value);
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char end;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

/* PREFIX/LEN,dev=N[,via=ADDR][,smac=MAC][,dmac=MAC][,mtu=N] */
static int parse_route(const char *spec, struct ebpfvm_fib_route *route)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return cli_usage_error("run", "--route '%s': too long", spec);
    strcpy(buf, spec);
    memset(route, 0, sizeof *route);
    char *save = NULL, *field = strtok_r(buf, ",", &save);
    char *slash = field ? strchr(field, '/') : NULL;
    uint64_t value;
    if (!slash)
        return cli_usage_error("run", "--route '%s': expected PREFIX/LEN first", spec);
    *slash = '\0';
    if (inet_pton(AF_INET, field, route->dst) == 1)
        route->family = 2;
    else if (inet_pton(AF_INET6, field, route->dst) == 1)
        route->family = 10;
    else
        return cli_usage_error("run", "--route '%s': '%s' is not an IPv4 or IPv6 address", spec, field);
    if (cli_parse_u64(slash + 1, &value) != 0 || value > (route->family == 2 ? 32u : 128u))
        return cli_usage_error("run", "--route '%s': bad prefix length '%s'", spec, slash + 1);
    route->prefixlen = (uint8_t)value;
    bool have_dev = false;
    while ((field = strtok_r(NULL, ",", &save)) != NULL) {
        char *eq = strchr(field, '=');
        if (!eq)
            return cli_usage_error("run", "--route '%s': '%s' is not KEY=VALUE", spec, field);
        *eq = '\0';
        const char *key = field, *val = eq + 1;
        if (strcmp(key, "dev") == 0) {
            if (cli_parse_u64(val, &value) != 0 || value == 0 || value > UINT32_MAX)
                return cli_usage_error("run", "--route '%s': bad dev '%s' (an ifindex)", spec, val);
            route->ifindex = (uint32_t)value;
            have_dev = true;
        } else if (strcmp(key, "via") == 0) {
            if (inet_pton(route->family == 2 ? AF_INET : AF_INET6, val, route->gateway) != 1)
                return cli_usage_error("run", "--route '%s': bad gateway '%s'", spec, val);
        } else if (strcmp(key, "smac") == 0 || strcmp(key, "dmac") == 0) {
            if (parse_mac(val, key[0] == 's' ? route->smac : route->dmac) != 0)
                return cli_usage_error("run", "--route '%s': bad MAC address '%s'", spec, val);
        } else if (strcmp(key, "mtu") == 0) {
            if (cli_parse_u64(val, &value) != 0 || value == 0 || value > UINT16_MAX)
                return cli_usage_error("run", "--route '%s': bad mtu '%s'", spec, val);
            route->mtu = (uint16_t)value;
        } else {
            return cli_usage_error("run", "--route '%s': unknown key '%s' (dev, via, smac, dmac, mtu)", spec, key);
        }
    }
    if (!have_dev)
        return cli_usage_error("run", "--route '%s': dev=IFINDEX is required", spec);
    return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    memset(a, 0, sizeof *a);
    a->ifindex = 1;
    a->seed = XDP_RUNNER_DEFAULT_SEED;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        int r;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help_run();
            return -1;
        } else if (strcmp(arg, "--interp") == 0 || strcmp(arg, "--fast") == 0 || strcmp(arg, "--jit") == 0) {
            a->engine = arg[2] == 'i' ? ENGINE_INTERP : arg[2] == 'f' ? ENGINE_FAST : ENGINE_JIT;
            a->engines_given++;
        } else if (strcmp(arg, "--unverified") == 0) {
            a->unverified = true;
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            a->verbose = true;
        } else if (strcmp(arg, "--json") == 0) {
            a->json = true;
        } else if (strcmp(arg, "--dump-maps") == 0) {
            a->dump_maps = true;
        } else if (strcmp(arg, "--real-time") == 0) {
            a->real_time = true;
        } else if (strcmp(arg, "--compare-kernel") == 0) {
            a->compare_kernel = true;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--pcap", &a->pcap)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "-s", &a->section)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "--section", &a->section)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "-n", &a->name)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "--name", &a->name)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "-w", &a->write)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "--write", &a->write)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "-c", &value)) != 0 ||
                   (r = cli_opt_value("run", argc, argv, &i, "--count", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a->count) != 0 || a->count == 0)
                return cli_usage_error("run", "-c needs a positive number, not '%s'", value);
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--budget", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a->budget) != 0 || a->budget == 0)
                return cli_usage_error("run", "--budget needs a positive number, not '%s'", value);
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--seed", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(value, &a->seed) != 0 || a->seed == 0)
                return cli_usage_error("run", "--seed needs a positive number, not '%s'", value);
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--route", &value)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (a->nroutes == MAX_ROUTES)
                return cli_usage_error("run", "more than %d routes", MAX_ROUTES);
            if (parse_route(value, &a->routes[a->nroutes]) != 0)
                return CLI_EXIT_USAGE;
            a->nroutes++;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--ifindex", &value)) != 0) {
            if (r < 0 || parse_u32_opt("--ifindex", value, &a->ifindex))
                return CLI_EXIT_USAGE;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--rx-queue", &value)) != 0) {
            if (r < 0 || parse_u32_opt("--rx-queue", value, &a->rx_queue))
                return CLI_EXIT_USAGE;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("run", "unknown option '%s'", arg);
        } else if (a->object) {
            return cli_usage_error("run", "more than one object file ('%s' and '%s')", a->object, arg);
        } else {
            a->object = arg;
        }
    }
    if (!a->object)
        return cli_usage_error("run", "no object file");
    if (!a->pcap)
        return cli_usage_error("run", "no capture: --pcap IN is required");
    if (a->engines_given > 1)
        return cli_usage_error("run", "--interp, --fast and --jit exclude each other");
    if (a->engines_given == 0)
        a->engine = a->unverified ? ENGINE_INTERP : ENGINE_JIT;
    if (a->budget && a->engine != ENGINE_INTERP)
        return cli_usage_error("run", "--budget only applies to the checked interpreter (--interp)");
    struct stat in_st, out_st;
    if (a->write && stat(a->pcap, &in_st) == 0 && stat(a->write, &out_st) == 0 && in_st.st_dev == out_st.st_dev &&
        in_st.st_ino == out_st.st_ino)
        return cli_usage_error("run", "-w %s would overwrite the capture being read", a->write);
    return 0;
}

/* --------------------------------------------------------- output */

static void print_hex(FILE *to, const uint8_t *p, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++)
        fprintf(to, "%s%02x", i && sep ? sep : "", p[i]);
}

/* s as a JSON string, quotes included. */
void cli_run_print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_redirect_text(const struct xdp_packet *pkt)
{
    const struct ebpfvm_xdp_buff *b = pkt->buff;
    if (pkt->bucket != XDP_RUNNER_REDIRECT || !b)
        return;
    if (b->redirect_kind == EBPFVM_XDP_REDIRECT_IFINDEX)
        printf(" to ifindex %" PRIu32, b->redirect_ifindex);
    else if (b->redirect_kind == EBPFVM_XDP_REDIRECT_MAP)
        printf(" via map fd %" PRId32 " key %" PRIu32 " (target %" PRIu32 ")", b->redirect_map_fd,
               b->redirect_ifindex, b->redirect_target);
}

static void print_packet_text(const struct xdp_packet *pkt)
{
    printf("packet %" PRIu64 ": %zu bytes -> ", pkt->index, pkt->len_in);
    if (pkt->bucket == XDP_RUNNER_OVERSIZE || pkt->bucket == XDP_RUNNER_RUNT)
        printf("skipped (%s)\n", xdp_runner_bucket_name(pkt->bucket));
    else if (pkt->bucket == XDP_RUNNER_INVALID)
        printf("invalid action %" PRIu32 " (dropped)\n", pkt->action);
    else if (pkt->leaves) {
        printf("%s, %zu bytes out", xdp_runner_bucket_name(pkt->bucket), pkt->len_out);
        print_redirect_text(pkt);
        putchar('\n');
    } else
        printf("%s\n", xdp_runner_bucket_name(pkt->bucket));
}

static void print_packet_json(const struct xdp_packet *pkt, bool with_hex, const struct run_hook *hook)
{
    printf("{\"index\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",", pkt->index, pkt->ts_ns);
    if (pkt->bucket == XDP_RUNNER_OVERSIZE || pkt->bucket == XDP_RUNNER_RUNT) {
        printf("\"action\":\"skipped\",\"reason\":\"%s\",\"len_in\":%zu}\n", xdp_runner_bucket_name(pkt->bucket),
               pkt->len_in);
        return;
    }
    printf("\"action\":\"%s\",\"retval\":%" PRIu64 ",\"len_in\":%zu",
           pkt->bucket == XDP_RUNNER_INVALID ? "invalid" : xdp_runner_bucket_name(pkt->bucket), pkt->retval,
           pkt->len_in);
    if (pkt->leaves) {
        printf(",\"len_out\":%zu,\"fnv1a64\":\"%016" PRIx64 "\"", pkt->len_out, xdp_fnv1a64(pkt->out, pkt->len_out));
        if (with_hex) {
            fputs(",\"hex\":\"", stdout);
            print_hex(stdout, pkt->out, pkt->len_out, NULL);
            putchar('"');
        }
        const struct ebpfvm_xdp_buff *b = pkt->buff;
        if (pkt->bucket == XDP_RUNNER_REDIRECT && b->redirect_kind == EBPFVM_XDP_REDIRECT_IFINDEX)
            printf(",\"redirect\":{\"ifindex\":%" PRIu32 "}", b->redirect_ifindex);
        else if (pkt->bucket == XDP_RUNNER_REDIRECT && b->redirect_kind == EBPFVM_XDP_REDIRECT_MAP)
            printf(",\"redirect\":{\"map_fd\":%" PRId32 ",\"key\":%" PRIu32 ",\"target\":%" PRIu32 "}",
                   b->redirect_map_fd, b->redirect_ifindex, b->redirect_target);
    } else {
        printf(",\"len_out\":0");
    }
    if (hook->print)
        hook->print(hook->ud, pkt);
    puts("}");
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_packet(void *ud, const struct xdp_packet *pkt)
{
    struct run_state *st = ud;
    if (st->hook.fn && pkt->buff) {
        int rc = st->hook.fn(st->hook.ud, pkt);
        if (rc)
            return rc;
    }
    if (st->args->json) {
        print_packet_json(pkt, st->args->verbose, &st->hook);
    } else {
        if (st->args->verbose)
            print_packet_text(pkt);
        if (st->hook.print)
            st->hook.print(st->hook.ud, pkt);
    }
    if (st->progress && (pkt->index & 1023) == 0) {
        double now = now_seconds();
        if (now >= st->next_progress) {
            fprintf(stderr, "\r%" PRIu64 " packets", pkt->index + 1);
            st->next_progress = now + 0.5;
            st->progress_shown = true;
        }
    }
    return 0;
}

static void on_warn(void *ud, uint64_t index, const char *msg)
{
    struct run_state *st = ud;
    (void)index;
    if (st->progress_shown) {
        fputs("\r\033[K", stderr);
        st->progress_shown = false;
    }
    cli_error("%s: warning: %s", st->args->pcap, msg);
}

static void on_trace(void *ud, const char *msg)
{
    struct run_state *st = ud;
    fprintf(stderr, "trace: packet %" PRIu64 ": %s\n", st->runner ? xdp_runner_current(st->runner) : 0, msg);
}

static void print_summary_text(const struct run_args *a, const struct xdp_runner_stats *s, const char *engine)
{
    printf("%s: %" PRIu64 " packets, %" PRIu64 " bytes (%s)\n", a->pcap, s->total_packets, s->total_bytes, engine);
    printf("%-22s %12s %14s %8s\n", "action", "packets", "bytes", "share");
    for (int b = 0; b < XDP_RUNNER_NBUCKETS; b++) {
        if (b >= XDP_RUNNER_INVALID && s->packets[b] == 0)
            continue;
        double share = s->total_packets ? 100.0 * (double)s->packets[b] / (double)s->total_packets : 0.0;
        char label[40];
        snprintf(label, sizeof label, "%s%s", xdp_runner_bucket_name(b),
                 b >= XDP_RUNNER_OVERSIZE ? " (skipped)" : b == XDP_RUNNER_INVALID ? " (dropped)" : "");
        printf("%-22s %12" PRIu64 " %14" PRIu64 " %7.1f%%\n", label, s->packets[b], s->bytes[b], share);
        if (b == XDP_RUNNER_INVALID)
            for (size_t i = 0; i < s->ninvalid; i++) {
                snprintf(label, sizeof label, "  invalid action %" PRIu32, s->invalid[i].value);
                printf("%-22s %12" PRIu64 "\n", label, s->invalid[i].packets);
            }
    }
    double pps = s->seconds > 0 ? (double)s->total_packets / s->seconds : 0.0;
    printf("time: %.6f s, %.0f packets/s", s->seconds, pps);
    if (s->total_packets)
        printf(", %.0f ns/packet in the program", s->run_seconds * 1e9 / (double)s->total_packets);
    putchar('\n');
}

static void print_summary_json(const struct xdp_runner_stats *s, const char *engine)
{
    printf("{\"summary\":{\"engine\":\"%s\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"actions\":{", engine,
           s->total_packets, s->total_bytes);
    for (int b = 0; b < XDP_RUNNER_NBUCKETS; b++)
        printf("%s\"%s\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", b ? "," : "", xdp_runner_bucket_name(b),
               s->packets[b], s->bytes[b]);
    printf("},\"invalid_actions\":[");
    for (size_t i = 0; i < s->ninvalid; i++)
        printf("%s{\"value\":%" PRIu32 ",\"packets\":%" PRIu64 "}", i ? "," : "", s->invalid[i].value,
               s->invalid[i].packets);
    double pps = s->seconds > 0 ? (double)s->total_packets / s->seconds : 0.0;
    printf("],\"seconds\":%.9f,\"pps\":%.0f}}\n", s->seconds, pps);
}

/* ------------------------------------------------------- map dump */

static const char *map_type_name(enum ebpfvm_map_type type)
{
    switch (type) {
    case EBPFVM_MAP_HASH: return "hash";
    case EBPFVM_MAP_ARRAY: return "array";
    case EBPFVM_MAP_PROG_ARRAY: return "prog_array";
    case EBPFVM_MAP_PERF_EVENT_ARRAY: return "perf_event_array";
    case EBPFVM_MAP_PERCPU_HASH: return "percpu_hash";
    case EBPFVM_MAP_PERCPU_ARRAY: return "percpu_array";
    case EBPFVM_MAP_LRU_HASH: return "lru_hash";
    case EBPFVM_MAP_LRU_PERCPU_HASH: return "lru_percpu_hash";
    case EBPFVM_MAP_LPM_TRIE: return "lpm_trie";
    case EBPFVM_MAP_ARRAY_OF_MAPS: return "array_of_maps";
    case EBPFVM_MAP_HASH_OF_MAPS: return "hash_of_maps";
    case EBPFVM_MAP_DEVMAP: return "devmap";
    case EBPFVM_MAP_XSKMAP: return "xskmap";
    case EBPFVM_MAP_DEVMAP_HASH: return "devmap_hash";
    case EBPFVM_MAP_RINGBUF: return "ringbuf";
    case EBPFVM_MAP_USER_RINGBUF: return "user_ringbuf";
    case EBPFVM_MAP_SK_STORAGE: return "sk_storage";
    case EBPFVM_MAP_SOCKMAP: return "sockmap";
    case EBPFVM_MAP_SOCKHASH: return "sockhash";
    case EBPFVM_MAP_REUSEPORT_SOCKARRAY: return "reuseport_sockarray";
    }
    return "unknown";
}

static bool is_percpu(enum ebpfvm_map_type type)
{
    return type == EBPFVM_MAP_PERCPU_ARRAY || type == EBPFVM_MAP_PERCPU_HASH ||
           type == EBPFVM_MAP_LRU_PERCPU_HASH;
}

/* Print one map; ncpus: the vm's CPU count (per-CPU values). 0 or exit code. */
static int dump_map(ebpfvm_vm *vm, const ebpfvm_object *obj, size_t index, uint32_t ncpus, bool json, bool first)
{
    int fd = ebpfvm_object_map_fd_at(obj, index);
    struct ebpfvm_map_info info;
    if (ebpfvm_map_get_info(vm, fd, &info) != 0)
        return 0;
    const char *name = ebpfvm_object_map_name(obj, index);
    bool percpu = is_percpu(info.type);
    size_t stride = percpu ? ((size_t)info.value_size + 7) / 8 * 8 : info.value_size;
    size_t vsize = percpu ? stride * ncpus : info.value_size;
    if (json) {
        printf("%s{\"name\":", first ? "" : ",");
        cli_run_print_json_string(name);
        printf(",\"fd\":%d,\"type\":\"%s\",\"type_id\":%d,\"key_size\":%" PRIu32 ",\"value_size\":%" PRIu32
               ",\"max_entries\":%" PRIu32 ",\"entries\":[",
               fd, map_type_name(info.type), (int)info.type, info.key_size, info.value_size, info.max_entries);
    }
    else
        printf("map %s: %s, key %" PRIu32 " bytes, value %" PRIu32 " bytes, max_entries %" PRIu32 "\n", name,
               map_type_name(info.type), info.key_size, info.value_size, info.max_entries);
    uint8_t *key = malloc(info.key_size + 1), *next = malloc(info.key_size + 1), *value = malloc(vsize + 1);
    if (!key || !next || !value) {
        free(key);
        free(next);
        free(value);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    size_t shown = 0;
    int status = info.key_size ? ebpfvm_map_get_next_key(vm, fd, NULL, next) : EBPFVM_ERR_UNSUPP;
    while (status == 0) {
        memcpy(key, next, info.key_size);
        int found = ebpfvm_map_lookup(vm, fd, key, value);
        if (found == 0) {
            if (json) {
                printf("%s{\"key\":\"", shown ? "," : "");
                print_hex(stdout, key, info.key_size, NULL);
                if (percpu) {
                    fputs("\",\"values\":[", stdout);
                    for (uint32_t c = 0; c < ncpus; c++) {
                        printf("%s\"", c ? "," : "");
                        print_hex(stdout, value + c * stride, info.value_size, NULL);
                        putchar('"');
                    }
                    fputs("]}", stdout);
                } else {
                    fputs("\",\"value\":\"", stdout);
                    print_hex(stdout, value, info.value_size, NULL);
                    fputs("\"}", stdout);
                }
            } else {
                fputs("  key ", stdout);
                print_hex(stdout, key, info.key_size, " ");
                if (percpu) {
                    putchar('\n');
                    for (uint32_t c = 0; c < ncpus; c++) {
                        printf("    cpu %" PRIu32 ": ", c);
                        print_hex(stdout, value + c * stride, info.value_size, " ");
                        putchar('\n');
                    }
                } else {
                    fputs(": ", stdout);
                    print_hex(stdout, value, info.value_size, " ");
                    putchar('\n');
                }
            }
            shown++;
        }
        status = ebpfvm_map_get_next_key(vm, fd, key, next);
    }
    if (json)
        fputs("]}", stdout);
    else if (shown == 0)
        printf("  %s\n", status == EBPFVM_ERR_NOENT ? "(empty)" : "(entries not readable)");
    free(key);
    free(next);
    free(value);
    return 0;
}

static int dump_maps(ebpfvm_vm *vm, const ebpfvm_object *obj, bool json)
{
    size_t n = ebpfvm_object_map_count(obj);
    if (json)
        fputs("{\"maps\":[", stdout);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = dump_map(vm, obj, i, 1, json, i == 0);
    if (json)
        fputs("]}\n", stdout);
    return rc;
}

/* ------------------------------------------------------------ run */

static int exit_for_run(int status)
{
    switch (status) {
    case EBPFVM_ERR_FAULT:
    case EBPFVM_ERR_BUDGET: return CLI_EXIT_FAULT;
    case EBPFVM_ERR_IO:
    case EBPFVM_ERR_FORMAT: return CLI_EXIT_IO;
    case EBPFVM_ERR_NOMEM: return CLI_EXIT_INTERNAL;
    default: return status > 0 ? status : CLI_EXIT_INTERNAL;
    }
}

#ifdef EBPFVM_HAVE_KERNEL_ORACLE
static void compare_print(void *ud, const struct xdp_packet *pkt)
{
    cli_compare_print(ud, pkt);
}

/* What the kernel cannot be given: said once, before the run. */
static void compare_notes(const struct run_args *a)
{
    if (a->ifindex != 1 || a->rx_queue != 0)
        cli_error("%s: note: the kernel runs every packet with ingress_ifindex 1 and rx_queue_index 0, not "
                  "--ifindex %" PRIu64 " --rx-queue %" PRIu64,
                  a->object, a->ifindex, a->rx_queue);
    if (a->nroutes)
        cli_error("%s: note: bpf_fib_lookup in the kernel uses the kernel's routing table, not --route", a->object);
}
#endif

int cli_cmd_run(int argc, char **argv)
{
    struct run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;

    struct run_state st = {.args = &a, .progress = isatty(STDERR_FILENO) == 1};
    ebpfvm_vm *vm = NULL;
    ebpfvm_object *obj = NULL;
    xdp_runner *runner = NULL;
    xdp_pcap_writer *writer = NULL;
    ebpfvm_prog *prog = NULL;
#ifdef EBPFVM_HAVE_KERNEL_ORACLE
    struct run_compare *cmp = NULL;
#else
    if (a.compare_kernel)
        return cli_usage_error("run", "--compare-kernel: this ebpfvm was built without libbpf (no kernel oracle)");
#endif
    char err[512];

    if (ebpfvm_vm_create(NULL, &vm)) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    struct ebpfvm_helper_opts hopts = {.sz = sizeof hopts, .trace = on_trace, .trace_ud = &st,
                                       .routes = a.nroutes ? a.routes : NULL, .nroutes = a.nroutes};
    int status = ebpfvm_vm_register_std_helpers(vm, &hopts);
    if (status) {
        cli_report_vm_error(a.object, vm, status);
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    status = ebpfvm_object_open(vm, a.object, NULL, &obj);
    if (status) {
        cli_error("%s", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        rc = cli_exit_for_load(status);
        goto out;
    }
    size_t index;
    rc = cli_obj_select(obj, a.object, a.section, a.name, true, &index);
    if (rc)
        goto out;
    status = ebpfvm_object_load_program(obj, index, &prog);
    if (status) {
        cli_error("%s", ebpfvm_vm_errmsg(vm)[0] ? ebpfvm_vm_errmsg(vm) : ebpfvm_strerror(status));
        rc = cli_exit_for_load(status);
        goto out;
    }

    struct xdp_runner_opts ropts = {
        .mode = EBPFVM_EXEC_CHECKED,
        .insn_budget = a.budget,
        .ifindex = (uint32_t)a.ifindex,
        .rx_queue = (uint32_t)a.rx_queue,
        .real_time = a.real_time,
        .seed = a.seed,
        .max_packets = a.count,
        .on_packet = on_packet,
        .on_packet_ud = &st,
        .warn = on_warn,
        .warn_ud = &st,
    };
    /* Verify unless told not to: only a verified program may run without
     * runtime checks (the fast interpreter, native code). */
    if (!a.unverified) {
        status = ebpfvm_prog_verify(prog, NULL);
        if (status) {
            const char *why = ebpfvm_vm_errmsg(vm);
            cli_error("%s: %s/%s: %s", a.object, ebpfvm_object_program_section(obj, index),
                      ebpfvm_object_program_name(obj, index), why[0] ? why : ebpfvm_strerror(status));
            cli_error("%s: the verifier rejected the program: `ebpfvm verify %s --log-level 2` shows why; "
                      "--unverified runs it in the checked interpreter",
                      a.object, a.object);
            rc = status == EBPFVM_ERR_NOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_BADPROG;
            goto out;
        }
    }
    const char *engine = "checked interpreter";
    if (a.engine == ENGINE_FAST) {
        ropts.mode = EBPFVM_EXEC_FAST;
        engine = "fast interpreter";
        if (a.unverified) {
            ropts.run_flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
            cli_error("%s: warning: running an unverified program in the fast interpreter, without memory "
                      "checks",
                      a.object);
        }
    } else if (a.engine == ENGINE_JIT) {
        status = ebpfvm_prog_jit(prog, a.unverified ? EBPFVM_JIT_ALLOW_UNVERIFIED : 0);
        if (status == 0 && ebpfvm_prog_is_jitted(prog)) {
            ropts.mode = EBPFVM_EXEC_JIT;
            engine = "jit";
            if (a.unverified)
                cli_error("%s: warning: running an unverified program as native code, without memory checks",
                          a.object);
        } else if (a.unverified) {
            const char *why = ebpfvm_vm_errmsg(vm);
            cli_error("%s: note: no native code (%s): running in the checked interpreter", a.object,
                      why[0] ? why : ebpfvm_strerror(status));
        } else {
            /* Verified: the fast interpreter is as safe as native code. */
            const char *why = ebpfvm_vm_errmsg(vm);
            ropts.mode = EBPFVM_EXEC_FAST;
            engine = "fast interpreter";
            if (a.engines_given)
                cli_error("%s: note: no native code (%s): running in the fast interpreter", a.object,
                          why[0] ? why : ebpfvm_strerror(status));
        }
    }

#ifdef EBPFVM_HAVE_KERNEL_ORACLE
    if (a.compare_kernel) {
        /* The program ebpfvm selected, by its exact section and name. */
        rc = cli_compare_open(a.object, ebpfvm_object_program_section(obj, index),
                              ebpfvm_object_program_name(obj, index), a.json, a.verbose, &cmp);
        if (rc)
            goto out;
        compare_notes(&a);
        st.hook.fn = cli_compare_packet;
        st.hook.print = compare_print;
        st.hook.ud = cmp;
    }
#endif

    status = xdp_runner_open(prog, a.pcap, &ropts, &runner, err, sizeof err);
    if (status) {
        cli_error("%s", err);
        rc = exit_for_run(status);
        goto out;
    }
    st.runner = runner;
    if (a.write) {
        status = xdp_pcap_writer_open(a.write, xdp_out_format_for(a.write), &writer, err, sizeof err);
        if (status) {
            cli_error("%s", err);
            rc = exit_for_run(status);
            goto out;
        }
        xdp_runner_set_writer(runner, writer);
    }
    st.next_progress = now_seconds() + 0.5;
    status = xdp_runner_run(runner);
    if (st.progress_shown)
        fputs("\r\033[K", stderr);
    if (status) {
        if (status < 0)
            cli_error("%s", xdp_runner_errmsg(runner));
        rc = exit_for_run(status);
        goto out;
    }
    status = xdp_pcap_writer_close(writer, err, sizeof err);
    writer = NULL;
    if (status) {
        cli_error("%s", err);
        rc = CLI_EXIT_IO;
        goto out;
    }
    if (a.json)
        print_summary_json(xdp_runner_stats(runner), engine);
    else
        print_summary_text(&a, xdp_runner_stats(runner), engine);
    rc = a.dump_maps ? dump_maps(vm, obj, a.json) : 0;
#ifdef EBPFVM_HAVE_KERNEL_ORACLE
    if (rc == 0 && cmp)
        rc = cli_compare_finish(cmp, vm, obj);
#endif
out:
#ifdef EBPFVM_HAVE_KERNEL_ORACLE
    cli_compare_close(cmp);
#endif
    xdp_pcap_writer_close(writer, err, sizeof err);
    xdp_runner_close(runner);
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    return rc;
}

#endif /* EBPFVM_HAVE_XDP_RUNTIME */
