/*
 * tte_semihost.h - ARM semihosting for the Cortex-M7 target harness (header only)
 *
 * Semihosting lets a bare-metal guest use the host's console and files: the guest puts an
 * operation number in r0, a pointer to an argument block in r1 and executes `bkpt 0xAB`;
 * QEMU (or a debug probe) performs the call and returns the result in r0.  Host paths are
 * relative to the directory QEMU was started in (`run_qemu(workdir=...)`).
 *
 * On a board without a debugger attached `bkpt` raises a HardFault, so firmware meant to run
 * stand-alone must not call these functions (see examples/stm32f746/README.md).
 * No newlib, no heap, no statics: safe to include from any translation unit.
 */
#ifndef TTE_SEMIHOST_H
#define TTE_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#define TTE_SH_SYS_OPEN 0x01
#define TTE_SH_SYS_CLOSE 0x02
#define TTE_SH_SYS_WRITE0 0x04
#define TTE_SH_SYS_WRITE 0x05
#define TTE_SH_SYS_READ 0x06
#define TTE_SH_SYS_FLEN 0x0C
#define TTE_SH_SYS_EXIT 0x18
#define TTE_SH_SYS_EXIT_EXTENDED 0x20
#define TTE_SH_APPLICATION_EXIT 0x20026u   /* ADP_Stopped_ApplicationExit */
#define TTE_SH_RUNTIME_ERROR 0x20023u      /* ADP_Stopped_RunTimeErrorUnknown */

/* Open modes (ISO C fopen strings, as the semihosting spec numbers them). */
#define TTE_SH_MODE_RB 1   /* "rb" */
#define TTE_SH_MODE_WB 5   /* "wb" */
#define TTE_SH_MODE_AB 9   /* "ab" */

/* One semihosting call: op in r0, argument block in r1, result in r0. */
static inline int tte_sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* [in] s: NUL-terminated text, written to the host's stdout. */
static inline void tte_sh_puts(const char *s) { tte_sh_call(TTE_SH_SYS_WRITE0, s); }

/* Write v in decimal to the host's stdout. */
static inline void tte_sh_putu(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    tte_sh_puts(&buf[i]);
}

/* Write v as 0x%08x to the host's stdout. */
static inline void tte_sh_puthex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[11] = {'0', 'x'};
    for (int i = 0; i < 8; i++) buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    buf[10] = 0;
    tte_sh_puts(buf);
}

/* Open a host file.  mode: TTE_SH_MODE_*.  Returns a handle >= 0, or -1. */
static inline int tte_sh_open(const char *path, int mode)
{
    size_t n = 0;
    while (path[n] != 0) n++;
    const uint32_t blk[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)n};
    return tte_sh_call(TTE_SH_SYS_OPEN, blk);
}

/* Returns the number of bytes NOT written: 0 on success. */
static inline int tte_sh_write(int fd, const void *buf, size_t len)
{
    const uint32_t blk[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return tte_sh_call(TTE_SH_SYS_WRITE, blk);
}

/* Returns the number of bytes NOT read: 0 when buf was filled, len at end of file. */
static inline int tte_sh_read(int fd, void *buf, size_t len)
{
    const uint32_t blk[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return tte_sh_call(TTE_SH_SYS_READ, blk);
}

/* Length of an open host file in bytes, or -1. */
static inline int tte_sh_flen(int fd)
{
    const uint32_t blk[1] = {(uint32_t)fd};
    return tte_sh_call(TTE_SH_SYS_FLEN, blk);
}

static inline int tte_sh_close(int fd)
{
    const uint32_t blk[1] = {(uint32_t)fd};
    return tte_sh_call(TTE_SH_SYS_CLOSE, blk);
}

/* Stop the simulation; QEMU exits with `status` (semihosting v2 SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) static inline void tte_sh_exit(int status)
{
    const uint32_t blk[2] = {TTE_SH_APPLICATION_EXIT, (uint32_t)status};
    tte_sh_call(TTE_SH_SYS_EXIT_EXTENDED, blk);
    /* A v1-only host: SYS_EXIT takes the reason itself (exit 0 or 1). */
    tte_sh_call(TTE_SH_SYS_EXIT,
                (const void *)(uintptr_t)(status == 0 ? TTE_SH_APPLICATION_EXIT : TTE_SH_RUNTIME_ERROR));
    for (;;) __asm__ volatile("wfi");
}

#endif /* TTE_SEMIHOST_H */
