/*
 * xdp/pcap_out.c - the packet writer of the XDP runner: the packets that
 * leave (PASS, TX, REDIRECT), as the program left them (data..data_end),
 * into a pcapng file of our own making or a classic pcap file.
 *
 * pcapng (the default): one Section Header Block, one Interface Description
 * Block (LINKTYPE_ETHERNET, if_tsresol 9 = nanoseconds), then one Enhanced
 * Packet Block per packet carrying an opt_comment "action=XDP_TX index=N"
 * (plus the redirect target for XDP_REDIRECT). Classic pcap (a name ending
 * in ".pcap"): the nanosecond-resolution magic 0xa1b23c4d, no verdicts.
 * Everything is written little-endian, so the bytes of a file depend only
 * on the packets (tests compare them exactly). The captured and original
 * lengths of a record are both the output length.
 *
 * Invariant: the writer's errors are sticky: after a failed write every call
 * fails, and close reports it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/runner.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define PCAPNG_OPT_ENDOFOPT 0
#define PCAPNG_OPT_COMMENT 1
#define PCAPNG_OPT_SHB_USERAPPL 4
#define PCAPNG_OPT_IF_TSRESOL 9
#define PCAP_MAGIC_NSEC 0xA1B23C4Du
#define LINKTYPE_ETHERNET 1u
#define OUT_SNAPLEN 262144u

struct xdp_pcap_writer {
    FILE *file;
    char *path;
    enum xdp_out_format format;
    int failed; /* errno of the first failure, or -1 for a short write */
};

/* A little-endian byte builder over a caller's buffer. */
struct bytes {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct bytes *b, const void *data, size_t n)
{
    if (n != 0 && b->len + n <= b->cap)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u16(struct bytes *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put_u32(struct bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

/* Zero bytes up to the next multiple of 4 after n bytes. */
static void put_pad4(struct bytes *b, size_t n)
{
    static const uint8_t zero[4];
    put(b, zero, (4 - n % 4) % 4);
}

/* A pcapng option: code, length, value padded to 4 bytes (the padding
 * depends on the value's length only: options start 4-byte aligned). */
static void put_option(struct bytes *b, uint16_t code, const void *value, uint16_t len)
{
    put_u16(b, code);
    put_u16(b, len);
    put(b, value, len);
    put_pad4(b, len);
}

/* Patch the two total-length fields of the block in b (starting at 0). */
static void finish_block(struct bytes *b)
{
    put_u32(b, (uint32_t)(b->len + 4));
    uint32_t total = (uint32_t)b->len;
    if (total <= b->cap)
        for (int i = 0; i < 4; i++)
            b->p[4 + i] = (uint8_t)(total >> (8 * i));
}

enum xdp_out_format xdp_out_format_for(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n >= 5 && strcmp(path + n - 5, ".pcap") == 0 ? XDP_OUT_PCAP : XDP_OUT_PCAPNG;
}

static int emit(xdp_pcap_writer *w, const void *data, size_t size, char *errbuf, size_t errsize)
{
    if (!w->failed && fwrite(data, 1, size, w->file) != size)
        w->failed = errno ? errno : -1;
    if (w->failed) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "%s: write error: %s", w->path,
                     w->failed > 0 ? strerror(w->failed) : "short write");
        return EBPFVM_ERR_IO;
    }
    return 0;
}

int xdp_pcap_writer_open(const char *path, enum xdp_out_format format, xdp_pcap_writer **out, char *errbuf,
                         size_t errsize)
{
    if (out)
        *out = NULL;
    if (!path || !out) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "xdp_pcap_writer_open: NULL argument");
        return EBPFVM_ERR_INVAL;
    }
    xdp_pcap_writer *w = calloc(1, sizeof *w);
    char *copy = strdup(path);
    if (!w || !copy) {
        free(w);
        free(copy);
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "%s: out of memory", path);
        return EBPFVM_ERR_NOMEM;
    }
    w->path = copy;
    w->format = format;
    w->file = fopen(path, "wb");
    if (!w->file) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "%s: %s", path, strerror(errno));
        free(copy);
        free(w);
        return EBPFVM_ERR_IO;
    }
    uint8_t buf[128];
    struct bytes b = {buf, 0, sizeof buf};
    if (format == XDP_OUT_PCAP) {
        put_u32(&b, PCAP_MAGIC_NSEC);
        put_u16(&b, 2);            /* version 2.4 */
        put_u16(&b, 4);
        put_u32(&b, 0);            /* thiszone */
        put_u32(&b, 0);            /* sigfigs */
        put_u32(&b, OUT_SNAPLEN);
        put_u32(&b, LINKTYPE_ETHERNET);
    } else {
        static const char appl[] = "ebpfvm run";
        put_u32(&b, PCAPNG_SHB);
        put_u32(&b, 0);            /* total length, patched */
        put_u32(&b, PCAPNG_BYTE_ORDER_MAGIC);
        put_u16(&b, 1);            /* version 1.0 */
        put_u16(&b, 0);
        put_u32(&b, 0xffffffffu);  /* section length: unknown */
        put_u32(&b, 0xffffffffu);
        put_option(&b, PCAPNG_OPT_SHB_USERAPPL, appl, (uint16_t)(sizeof appl - 1));
        put_option(&b, PCAPNG_OPT_ENDOFOPT, NULL, 0);
        finish_block(&b);
        struct bytes idb = {buf + b.len, 0, sizeof buf - b.len};
        uint8_t tsresol = 9;       /* 10^-9 s */
        put_u32(&idb, PCAPNG_IDB);
        put_u32(&idb, 0);
        put_u16(&idb, LINKTYPE_ETHERNET);
        put_u16(&idb, 0);          /* reserved */
        put_u32(&idb, OUT_SNAPLEN);
        put_option(&idb, PCAPNG_OPT_IF_TSRESOL, &tsresol, 1);
        put_option(&idb, PCAPNG_OPT_ENDOFOPT, NULL, 0);
        finish_block(&idb);
        b.len += idb.len;
    }
    int rc = emit(w, buf, b.len, errbuf, errsize);
    if (rc) {
        fclose(w->file);
        free(w->path);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void xdp_packet_comment(const struct xdp_packet *pkt, char *buf, size_t size)
{
    const char *name = xdp_runner_action_name(pkt->action);
    int n = name ? snprintf(buf, size, "action=%s index=%" PRIu64, name, pkt->index)
                 : snprintf(buf, size, "action=%" PRIu32 " index=%" PRIu64, pkt->action, pkt->index);
    if (n < 0 || (size_t)n >= size || pkt->bucket != XDP_RUNNER_REDIRECT || !pkt->buff)
        return;
    const struct ebpfvm_xdp_buff *b = pkt->buff;
    if (b->redirect_kind == EBPFVM_XDP_REDIRECT_IFINDEX)
        snprintf(buf + n, size - (size_t)n, " redirect=ifindex:%" PRIu32, b->redirect_ifindex);
    else if (b->redirect_kind == EBPFVM_XDP_REDIRECT_MAP)
        snprintf(buf + n, size - (size_t)n, " redirect=map:%" PRId32 " key=%" PRIu32 " target=%" PRIu32,
                 b->redirect_map_fd, b->redirect_ifindex, b->redirect_target);
}

int xdp_pcap_writer_write(xdp_pcap_writer *w, const struct xdp_packet *pkt, char *errbuf, size_t errsize)
{
    if (!w || !pkt)
        return EBPFVM_ERR_INVAL;
    if (!pkt->leaves)
        return 0;
    uint8_t head[64], tail[256 + 16];
    struct bytes h = {head, 0, sizeof head};
    uint32_t len = (uint32_t)pkt->len_out;
    if (w->format == XDP_OUT_PCAP) {
        put_u32(&h, (uint32_t)(pkt->ts_ns / 1000000000ull));
        put_u32(&h, (uint32_t)(pkt->ts_ns % 1000000000ull));
        put_u32(&h, len);
        put_u32(&h, len);
        int rc = emit(w, head, h.len, errbuf, errsize);
        return rc ? rc : emit(w, pkt->out, len, errbuf, errsize);
    }
    char comment[200];
    xdp_packet_comment(pkt, comment, sizeof comment);
    size_t clen = strlen(comment);
    struct bytes t = {tail, 0, sizeof tail};
    put_pad4(&t, len); /* the packet data's padding */
    put_option(&t, PCAPNG_OPT_COMMENT, comment, (uint16_t)clen);
    put_option(&t, PCAPNG_OPT_ENDOFOPT, NULL, 0);
    uint32_t total = (uint32_t)(28 + len + t.len + 4);
    put_u32(&t, total);
    put_u32(&h, PCAPNG_EPB);
    put_u32(&h, total);
    put_u32(&h, 0); /* interface 0 */
    put_u32(&h, (uint32_t)(pkt->ts_ns >> 32));
    put_u32(&h, (uint32_t)pkt->ts_ns);
    put_u32(&h, len);
    put_u32(&h, len);
    int rc = emit(w, head, h.len, errbuf, errsize);
    if (!rc)
        rc = emit(w, pkt->out, len, errbuf, errsize);
    if (!rc)
        rc = emit(w, tail, t.len, errbuf, errsize);
    return rc;
}

int xdp_pcap_writer_close(xdp_pcap_writer *w, char *errbuf, size_t errsize)
{
    if (!w)
        return 0;
    int failed = w->failed;
    if (fclose(w->file) != 0 && !failed)
        failed = errno ? errno : -1;
    int rc = 0;
    if (failed) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "%s: write error: %s", w->path, failed > 0 ? strerror(failed) : "short write");
        rc = EBPFVM_ERR_IO;
    }
    free(w->path);
    free(w);
    return rc;
}
