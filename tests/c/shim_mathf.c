/*
 * Title:       shim_mathf.c (test only, not part of the runtime)
 * Description: Exports the static inline float32 routines of tte_mathf.h over arrays so the
 *              Python tests can compare them with reference/backward/mathf.py.
 */
#include "internal/tte_mathf.h"

void tte_test_expf(const float *x, float *y, int32_t count);
void tte_test_logf(const float *x, float *y, int32_t count);
void tte_test_roundf(const float *x, float *y, int32_t count);

void tte_test_expf(const float *x, float *y, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        y[i] = tte_expf(x[i]);
    }
}

void tte_test_logf(const float *x, float *y, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        y[i] = tte_logf(x[i]);
    }
}

void tte_test_roundf(const float *x, float *y, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        y[i] = tte_roundf(x[i]);
    }
}
