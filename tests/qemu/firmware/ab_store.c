/* ab_store.c - examples/stm32f746/tte_ab_store.c against power cuts, on a simulated NOR Flash.
 *
 * The "Flash" is two slots in RAM that behave like NOR Flash: erase sets 0xFF, programming can
 * only clear bits, and after the cut budget's bytes the power fails (program returns an error
 * and writes nothing more).  Reads inputs.bin (3 int8 inputs) and labels.bin (3 int32) and
 * writes events.bin: per event, the int32 slot tte_ab_load returned and the trained tensors
 * after it (TTE_TRAINABLE_BYTES), in this order:
 *   0      a load from erased Flash (-1: the Flash initial weights stay);
 *   1      step 1, a full save, a reset (tte_init), a load: the state after step 1;
 *   2 ..   per cut point: step 2 from that state, a save cut short, a reset, a load: again the
 *          state after step 1;
 *   +1     step 2, a full save (to B), a reset, a load: the state after step 2;
 *   +2     a bit of B's parameters flipped (B still committed), a reset, a load: A's state;
 *   +3     step 2 from it, a save cut short (it must go to B, the bad slot, not A), a reset, a
 *          load: A's state again;
 *   +4     step 2, a full save (to B, the newest sequence number), a reset, a load: step 2's.
 */
#include <stdint.h>
#include <string.h>

#include "tte_ab_store.h"
#include "tte_model.h"
#include "tte_semihost.h"

#define SLOT_BYTES ((TTE_AB_SLOT_BYTES + 3u) & ~3u)

static uint8_t g_flash[2][SLOT_BYTES];
static uint32_t g_budget; /* bytes the next program calls may still write before the power fails */
static int g_events = -1;

static int erase(int32_t slot, void *user)
{
    (void)user;
    memset(g_flash[slot], 0xFF, SLOT_BYTES);
    return 0;
}

static int program(int32_t slot, uint32_t offset, const void *data, uint32_t n, void *user)
{
    const uint8_t *bytes = (const uint8_t *)data;
    uint32_t i;
    (void)user;
    for (i = 0; i < n; i++) {
        if (g_budget == 0u) {
            return -1;
        }
        g_budget--;
        g_flash[slot][offset + i] &= bytes[i];
    }
    return 0;
}

static const tte_ab_flash g_store = {{g_flash[0], g_flash[1]}, erase, program, 0};

static int record(int32_t slot)
{
    const void *data;
    size_t n;
    int32_t i;
    if (tte_sh_write(g_events, &slot, sizeof slot) != 0) {
        return -1;
    }
    for (i = 0; (n = tte_trainable_tensor(i, &data)) != 0; i++) {
        if (tte_sh_write(g_events, data, (uint32_t)n) != 0) {
            return -1;
        }
    }
    return 0;
}

static int step(int32_t k, const int32_t *labels)
{
    float loss;
    int fd = tte_sh_open("inputs.bin", TTE_SH_MODE_RB);
    int32_t i, ok = fd >= 0;
    for (i = 0; ok && i <= k; i++) {
        ok = tte_sh_read(fd, tte_input(), TTE_INPUT_BYTES) == 0;
    }
    tte_sh_close(fd);
    return ok && tte_train_step(tte_input(), labels[k], 0.05f, &loss) == TTE_STEP_OK ? 0 : -1;
}

static int reset_and_load(void)
{
    tte_init();
    return record(tte_ab_load(&g_store));
}

int main(void)
{
    /* cut points, in bytes programmed: none, inside the checkpoint header, after it, half the
       parameters, all but one byte, all of them (no commit), half the commit */
    const uint32_t cuts[] = {0u, 10u, TTE_CHECKPOINT_HEADER_BYTES, TTE_CHECKPOINT_BYTES - TTE_TRAINABLE_BYTES / 2u,
                             TTE_CHECKPOINT_BYTES - 1u, TTE_CHECKPOINT_BYTES, TTE_CHECKPOINT_BYTES + 4u};
    int32_t labels[3];
    uint32_t c;
    int fd = tte_sh_open("labels.bin", TTE_SH_MODE_RB);
    if (fd < 0 || tte_sh_read(fd, labels, sizeof labels) != 0) {
        return 1;
    }
    tte_sh_close(fd);
    g_events = tte_sh_open("events.bin", TTE_SH_MODE_WB);
    if (g_events < 0) {
        return 2;
    }
    erase(0, 0);
    erase(1, 0);
    tte_init();
    if (record(tte_ab_load(&g_store)) != 0 || step(0, labels) != 0) {
        return 3;
    }
    g_budget = UINT32_MAX;
    if (tte_ab_save(&g_store) != 0 || reset_and_load() != 0) {
        return 4;
    }
    for (c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        if (step(1, labels) != 0) {
            return 5;
        }
        g_budget = cuts[c];
        if (tte_ab_save(&g_store) != -1 || reset_and_load() != 0) {
            return 6;
        }
    }
    g_budget = UINT32_MAX;
    if (step(1, labels) != 0 || tte_ab_save(&g_store) != 1 || reset_and_load() != 0) {
        return 7;
    }
    g_flash[1][TTE_AB_HEADER_BYTES + TTE_CHECKPOINT_BYTES - 1u] ^= 0x04u; /* bit rot in B */
    if (reset_and_load() != 0 || step(1, labels) != 0) {
        return 8;
    }
    g_budget = TTE_CHECKPOINT_BYTES / 2u;
    if (tte_ab_save(&g_store) != -1 || reset_and_load() != 0) {
        return 9;
    }
    g_budget = UINT32_MAX;
    if (step(1, labels) != 0 || tte_ab_save(&g_store) != 1 || reset_and_load() != 0) {
        return 10;
    }
    tte_sh_close(g_events);
    return 0;
}
