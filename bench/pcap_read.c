/*
 * bench/pcap_read.c - the baseline of the `ebpfvm run` throughput benchmark
 * (bench/bench_run.sh): a bare libpcap loop over a capture file that reads
 * every packet with pcap_next_ex and touches every byte (sums them), then
 * prints the packet count, the byte sum and packets per second. Anything
 * `ebpfvm run --pcap` does beyond this is the cost of running the program
 * and keeping the statistics.
 *
 *   pcap_read FILE [REPEAT]   read FILE REPEAT times (default 1); the
 *                             rate is over all passes
 *
 * Exit status: 0, 1 when the file cannot be read (libpcap's reason on
 * stderr), 2 on a usage error.
 */
#define _DEFAULT_SOURCE /* libpcap needs u_int & co. */

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pcap_read FILE [REPEAT]\n");
        return 2;
    }
    long repeat = argc == 3 ? strtol(argv[2], NULL, 10) : 1;
    if (repeat < 1) {
        fprintf(stderr, "pcap_read: REPEAT must be a positive number\n");
        return 2;
    }
    uint64_t packets = 0, bytes = 0, sum = 0;
    double start = now_seconds();
    for (long pass = 0; pass < repeat; pass++) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
        if (!p) {
            fprintf(stderr, "pcap_read: %s\n", err);
            return 1;
        }
        struct pcap_pkthdr *h;
        const unsigned char *data;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
            uint64_t s = 0;
            for (uint32_t i = 0; i < h->caplen; i++)
                s += data[i];
            sum += s;
            bytes += h->caplen;
            packets++;
        }
        if (rc != PCAP_ERROR_BREAK) {
            fprintf(stderr, "pcap_read: %s: %s\n", argv[1], pcap_geterr(p));
            pcap_close(p);
            return 1;
        }
        pcap_close(p);
    }
    double seconds = now_seconds() - start;
    printf("%s: %" PRIu64 " packets, %" PRIu64 " bytes, byte sum %" PRIu64 "\n", argv[1], packets, bytes, sum);
    printf("time: %.6f s, %.0f packets/s\n", seconds, seconds > 0 ? (double)packets / seconds : 0.0);
    return 0;
}
