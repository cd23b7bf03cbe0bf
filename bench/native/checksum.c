/* bench/native/checksum.c - the checksum logic of bench/xdp/common.h compiled by
 * gcc -O2: the native baseline of bench_xdp. */
#include "native.h"

int native_checksum(void *data, void *data_end)
{
    return bx_checksum(data, data_end);
}
