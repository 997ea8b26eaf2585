/* One inference (markers 1-2) and one training step (markers 3-8; the engine marks its phases
 * 4-7 inside) of a generated training engine, for the QEMU instruction-count plugin.  The input
 * is a fixed byte pattern and the label 3: the kernels' instruction counts barely depend on
 * values. */
#include <stdint.h>

#include "tte_bench.h"
#include "tte_model.h"

static int8_t logits[TTE_OUTPUT_BYTES];

/* The image goes straight into the engine's arena: no buffer of our own.  Each call consumes
 * it (the arena reuses the slot), so it is written again before every call. */
static int8_t *fill_input(void)
{
    int8_t *input = tte_input();
    uint32_t i;
    for (i = 0; i < TTE_INPUT_BYTES; i++) {
        input[i] = (int8_t)((i * 37u) & 0xFFu);
    }
    return input;
}

int main(void)
{
    float loss;
    tte_init();
    fill_input();
    BENCH_MARK(1);
    tte_infer(tte_input(), logits);
    BENCH_MARK(2);
    fill_input();
    BENCH_MARK(3);
    loss = tte_train_step(tte_input(), 3, 0.01f);
    BENCH_MARK(8);
    return loss < 0.0f; /* keeps the step live; a cross-entropy is never negative */
}
