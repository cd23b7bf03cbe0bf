/*
 * tests/support/alloc_fail.c - the failing, counting test allocator (see
 * alloc_fail.h). Each block carries a small header with its size so that a
 * free can check the old_size the library claims.
 */
#include "alloc_fail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef union {
    size_t size;
    max_align_t align;
} af_header;

void alloc_fail_init(struct alloc_fail *af, size_t fail_at)
{
    memset(af, 0, sizeof *af);
    af->fail_at = fail_at;
}

void *alloc_fail_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    struct alloc_fail *af = ud;
    af_header *h = ptr ? (af_header *)ptr - 1 : NULL;

    if (h && h->size != old_size)
        af->bad_frees++;
    if (new_size == 0) {
        if (h) {
            if (af->live_blocks == 0 || af->live_bytes < h->size) {
                af->bad_frees++;
            } else {
                af->live_blocks--;
                af->live_bytes -= h->size;
            }
            free(h);
        }
        return NULL;
    }

    af->nallocs++;
    if (af->fail_at != 0 && af->nallocs == af->fail_at) {
        af->nfailed++;
        return NULL;
    }
    if (new_size > SIZE_MAX - sizeof(af_header))
        return NULL;
    size_t prev = h ? h->size : 0;
    af_header *n = realloc(h, sizeof(af_header) + new_size);
    if (!n)
        return NULL;
    n->size = new_size;
    if (!h)
        af->live_blocks++;
    af->live_bytes = af->live_bytes - prev + new_size;
    return n + 1;
}
