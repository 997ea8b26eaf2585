/* fault.c - an integer division by zero: startup enables DIV_0_TRP, so this is a UsageFault. */
volatile int g_zero;

int main(void) { return 10 / g_zero; }
