/* hello.c - console output, .data copy, .bss zeroing, float math, exit status, two counted loops. */
#include <stdint.h>

#include "tte_bench.h"
#include "tte_semihost.h"

#define LOOP_N 100000   /* the test derives its expected counts from this */

volatile float g_scale = 1.5f;   /* .data: startup must copy it from flash */
static volatile uint8_t g_zero[256];/* .bss: startup must zero it */
volatile uint32_t g_sink;

/* Between the markers: dbg #1, one ldr, then subs + bne per iteration: 2 + 2 * LOOP_N insns. */
static void __attribute__((noinline)) asm_loop(void)
{
    __asm__ volatile("dbg #1\n\t"
                     "ldr r0, =%c0\n"
                     "1:\tsubs r0, r0, #1\n\t"
                     "bne 1b\n\t"
                     "dbg #2\n\t" ::"i"(LOOP_N)
                     : "r0", "cc", "memory");
}

int main(void)
{
    tte_sh_puts("hello from cortex-m7\n");
    asm_loop();
    BENCH_MARK(3);
    for (uint32_t i = 0; i < 1000u; i++) g_sink = i;   /* a store, an add, a compare, a branch */
    BENCH_MARK(4);
    float y = g_scale * g_scale + 0.25f;
    int ok = y == 2.5f;
    for (int i = 0; i < 256; i++) ok = ok && g_zero[i] == 0;
    tte_sh_puts(ok ? "data bss fpu ok\n" : "MISMATCH\n");
    return ok ? 42 : 1;
}
