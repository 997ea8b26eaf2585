/*
 * startup.c - reset, fault handlers and vector table for the Cortex-M7 target harness
 *
 * Reset_Handler turns the FPU on, traps integer division by zero, enables the separate
 * fault handlers, copies .data from flash, zeroes .bss, runs constructors, calls main() and
 * passes its return value to the host with semihosting (QEMU exits with it).  A fault prints
 * its name and the fault status registers, then exits with 128 + 3 (131); an unexpected
 * interrupt exits with 128 + 4 (132).
 *
 * Stack measurement: before main() the free RAM between the end of .bss and the stack
 * pointer is painted with TTE_STACK_PAINT; after main() returns, the lowest word that no
 * longer holds it is the stack's high-water mark.  Its depth below _estack is written to the
 * host file stack.bin (one uint32).  A depth past the reserve (_stack_limit, the linker
 * script's _Min_Stack_Size) is a stack overflow: one line on the console and exit status
 * 128 + 5 (133), whatever main() returned.
 *
 * The symbols come from the linker scripts beside this file (stm32f746_qemu.ld, stm32f746.ld).
 */
#include <stdint.h>

#include "tte_semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack, _stack_limit;
extern int main(void);
extern void __libc_init_array(void) __attribute__((weak)); /* newlib; absent without libc */

/* -nostartfiles drops crti.o, which would define these two for __libc_init_array. */
void _init(void) {}
void _fini(void) {}

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

#define TTE_EXIT_FAULT (128 + 3)
#define TTE_EXIT_UNEXPECTED_IRQ (128 + 4)
#define TTE_EXIT_STACK_OVERFLOW (128 + 5)
#define TTE_STACK_PAINT 0x5A7ACCEDu
/* Words just below the stack pointer left unpainted: Reset_Handler's own frame may grow. */
#define TTE_STACK_PAINT_GAP 64u

/* Paint [end of .bss, sp - gap). */
static void tte_stack_paint(void)
{
    volatile uint32_t *p = &_ebss;
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while ((uint32_t *)p < sp - TTE_STACK_PAINT_GAP) {
        *p++ = TTE_STACK_PAINT;
    }
}

/* Bytes from _estack down to the lowest word the stack wrote. */
static uint32_t tte_stack_used(void)
{
    const volatile uint32_t *p = &_ebss;
    while (p < &_estack && *p == TTE_STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

/* Write the high-water mark to stack.bin; the exit status, 133 on a stack overflow. */
static int tte_stack_report(int status)
{
    const uint32_t used = tte_stack_used();
    const uint32_t reserve = (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_stack_limit);
    const int fd = tte_sh_open("stack.bin", TTE_SH_MODE_WB);
    if (fd >= 0) {
        tte_sh_write(fd, &used, sizeof used);
        tte_sh_close(fd);
    }
    if (used > reserve) {
        tte_sh_puts("\n*** stack overflow: ");
        tte_sh_putu(used);
        tte_sh_puts(" B used, the reserve is ");
        tte_sh_putu(reserve);
        tte_sh_puts(" B\n");
        return TTE_EXIT_STACK_OVERFLOW;
    }
    return status;
}

/* Runs before .data and .bss exist and before the FPU is on: no float, no globals here. */
__attribute__((noreturn, used)) void Reset_Handler(void)
{
    SCB_CPACR |= 0xFu << 20;                             /* CP10 + CP11 full access: the FPU */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    SCB_CCR |= 1u << 4;                                  /* DIV_0_TRP: x / 0 faults */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);   /* MemManage, BusFault, UsageFault */

    /* volatile pointers keep GCC from turning the loops into memcpy/memset calls */
    volatile uint32_t *src = &_sidata;
    volatile uint32_t *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;

    if (__libc_init_array) __libc_init_array();
    tte_stack_paint();
    tte_sh_exit(tte_stack_report(main()));
}

/* frame: the exception stack frame (r0-r3, r12, lr, pc, xpsr). */
__attribute__((noreturn)) static void tte_fault_report(const char *name, const uint32_t *frame)
{
    tte_sh_puts("\n*** ");
    tte_sh_puts(name);
    tte_sh_puts(" CFSR=");
    tte_sh_puthex(SCB_CFSR);
    tte_sh_puts(" HFSR=");
    tte_sh_puthex(SCB_HFSR);
    tte_sh_puts(" MMFAR=");
    tte_sh_puthex(SCB_MMFAR);
    tte_sh_puts(" BFAR=");
    tte_sh_puthex(SCB_BFAR);
    tte_sh_puts(" PC=");
    tte_sh_puthex(frame[6]);
    tte_sh_puts(" LR=");
    tte_sh_puthex(frame[5]);
    tte_sh_puts("\n");
    tte_sh_exit(TTE_EXIT_FAULT);
}

/* A naked entry picks the active stack (MSP or PSP, from EXC_RETURN bit 2) and jumps to C. */
#define TTE_FAULT_HANDLER(fn, label)                                                        \
    __attribute__((used, noreturn)) static void fn##_c(const uint32_t *frame)               \
    {                                                                                       \
        tte_fault_report(label, frame);                                                     \
    }                                                                                       \
    __attribute__((naked)) void fn(void)                                                    \
    {                                                                                       \
        __asm__ volatile("tst lr, #4\n\tite eq\n\tmrseq r0, msp\n\tmrsne r0, psp\n\tb " #fn \
                         "_c");                                                             \
    }

TTE_FAULT_HANDLER(HardFault_Handler, "HardFault")
TTE_FAULT_HANDLER(MemManage_Handler, "MemManage")
TTE_FAULT_HANDLER(BusFault_Handler, "BusFault")
TTE_FAULT_HANDLER(UsageFault_Handler, "UsageFault")

void Default_Handler(void)
{
    tte_sh_puts("\n*** unexpected interrupt\n");
    tte_sh_exit(TTE_EXIT_UNEXPECTED_IRQ);
}
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* 16 system exceptions, then 16 external interrupts that all go to Default_Handler. */
#define TTE_VECTORS 32
__attribute__((section(".isr_vector"), used)) const void *const tte_vectors[TTE_VECTORS] = {
    &_estack,
    (const void *)Reset_Handler,
    (const void *)NMI_Handler,
    (const void *)HardFault_Handler,
    (const void *)MemManage_Handler,
    (const void *)BusFault_Handler,
    (const void *)UsageFault_Handler,
    0,
    0,
    0,
    0,
    (const void *)SVC_Handler,
    (const void *)DebugMon_Handler,
    0,
    (const void *)PendSV_Handler,
    (const void *)SysTick_Handler,
    [16 ... TTE_VECTORS - 1] = (const void *)Default_Handler,
};
