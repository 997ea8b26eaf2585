/*
 * main.c - bare-metal STM32F746 firmware that trains a `tte compile` engine for K steps
 *
 * Host files (semihosting, relative to the directory QEMU runs in):
 *   in   inputs.bin  K int8 NHWC inputs, TTE_INPUT_BYTES each
 *   in   labels.bin  K int32 labels (little-endian)
 *   in   lr.bin      one float32: the SGD learning rate
 *   out  logits.bin  TTE_OUTPUT_BYTES int8 logits of one tte_infer on the first input (before training)
 *   out  losses.bin  K float32 losses, one per tte_train_step
 *   out  result.bin  the trained parameters after the K steps, tensor by tensor (tte_trainable_tensor:
 *                    a checkpoint without its header)
 *
 * Instruction-count markers (tte_bench.h; the insncount QEMU plugin records them):
 *   1 .. 2      one tte_infer
 *   8 .. 9      each tte_train_step; inside it, when tte_model.c is built with
 *               -D'TTE_PHASE_MARK(n)=__asm__ volatile("dbg #" #n ::: "memory")', the generated
 *               phase markers 4 (forward), 5 (backward), 6 (update), 7 (end of the last phase)
 * The firmware holds no buffer of its own for inputs, logits or weights: inputs go into the
 * engine's input slot (tte_input), the logits are read from its output slot (tte_output) and
 * the trained tensors are written from where they live, so its RAM is the engine's
 * TTE_RAM_BYTES plus a fixed overhead (startup, semihosting, libc) whatever the model.
 *
 * Exit status: 0 success; 1 a missing or inconsistent input file; 2 a failed write; 3 a step
 *              tte_train_step refused (its status: a label past the head, a bad rate or loss).
 * The link uses the harness's startup.c and stm32f746 linker scripts (tinyengine_compiler/targets/m7).
 */
#include <stdint.h>

#include "tte_bench.h"
#include "tte_model.h"
#include "tte_semihost.h"

/* Open a host file for reading and return its length in bytes (-1 on failure). */
static int open_read(const char *path, int *fd)
{
    *fd = tte_sh_open(path, TTE_SH_MODE_RB);
    return *fd < 0 ? -1 : tte_sh_flen(*fd);
}

/* Write n bytes to a new host file; 0 on success. */
static int write_file(const char *path, const void *buf, uint32_t n)
{
    int fd = tte_sh_open(path, TTE_SH_MODE_WB);
    if (fd < 0) {
        return -1;
    }
    int rest = tte_sh_write(fd, buf, n);
    tte_sh_close(fd);
    return rest;
}

int main(void)
{
    int inputs_fd, labels_fd, lr_fd, losses_fd;
    int inputs_len = open_read("inputs.bin", &inputs_fd);
    int labels_len = open_read("labels.bin", &labels_fd);
    float lr;
    uint32_t steps, k;

    if (open_read("lr.bin", &lr_fd) != (int)sizeof lr || tte_sh_read(lr_fd, &lr, sizeof lr) != 0) {
        tte_sh_puts("main: lr.bin must hold one float32\n");
        return 1;
    }
    tte_sh_close(lr_fd);
    if (inputs_len <= 0 || inputs_len % (int)TTE_INPUT_BYTES != 0 || labels_len < 0
        || (uint32_t)labels_len != (uint32_t)inputs_len / TTE_INPUT_BYTES * sizeof(int32_t)) {
        tte_sh_puts("main: inputs.bin must hold K inputs and labels.bin K int32 labels, K > 0\n");
        return 1;
    }
    steps = (uint32_t)inputs_len / TTE_INPUT_BYTES;
    losses_fd = tte_sh_open("losses.bin", TTE_SH_MODE_WB);
    if (losses_fd < 0) {
        return 2;
    }

    tte_init();
    /* Inputs are read straight into the engine's input slot (tte_input): the firmware holds no
     * image of its own.  Each call consumes the slot, so the first input is read twice. */
    if (tte_sh_read(inputs_fd, tte_input(), TTE_INPUT_BYTES) != 0) {
        return 1;
    }
    BENCH_MARK(1);
    tte_infer(tte_input(), NULL);
    BENCH_MARK(2);
    if (write_file("logits.bin", tte_output(), TTE_OUTPUT_BYTES) != 0) {
        return 2;
    }
    tte_sh_close(inputs_fd);
    inputs_fd = tte_sh_open("inputs.bin", TTE_SH_MODE_RB);
    for (k = 0; k < steps; k++) {
        int32_t label;
        float loss;
        int status;
        if (inputs_fd < 0 || tte_sh_read(inputs_fd, tte_input(), TTE_INPUT_BYTES) != 0
            || tte_sh_read(labels_fd, &label, sizeof label) != 0) {
            return 1;
        }
        BENCH_MARK(8);
        status = tte_train_step(tte_input(), label, lr, &loss);
        BENCH_MARK(9);
        if (status != TTE_STEP_OK) {
            return 3; /* a refused step: a label past the head, or a non-finite rate or loss */
        }
        if (tte_sh_write(losses_fd, &loss, sizeof loss) != 0) {
            return 2;
        }
    }
    tte_sh_close(inputs_fd);
    tte_sh_close(labels_fd);
    tte_sh_close(losses_fd);

    /* the trained tensors, written from where they live (no copy) */
    {
        int fd = tte_sh_open("result.bin", TTE_SH_MODE_WB);
        const void *data;
        size_t n;
        int32_t i;
        if (fd < 0) {
            return 2;
        }
        for (i = 0; (n = tte_trainable_tensor(i, &data)) != 0; i++) {
            if (tte_sh_write(fd, data, (uint32_t)n) != 0) {
                return 2;
            }
        }
        tte_sh_close(fd);
    }
    return 0;
}
