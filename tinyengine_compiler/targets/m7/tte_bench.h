/*
 * tte_bench.h - instruction-count markers for the Cortex-M7 target harness
 *
 * BENCH_MARK(n) (n a literal 0..15) emits the Thumb-2 hint `dbg #n`.  The insncount QEMU
 * plugin (insncount.c) reports how many guest instructions had retired when each marker
 * executed; `tinyengine_compiler.targets.segment_counts()` turns the marks into per-segment
 * counts.  On silicon `dbg` is a hint that executes as a NOP (one issue slot), so the markers
 * may stay in production builds.  The "memory" clobber stops the compiler moving loads and
 * stores across a marker; it does not stop it moving pure arithmetic.
 *
 * The DWT cycle counter (real hardware only; QEMU 7.2 does not model it) gives cycles:
 *   tte_dwt_start(); ... uint32_t cycles = TTE_DWT_CYCCNT;
 */
#ifndef TTE_BENCH_H
#define TTE_BENCH_H

#include <stdint.h>

#define BENCH_MARK(n) __asm__ volatile("dbg #" #n ::: "memory")

#define TTE_DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define TTE_DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define TTE_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define TTE_DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)

/* Enable trace (DEMCR.TRCENA), unlock the DWT (Cortex-M7 has a lock register), zero and start CYCCNT. */
static inline void tte_dwt_start(void)
{
    TTE_DEMCR |= 1u << 24;
    TTE_DWT_LAR = 0xC5ACCE55u;
    TTE_DWT_CYCCNT = 0u;
    TTE_DWT_CTRL |= 1u;
}

#endif /* TTE_BENCH_H */
