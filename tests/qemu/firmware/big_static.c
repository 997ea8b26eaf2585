/* big_static.c - a zero-initialised array of BIG_KB kilobytes (a -D from the test). */
#include <stdint.h>

volatile uint8_t g_big[BIG_KB * 1024];

int main(void)
{
    g_big[0] = 1;
    return g_big[BIG_KB * 1024 - 1];
}
