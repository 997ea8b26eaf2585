/* Runs one inference of a generated model: input.bin -> tte_infer -> logits.bin (semihosting). */
#include <stdint.h>
#include "tte_model.h"
#include "tte_semihost.h"
static int8_t input[TTE_INPUT_BYTES];
static int8_t logits[TTE_OUTPUT_BYTES];
int main(void)
{
    int fd = tte_sh_open("input.bin", TTE_SH_MODE_RB);
    if (fd < 0 || tte_sh_read(fd, input, TTE_INPUT_BYTES) != 0) return 1;
    tte_sh_close(fd);
    tte_init();
    tte_infer(input, logits);
    fd = tte_sh_open("logits.bin", TTE_SH_MODE_WB);
    if (fd < 0 || tte_sh_write(fd, logits, TTE_OUTPUT_BYTES) != 0) return 2;
    tte_sh_close(fd);
    return 0;
}
