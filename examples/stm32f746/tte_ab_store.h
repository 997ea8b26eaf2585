/*
 * tte_ab_store.h: keep the engine's checkpoint across resets in two Flash slots, A and B.
 *
 * A save writes the slot that does not hold the newest good checkpoint (committed, and passing
 * tte_checkpoint_check): it erases it, programs the checkpoint (tte_checkpoint_header, then each
 * tte_trainable_tensor from where it lives, with no copy in RAM), and only then the slot's
 * sequence number and its complement, as the commit.  A reset or power cut in the middle leaves
 * the other slot as it was, and this one without a valid commit (or, cut within the last bytes
 * of the commit, complete: the old state or the new, never a mix).  A load asks
 * tte_set_trainable to take the newest committed slot, and the other one if that is refused;
 * the engine keeps its weights when neither is good.  (The sequence number would wrap after
 * 2^32 - 1 saves, far past any Flash's endurance.)
 *
 * Slot layout: sequence number (uint32), its complement, then TTE_CHECKPOINT_BYTES.  Flash is
 * reached through tte_ab_flash, so the same code runs on the chip (HAL_FLASH_* in the callbacks,
 * README.md) and in the QEMU test (tests/qemu/test_ab_store.py), which cuts writes short.
 */
#ifndef TTE_AB_STORE_H
#define TTE_AB_STORE_H

#include <stdint.h>

#include "tte_model.h"

#define TTE_AB_HEADER_BYTES 8u
/** The bytes a slot needs. */
#define TTE_AB_SLOT_BYTES (TTE_AB_HEADER_BYTES + TTE_CHECKPOINT_BYTES)

/** The two slots: memory-mapped for reading, erased and programmed through the callbacks, which
 *  return 0 on success.  program() writes n bytes at `offset` into an erased slot. */
typedef struct {
    const uint8_t *slot[2];
    int (*erase)(int32_t slot, void *user);
    int (*program)(int32_t slot, uint32_t offset, const void *data, uint32_t n, void *user);
    void *user;
} tte_ab_flash;

/** Save the engine's trained parameters; returns the slot written (0 or 1), or -1 if Flash failed. */
int32_t tte_ab_save(const tte_ab_flash *flash);
/** Restore the newest checkpoint the engine accepts (after tte_init); returns its slot, or -1
 *  when neither slot holds one (the engine then keeps its weights). */
int32_t tte_ab_load(const tte_ab_flash *flash);

#endif /* TTE_AB_STORE_H */
