/* precision.c - a dot product in float, or in double when USE_DOUBLE is defined. */
#ifdef USE_DOUBLE
typedef double real;
#else
typedef float real;
#endif

volatile real g_a[4] = {1.5f, -2.0f, 0.25f, 3.0f};
volatile real g_b[4] = {2.0f, 0.5f, 4.0f, -1.0f};

int main(void)
{
    real acc = 0;
    for (int i = 0; i < 4; i++) acc += g_a[i] * g_b[i];
    return acc == (real)-0.0f ? 0 : (int)acc + 100;   /* 3 - 1 + 1 - 3 = 0 */
}
