/*
 * bench/native/native.h - the native (gcc -O2) twins of the XDP benchmark
 * programs: the same packet logic (bench/xdp/common.h) as plain functions
 * of (data, data_end), each in its own translation unit so that the
 * benchmark calls them like a program, never inlined into the timing loop.
 */
#ifndef BENCH_NATIVE_H
#define BENCH_NATIVE_H

#include <stdint.h>

#include "../xdp/common.h"

int native_udp_drop(void *data, void *data_end);
int native_parser(void *data, void *data_end);
int native_checksum(void *data, void *data_end);
int native_pass(void *data, void *data_end);

/* map_counter: an open-addressing hash table of 1024 slots (the BPF map's
 * max_entries), key = IPv4 source, value = packet count. */
struct native_counters {
    uint32_t keys[1024];
    uint64_t values[1024];
    uint8_t used[1024];
};
int native_map_counter(struct native_counters *map, void *data, void *data_end);
/* The count of key, 0 when absent. */
uint64_t native_counter_get(const struct native_counters *map, uint32_t key);

#endif
