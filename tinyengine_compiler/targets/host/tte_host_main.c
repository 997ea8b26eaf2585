/*
 * tte_host_main.c: a host driver for a `tte compile` output folder, for sanitizer runs.
 *
 * Usage: tte_host_main INPUTS LOGITS
 * Reads consecutive int8 input tensors (TTE_INPUT_BYTES each) from INPUTS, runs tte_infer on
 * each, and writes the logits (TTE_OUTPUT_BYTES each) to LOGITS.  Exit status 0 on success.
 */
#include <stdio.h>

#include "tte_model.h"

int main(int argc, char **argv)
{
    static int8_t input[TTE_INPUT_BYTES];
    static int8_t logits[TTE_OUTPUT_BYTES];
    FILE *in, *out;
    int status = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUTS LOGITS\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    tte_init();
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        tte_infer(input, logits);
        if (fwrite(logits, 1, sizeof logits, out) != sizeof logits) {
            status = 1;
            break;
        }
    }
    fclose(in);
    if (fclose(out) != 0) {
        status = 1;
    }
    return status;
}
