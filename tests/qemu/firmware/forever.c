/* forever.c - a guest that never exits: the harness must kill it at the timeout. */
#include "tte_semihost.h"

int main(void)
{
    tte_sh_puts("spinning\n");
    for (;;) __asm__ volatile("nop");
}
