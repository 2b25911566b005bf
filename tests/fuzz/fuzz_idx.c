/*
 * fuzz_idx.c: libFuzzer target for the IDX reader (MNIST format), plain and
 * gzip: any bytes give a decoded array or an error with a message, never a
 * crash, a sanitizer report, a leak or a runaway allocation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cells/training/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    idx_array_t a;
    err_t err = {0};
    if (idx_decode(data, size, "fuzz.idx", false, &a, &err) == ERR_OK) {
        size_t count = 1;
        for (uint32_t i = 0; i < a.n_dims; i++) count *= a.dims[i];
        if (count != a.count || !a.data) abort();
        idx_free(&a);
    } else if (err.msg[0] == 0 || a.data) {
        abort();
    }
    return 0;
}
