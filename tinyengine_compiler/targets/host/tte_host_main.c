/*
 * tte_host_main.c: a host driver for a `tte compile` output folder, for sanitizer runs.
 *
 * Usage: tte_host_main INPUTS LOGITS             one tte_infer per input
 *        tte_host_main INPUTS LOSSES LABELS LR   one tte_train_step per input (training engines)
 * INPUTS holds consecutive int8 inputs (TTE_INPUT_BYTES each), LABELS int32 labels; LOGITS
 * gets TTE_OUTPUT_BYTES per input, LOSSES one float per step followed by the checkpoint
 * (tte_get_trainable).  Exit status 0 on success, 2 when tte_train_step refuses a step.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tte_model.h"

static int8_t input[TTE_INPUT_BYTES];
static int8_t logits[TTE_OUTPUT_BYTES];

#ifdef TTE_TRAINABLE_BYTES
static uint8_t trainable[TTE_CHECKPOINT_BYTES];

static int train(FILE *in, FILE *out, FILE *labels, float lr)
{
    int32_t label;
    while (fread(input, 1, sizeof input, in) == sizeof input && fread(&label, sizeof label, 1, labels) == 1) {
        float loss;
        if (tte_train_step(input, label, lr, &loss) != TTE_STEP_OK) {
            return 2;
        }
        if (fwrite(&loss, sizeof loss, 1, out) != 1) {
            return 1;
        }
    }
    if (tte_get_trainable(trainable, sizeof trainable) != sizeof trainable) {
        return 1;
    }
    return fwrite(trainable, 1, sizeof trainable, out) == sizeof trainable ? 0 : 1;
}
#endif

static int infer(FILE *in, FILE *out)
{
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        tte_infer(input, logits);
        if (fwrite(logits, 1, sizeof logits, out) != sizeof logits) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    FILE *in, *out;
    int status;

    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s INPUTS LOGITS | INPUTS LOSSES LABELS LR\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    tte_init();
    if (argc == 3) {
        status = infer(in, out);
    } else {
#ifdef TTE_TRAINABLE_BYTES
        FILE *labels = fopen(argv[3], "rb");
        if (labels == NULL) {
            fprintf(stderr, "cannot open %s\n", argv[3]);
            return 2;
        }
        status = train(in, out, labels, strtof(argv[4], NULL));
        fclose(labels);
#else
        fprintf(stderr, "this engine has no training step\n");
        status = 2;
#endif
    }
    fclose(in);
    if (fclose(out) != 0) {
        status = 1;
    }
    return status;
}
