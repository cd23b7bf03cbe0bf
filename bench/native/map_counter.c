/* bench/native/map_counter.c - the map_counter logic compiled by gcc -O2:
 * a per-source counter in an open-addressing hash table (the BPF version
 * uses a BPF_MAP_TYPE_HASH map and bpf_map_lookup_elem/update_elem). */
#include "native.h"

static uint32_t slot_of(uint32_t key)
{
    uint32_t h = key * 0x9e3779b1u;
    return (h ^ (h >> 16)) & 1023u;
}

int native_map_counter(struct native_counters *map, void *data, void *data_end)
{
    long long k = bx_counter_key(data, data_end);
    if (k < 0)
        return BX_XDP_PASS;
    uint32_t key = (uint32_t)k;
    for (uint32_t i = 0, s = slot_of(key); i < 1024; i++, s = (s + 1) & 1023u) {
        if (!map->used[s]) {
            map->used[s] = 1;
            map->keys[s] = key;
            map->values[s] = 1;
            return BX_XDP_PASS;
        }
        if (map->keys[s] == key) {
            __atomic_fetch_add(&map->values[s], 1, __ATOMIC_RELAXED);
            return BX_XDP_PASS;
        }
    }
    return BX_XDP_PASS; /* full: like a failed BPF_NOEXIST update */
}

uint64_t native_counter_get(const struct native_counters *map, uint32_t key)
{
    for (uint32_t i = 0, s = slot_of(key); i < 1024; i++, s = (s + 1) & 1023u) {
        if (!map->used[s])
            return 0;
        if (map->keys[s] == key)
            return map->values[s];
    }
    return 0;
}
