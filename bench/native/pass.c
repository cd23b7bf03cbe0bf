/* bench/native/pass.c - the native twin of bench/xdp/pass.c: the cost of
 * one call. */
#include "native.h"

int native_pass(void *data, void *data_end)
{
    (void)data, (void)data_end;
    return BX_XDP_PASS;
}
