/* roundtrip.c - read in.bin from the host, reverse it and xor 0x5A, write out.bin back. */
#include <stdint.h>

#include "tte_semihost.h"

#define MAX_BYTES 4096
static uint8_t g_in[MAX_BYTES], g_out[MAX_BYTES];

int main(void)
{
    int fd = tte_sh_open("in.bin", TTE_SH_MODE_RB);
    if (fd < 0) return 10;
    int n = tte_sh_flen(fd);
    if (n < 0 || n > MAX_BYTES) return 11;
    if (tte_sh_read(fd, g_in, (size_t)n) != 0) return 12;
    tte_sh_close(fd);
    for (int i = 0; i < n; i++) g_out[i] = (uint8_t)(g_in[n - 1 - i] ^ 0x5Au);
    fd = tte_sh_open("out.bin", TTE_SH_MODE_WB);
    if (fd < 0) return 13;
    if (tte_sh_write(fd, g_out, (size_t)n) != 0) return 14;
    tte_sh_close(fd);
    tte_sh_puts("wrote ");
    tte_sh_putu((uint32_t)n);
    tte_sh_puts(" bytes\n");
    return 0;
}
