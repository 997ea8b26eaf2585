/* One inference of a generated engine between two instruction-count markers (QEMU plugin).
 * The input is a fixed byte pattern: the kernels' instruction counts do not depend on values. */
#include <stdint.h>

#include "tte_bench.h"
#include "tte_model.h"

static int8_t input[TTE_INPUT_BYTES];
static int8_t logits[TTE_OUTPUT_BYTES];

int main(void)
{
    uint32_t i;
    int32_t checksum = 0;
    for (i = 0; i < TTE_INPUT_BYTES; i++) {
        input[i] = (int8_t)((i * 37u) & 0xFFu);
    }
    tte_init();
    BENCH_MARK(1);
    tte_infer(input, logits);
    BENCH_MARK(2);
    for (i = 0; i < TTE_OUTPUT_BYTES; i++) {
        checksum += logits[i];
    }
    return checksum == 0x7FFFFFFF; /* keeps the logits live; never true */
}
