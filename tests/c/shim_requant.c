/*
 * Title:       shim_requant.c (test only, not part of the runtime)
 * Description: Exports the static inline requantization of tte_requant.h so the Python tests can
 *              call them through ctypes.
 */
#include "internal/tte_requant.h"

int32_t tte_test_requantize(int32_t val, int32_t multiplier, int32_t shift);

int32_t tte_test_requantize(int32_t val, int32_t multiplier, int32_t shift)
{
    return tte_requantize(val, multiplier, shift);
}

int32_t tte_test_requantize_fast(int32_t val, int32_t multiplier, int32_t shift);

int32_t tte_test_requantize_fast(int32_t val, int32_t multiplier, int32_t shift)
{
    return tte_requantize_fast(val, multiplier, shift);
}
