/* One inference and one training step of a generated training engine, each between two
 * instruction-count markers (QEMU plugin).  The input is a fixed byte pattern and the label 3:
 * the kernels' instruction counts barely depend on values. */
#include <stdint.h>

#include "tte_bench.h"
#include "tte_model.h"

static int8_t input[TTE_INPUT_BYTES];
static int8_t logits[TTE_OUTPUT_BYTES];

int main(void)
{
    uint32_t i;
    float loss;
    for (i = 0; i < TTE_INPUT_BYTES; i++) {
        input[i] = (int8_t)((i * 37u) & 0xFFu);
    }
    tte_init();
    BENCH_MARK(1);
    tte_infer(input, logits);
    BENCH_MARK(2);
    loss = tte_train_step(input, 3, 0.01f);
    BENCH_MARK(3);
    return loss < 0.0f; /* keeps the step live; a cross-entropy is never negative */
}
