/* bench/native/parser.c - the parser logic of bench/xdp/common.h compiled by
 * gcc -O2: the native baseline of bench_xdp. */
#include "native.h"

int native_parser(void *data, void *data_end)
{
    return bx_parser(data, data_end);
}
