/* bench/native/udp_drop.c - the udp_drop logic of bench/xdp/common.h compiled by
 * gcc -O2: the native baseline of bench_xdp. */
#include "native.h"

int native_udp_drop(void *data, void *data_end)
{
    return bx_udp_drop(data, data_end);
}
