/*
 * examples/pcap/gen_pcaps.c - writes the captures the XDP examples, tests
 * and benchmarks run on, deterministically (a fixed-seed generator; no
 * clock, no randomness from the system):
 *
 *   mixed.pcap  a few hundred frames covering what XDP parsers meet: IPv4
 *               TCP/UDP/ICMP, IPv6 TCP/UDP/ICMPv6 (and a hop-by-hop
 *               extension header), 802.1Q VLAN and QinQ, IPv4 fragments,
 *               IPv4 with options, IP-in-IP, VXLAN, ARP, tiny frames (14..60
 *               bytes), a 1514-byte frame, truncated headers, UDP to port
 *               9999 (what examples/xdp/xdp_udp_drop.c drops), TCP/UDP to
 *               10.0.0.100:80 (what xdp_dnat.c translates), many sources.
 *   bench.pcap  100,000 frames drawn from the same generators, for
 *               benchmarks.
 *
 * Every checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6) is correct unless a
 * frame is deliberately truncated. The pcap writer is this file's own:
 * classic pcap, microsecond timestamps, LINKTYPE_ETHERNET.
 *
 * Usage: gen_pcaps OUTDIR   (writes OUTDIR/mixed.pcap and OUTDIR/bench.pcap)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAME 1600

/* ------------------------------------------------------------ randomness */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) /* xorshift64*, fixed seed */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
    return rnd() % n;
}

/* ----------------------------------------------------------- the writer */

struct pcap_out {
    FILE *f;
    uint32_t count;
    uint64_t usec; /* timestamp of the next frame */
};

static void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f); /* host order: the magic tells readers which */
}

static void put16(FILE *f, uint16_t v)
{
    fwrite(&v, 2, 1, f);
}

static int pcap_open(struct pcap_out *out, const char *path)
{
    out->f = fopen(path, "wb");
    if (!out->f) {
        perror(path);
        return -1;
    }
    out->count = 0;
    out->usec = 1700000000ull * 1000000ull;
    put32(out->f, 0xa1b2c3d4u); /* magic, microseconds */
    put16(out->f, 2);
    put16(out->f, 4);
    put32(out->f, 0);     /* thiszone */
    put32(out->f, 0);     /* sigfigs */
    put32(out->f, 65535); /* snaplen */
    put32(out->f, 1);     /* LINKTYPE_ETHERNET */
    return 0;
}

static void pcap_write(struct pcap_out *out, const uint8_t *frame, size_t len)
{
    put32(out->f, (uint32_t)(out->usec / 1000000u));
    put32(out->f, (uint32_t)(out->usec % 1000000u));
    put32(out->f, (uint32_t)len);
    put32(out->f, (uint32_t)len);
    fwrite(frame, 1, len, out->f);
    out->usec += 10 + rnd_below(90);
    out->count++;
}

static int pcap_close(struct pcap_out *out)
{
    int bad = ferror(out->f);
    if (fclose(out->f) != 0 || bad)
        return -1;
    return 0;
}

/* ------------------------------------------------------- frame building */

struct frame {
    uint8_t b[MAX_FRAME];
    size_t len;
};

static void w8(struct frame *f, uint8_t v)
{
    f->b[f->len++] = v;
}

static void w16(struct frame *f, uint16_t v) /* network order */
{
    w8(f, (uint8_t)(v >> 8));
    w8(f, (uint8_t)v);
}

static void w32(struct frame *f, uint32_t v)
{
    w16(f, (uint16_t)(v >> 16));
    w16(f, (uint16_t)v);
}

static void wbytes(struct frame *f, const uint8_t *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void set16(struct frame *f, size_t off, uint16_t v)
{
    f->b[off] = (uint8_t)(v >> 8);
    f->b[off + 1] = (uint8_t)v;
}

/* RFC 1071 sum over bytes (big-endian words), not folded. */
static uint32_t sum_bytes(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

#define ETH_IPV4 0x0800
#define ETH_ARP 0x0806
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_IPV6 0x86dd

/* Ethernet header with up to two VLAN tags (tags[i] = TCI; outer first). */
static void eth(struct frame *f, uint16_t proto, int ntags, const uint16_t *tags)
{
    f->len = 0;
    wbytes(f, mac_b, 6);
    wbytes(f, mac_a, 6);
    for (int i = 0; i < ntags; i++) {
        w16(f, ntags == 2 && i == 0 ? ETH_QINQ : ETH_VLAN);
        w16(f, tags[i]);
    }
    w16(f, proto);
}

struct l3 {
    int v6;
    uint32_t saddr4, daddr4;
    uint8_t saddr6[16], daddr6[16];
    size_t start;   /* offset of the IP header */
    size_t l4start; /* offset of the L4 header */
};

/* IPv4 header with nopt 4-byte option words; tot_len/checksum fixed later. */
static void ipv4(struct frame *f, struct l3 *l, uint8_t proto, uint32_t src, uint32_t dst, int nopt,
                 uint16_t frag, uint8_t ttl)
{
    l->v6 = 0;
    l->saddr4 = src;
    l->daddr4 = dst;
    l->start = f->len;
    w8(f, (uint8_t)(0x40 | (5 + nopt)));
    w8(f, (uint8_t)(rnd_below(4) << 2)); /* DSCP */
    w16(f, 0);                           /* tot_len */
    w16(f, (uint16_t)rnd());             /* id */
    w16(f, frag);
    w8(f, ttl);
    w8(f, proto);
    w16(f, 0); /* checksum */
    w32(f, src);
    w32(f, dst);
    for (int i = 0; i < nopt; i++) {
        if (i == nopt - 1)
            w32(f, 0x01010100); /* NOP NOP NOP EOL */
        else
            w32(f, 0x01010101); /* NOPs */
    }
    l->l4start = f->len;
}

static void ipv6(struct frame *f, struct l3 *l, uint8_t next, const uint8_t *src, const uint8_t *dst, int hbh,
                 uint8_t l4proto)
{
    l->v6 = 1;
    memcpy(l->saddr6, src, 16);
    memcpy(l->daddr6, dst, 16);
    l->start = f->len;
    w32(f, 0x60000000u | (rnd() & 0xfffff));
    w16(f, 0); /* payload length */
    w8(f, hbh ? 0 : next);
    w8(f, 64);
    wbytes(f, src, 16);
    wbytes(f, dst, 16);
    if (hbh) { /* hop-by-hop: next header, length 0, PadN of 4 */
        w8(f, l4proto);
        w8(f, 0);
        w8(f, 1);
        w8(f, 4);
        w32(f, 0);
    }
    l->l4start = f->len;
}

/* Fill lengths and checksums once the payload is written. */
static void finish_l3(struct frame *f, const struct l3 *l)
{
    if (l->v6) {
        set16(f, l->start + 4, (uint16_t)(f->len - l->start - 40));
    } else {
        set16(f, l->start + 2, (uint16_t)(f->len - l->start));
        size_t ihl = (size_t)(f->b[l->start] & 0xf) * 4;
        set16(f, l->start + 10, 0);
        set16(f, l->start + 10, fold(sum_bytes(f->b + l->start, ihl, 0)));
    }
}

/* The pseudo-header sum for an L4 length and protocol. */
static uint32_t pseudo(const struct l3 *l, uint8_t proto, size_t l4len)
{
    uint32_t sum = 0;
    if (l->v6) {
        sum = sum_bytes(l->saddr6, 16, sum);
        sum = sum_bytes(l->daddr6, 16, sum);
        sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
        sum += proto;
    } else {
        sum += l->saddr4 >> 16;
        sum += l->saddr4 & 0xffff;
        sum += l->daddr4 >> 16;
        sum += l->daddr4 & 0xffff;
        sum += proto;
        sum += (uint32_t)l4len;
    }
    return sum;
}

static void payload(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n && f->len < MAX_FRAME; i++)
        w8(f, (uint8_t)rnd());
}

/* Write an L4 header + payload at f->len and checksum it. */
static void tcp(struct frame *f, const struct l3 *l, uint16_t sport, uint16_t dport, uint8_t flags, size_t plen)
{
    size_t start = f->len;
    w16(f, sport);
    w16(f, dport);
    w32(f, rnd());
    w32(f, flags & 0x10 ? rnd() : 0);
    w8(f, 0x50); /* data offset 5 */
    w8(f, flags);
    w16(f, 65535);
    w16(f, 0); /* checksum */
    w16(f, 0); /* urgent */
    payload(f, plen);
    finish_l3(f, l);
    size_t len = f->len - start;
    set16(f, start + 16, fold(sum_bytes(f->b + start, len, pseudo(l, 6, len))));
}

static void udp(struct frame *f, const struct l3 *l, uint16_t sport, uint16_t dport, size_t plen)
{
    size_t start = f->len;
    w16(f, sport);
    w16(f, dport);
    w16(f, 0);
    w16(f, 0);
    payload(f, plen);
    finish_l3(f, l);
    size_t len = f->len - start;
    set16(f, start + 4, (uint16_t)len);
    uint16_t c = fold(sum_bytes(f->b + start, len, pseudo(l, 17, len)));
    set16(f, start + 6, c ? c : 0xffff);
}

static void icmp(struct frame *f, const struct l3 *l, uint8_t type, size_t plen)
{
    size_t start = f->len;
    w8(f, type);
    w8(f, 0);
    w16(f, 0);
    w16(f, (uint16_t)rnd()); /* id */
    w16(f, (uint16_t)rnd()); /* seq */
    payload(f, plen);
    finish_l3(f, l);
    size_t len = f->len - start;
    uint32_t sum = l->v6 ? pseudo(l, 58, len) : 0;
    set16(f, start + 2, fold(sum_bytes(f->b + start, len, sum)));
}

/* ------------------------------------------------------------ addresses */

static uint32_t v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

#define VIP v4(10, 0, 0, 100)
#define DROP_PORT 9999

static uint32_t src4(void) /* many sources: 10.1.0.0/16, biased to few */
{
    return rnd_below(4) == 0 ? v4(10, 1, 0, 1) : v4(10, 1, (uint8_t)rnd_below(8), (uint8_t)(1 + rnd_below(250)));
}

static void addr6(uint8_t *a, uint8_t last)
{
    static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(a, base, 16);
    a[14] = (uint8_t)rnd_below(4);
    a[15] = last;
}

/* ------------------------------------------------------- frame generators */

static uint16_t some_port(void)
{
    static const uint16_t ports[] = {22, 23, 53, 80, 443, 8080, DROP_PORT, 4789, 123, 1024};
    return rnd_below(3) == 0 ? (uint16_t)(1024 + rnd_below(60000)) : ports[rnd_below(10)];
}

static const uint8_t tcp_flags[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x01};

static void gen_ipv4_l4(struct frame *f, int ntags, const uint16_t *tags, uint8_t proto, uint32_t dst,
                        uint16_t dport, size_t plen, int nopt)
{
    struct l3 l;
    eth(f, ETH_IPV4, ntags, tags);
    ipv4(f, &l, proto, src4(), dst, nopt, 0x4000, (uint8_t)(rnd_below(8) == 0 ? 1 + rnd_below(2) : 64));
    if (proto == 6)
        tcp(f, &l, some_port(), dport, tcp_flags[rnd_below(sizeof tcp_flags)], plen);
    else if (proto == 17)
        udp(f, &l, some_port(), dport, plen);
    else
        icmp(f, &l, rnd_below(2) ? 8 : 0, plen);
}

static void gen_ipv6_l4(struct frame *f, int ntags, const uint16_t *tags, uint8_t proto, uint16_t dport,
                        size_t plen, int hbh)
{
    struct l3 l;
    uint8_t s[16], d[16];
    addr6(s, (uint8_t)(1 + rnd_below(200)));
    addr6(d, 1);
    eth(f, ETH_IPV6, ntags, tags);
    ipv6(f, &l, proto, s, d, hbh, proto);
    if (proto == 6)
        tcp(f, &l, some_port(), dport, tcp_flags[rnd_below(sizeof tcp_flags)], plen);
    else if (proto == 17)
        udp(f, &l, some_port(), dport, plen);
    else
        icmp(f, &l, rnd_below(2) ? 128 : 129, plen);
}

static void gen_arp(struct frame *f, int reply)
{
    eth(f, ETH_ARP, 0, NULL);
    if (!reply)
        memset(f->b, 0xff, 6);
    w16(f, 1);
    w16(f, ETH_IPV4);
    w8(f, 6);
    w8(f, 4);
    w16(f, reply ? 2 : 1);
    wbytes(f, mac_a, 6);
    w32(f, src4());
    wbytes(f, reply ? mac_b : (const uint8_t[6]){0}, 6);
    w32(f, v4(10, 0, 0, 1));
    payload(f, 18); /* padding to 60 bytes */
}

/* Fragments of one UDP datagram: first (MF, offset 0), middle, last. */
static void gen_fragment(struct frame *f, int which)
{
    struct l3 l;
    eth(f, ETH_IPV4, 0, NULL);
    uint16_t frag = which == 0 ? 0x2000 : which == 1 ? (uint16_t)(0x2000 | 3) : 6;
    ipv4(f, &l, rnd_below(2) ? 17 : 6, src4(), v4(10, 0, 0, 1), 0, frag, 64);
    if (which == 0) {
        w16(f, some_port());
        w16(f, DROP_PORT); /* a first fragment to the dropped port */
        w16(f, 48);
        w16(f, 0);
        payload(f, 16);
    } else {
        payload(f, 24);
    }
    finish_l3(f, &l);
}

/* IPv4-in-IPv4: an outer header (protocol 4) around a UDP or TCP packet. */
static void gen_ipip(struct frame *f)
{
    struct l3 outer, inner;
    eth(f, ETH_IPV4, 0, NULL);
    ipv4(f, &outer, 4, v4(192, 0, 2, 1), v4(192, 0, 2, 2), 0, 0x4000, 64);
    ipv4(f, &inner, rnd_below(2) ? 17 : 6, src4(), v4(10, 0, 0, 1), 0, 0x4000, 63);
    if (f->b[inner.start + 9] == 17)
        udp(f, &inner, some_port(), some_port(), rnd_below(40));
    else
        tcp(f, &inner, some_port(), some_port(), 0x18, rnd_below(40));
    finish_l3(f, &outer);
}

/* VXLAN: outer IPv4/UDP to 4789, 8-byte VXLAN header, inner Ethernet/IPv4/UDP. */
static void gen_vxlan(struct frame *f)
{
    struct l3 outer;
    eth(f, ETH_IPV4, 0, NULL);
    ipv4(f, &outer, 17, v4(192, 0, 2, 1), v4(192, 0, 2, 2), 0, 0x4000, 64);
    size_t ustart = f->len;
    w16(f, (uint16_t)(49152 + rnd_below(1000)));
    w16(f, 4789);
    w16(f, 0);
    w16(f, 0); /* no checksum, as VXLAN senders usually do */
    w32(f, 0x08000000u);
    w32(f, (rnd_below(16) + 1) << 8);
    /* the inner frame */
    struct frame inner;
    struct l3 il;
    eth(&inner, ETH_IPV4, 0, NULL);
    ipv4(&inner, &il, 17, src4(), v4(10, 0, 0, 1), 0, 0x4000, 64);
    udp(&inner, &il, some_port(), some_port(), rnd_below(32));
    wbytes(f, inner.b, inner.len);
    set16(f, ustart + 4, (uint16_t)(f->len - ustart));
    finish_l3(f, &outer);
}

static void gen_tiny(struct frame *f, size_t len)
{
    static const uint16_t protos[] = {ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_ARP, 0x88cc, 0x0001};
    eth(f, protos[rnd_below(6)], 0, NULL);
    payload(f, len - 14);
}

/* A header cut short: an IPv4/IPv6/VLAN frame truncated inside L3 or L4. */
static void gen_truncated(struct frame *f)
{
    uint16_t tag = 10;
    switch (rnd_below(4)) {
    case 0:
        gen_ipv4_l4(f, 0, NULL, 6, v4(10, 0, 0, 1), 80, 0, 0);
        f->len = 14 + 20 + rnd_below(20); /* inside TCP */
        break;
    case 1:
        gen_ipv4_l4(f, 0, NULL, 17, v4(10, 0, 0, 1), 53, 0, 10);
        f->len = 14 + 20 + rnd_below(40); /* inside the options */
        break;
    case 2:
        gen_ipv6_l4(f, 0, NULL, 17, 53, 0, 0);
        f->len = 14 + 20 + rnd_below(20);
        break;
    default:
        gen_ipv4_l4(f, 1, &tag, 17, v4(10, 0, 0, 1), 53, 0, 0);
        f->len = 18 + rnd_below(20);
        break;
    }
    if (f->len < 14)
        f->len = 14;
}

/* One frame of the mix; kind selects the category. */
static void gen_kind(struct frame *f, unsigned kind)
{
    uint16_t tags[2] = {(uint16_t)(rnd_below(4095) + 1), (uint16_t)(rnd_below(4095) + 1)};
    static const uint8_t l4s[] = {6, 17, 1};
    switch (kind) {
    case 0: /* IPv4 TCP/UDP/ICMP */
    case 1:
    case 2:
        gen_ipv4_l4(f, 0, NULL, l4s[rnd_below(3)], v4(10, 0, 0, (uint8_t)(1 + rnd_below(3))), some_port(),
                    rnd_below(100), 0);
        break;
    case 3: /* IPv6 TCP/UDP/ICMPv6, sometimes a hop-by-hop header */
    case 4: {
        static const uint8_t l6[] = {6, 17, 58};
        gen_ipv6_l4(f, 0, NULL, l6[rnd_below(3)], some_port(), rnd_below(100), rnd_below(4) == 0);
        break;
    }
    case 5: /* 802.1Q */
        if (rnd_below(3) == 0)
            gen_ipv6_l4(f, 1, tags, 17, some_port(), rnd_below(64), 0);
        else
            gen_ipv4_l4(f, 1, tags, l4s[rnd_below(3)], v4(10, 0, 0, 1), some_port(), rnd_below(64), 0);
        break;
    case 6: /* QinQ */
        gen_ipv4_l4(f, 2, tags, l4s[rnd_below(2)], v4(10, 0, 0, 1), some_port(), rnd_below(64), 0);
        break;
    case 7: /* fragments */
        gen_fragment(f, (int)rnd_below(3));
        break;
    case 8: /* IPv4 options */
        gen_ipv4_l4(f, 0, NULL, l4s[rnd_below(3)], v4(10, 0, 0, 1), some_port(), rnd_below(64),
                    1 + (int)rnd_below(10));
        break;
    case 9:
        gen_arp(f, (int)rnd_below(2));
        break;
    case 10:
        gen_tiny(f, 14 + rnd_below(47));
        break;
    case 11: /* the dropped UDP port, v4 and v6 */
        if (rnd_below(4) == 0)
            gen_ipv6_l4(f, 0, NULL, 17, DROP_PORT, rnd_below(64), 0);
        else
            gen_ipv4_l4(f, 0, NULL, 17, v4(10, 0, 0, 1), DROP_PORT, rnd_below(64), 0);
        break;
    case 12: /* the NAT'ed service */
        gen_ipv4_l4(f, 0, NULL, rnd_below(2) ? 6 : 17, VIP, 80, rnd_below(64), 0);
        break;
    case 13:
        gen_ipip(f);
        break;
    case 14:
        gen_vxlan(f);
        break;
    default:
        gen_truncated(f);
        break;
    }
}

#define NKINDS 16

static int write_mixed(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mixed.pcap", dir);
    struct pcap_out out;
    if (pcap_open(&out, path) != 0)
        return -1;
    struct frame f;
    /* Every category several times, in a shuffled order. */
    for (int round = 0; round < 20; round++)
        for (unsigned k = 0; k < NKINDS; k++) {
            gen_kind(&f, (k + (unsigned)round * 7u) % NKINDS);
            pcap_write(&out, f.b, f.len);
        }
    /* Every tiny length once, and full-size frames. */
    for (size_t len = 14; len <= 60; len++) {
        gen_tiny(&f, len);
        pcap_write(&out, f.b, f.len);
    }
    for (int i = 0; i < 3; i++) {
        gen_ipv4_l4(&f, 0, NULL, i == 2 ? 6 : 17, v4(10, 0, 0, 1), i == 1 ? DROP_PORT : 80, 1500 - 20 - 8 - (i == 2 ? 12 : 0), 0);
        pcap_write(&out, f.b, f.len);
    }
    gen_ipv6_l4(&f, 0, NULL, 17, 53, 1500 - 40 - 8, 0);
    pcap_write(&out, f.b, f.len);
    printf("%s: %u frames\n", path, out.count);
    return pcap_close(&out);
}

static int write_bench(const char *dir, uint32_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench.pcap", dir);
    struct pcap_out out;
    if (pcap_open(&out, path) != 0)
        return -1;
    struct frame f;
    /* Mostly plain IPv4/IPv6 traffic, as on a real link. */
    static const unsigned weights[NKINDS] = {30, 20, 10, 10, 8, 5, 2, 1, 1, 2, 1, 3, 3, 1, 1, 1};
    unsigned total = 0;
    for (unsigned k = 0; k < NKINDS; k++)
        total += weights[k];
    for (uint32_t i = 0; i < count; i++) {
        unsigned r = rnd_below(total), k = 0;
        while (r >= weights[k])
            r -= weights[k++];
        gen_kind(&f, k);
        pcap_write(&out, f.b, f.len);
    }
    printf("%s: %u frames\n", path, out.count);
    return pcap_close(&out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    if (write_mixed(argv[1]) != 0 || write_bench(argv[1], 100000) != 0) {
        fprintf(stderr, "%s: writing the captures failed\n", argv[0]);
        return 1;
    }
    return 0;
}
