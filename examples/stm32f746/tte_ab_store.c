/* tte_ab_store.c: see tte_ab_store.h. */
#include "tte_ab_store.h"

#include <string.h>

/* The slot's sequence number, or 0 when its header is not a committed one (erased, torn). */
static uint32_t sequence_of(const uint8_t *slot)
{
    uint32_t words[2];
    memcpy(words, slot, sizeof words);
    return words[0] != 0u && words[0] == ~words[1] ? words[0] : 0u;
}

/* Whether slot s is committed and holds a checkpoint the engine would take. */
static int good(const tte_ab_flash *flash, int32_t s, uint32_t seq)
{
    return seq != 0u &&
           tte_checkpoint_check(flash->slot[s] + TTE_AB_HEADER_BYTES, TTE_CHECKPOINT_BYTES) == TTE_CHECKPOINT_OK;
}

int32_t tte_ab_save(const tte_ab_flash *flash)
{
    const uint32_t seq[2] = {sequence_of(flash->slot[0]), sequence_of(flash->slot[1])};
    const int good0 = good(flash, 0, seq[0]), good1 = good(flash, 1, seq[1]);
    /* keep the newest good checkpoint, whatever the sequence number of a bad one says */
    const int32_t keep = good0 && good1 ? (seq[1] > seq[0] ? 1 : 0) : good0 ? 0 : 1;
    const int32_t target = 1 - keep;
    /* above both, so that the new checkpoint is the newest */
    const uint32_t next = (seq[0] > seq[1] ? seq[0] : seq[1]) + 1u;
    const uint32_t commit[2] = {next, ~next};
    uint8_t header[TTE_CHECKPOINT_HEADER_BYTES];
    uint32_t offset = TTE_AB_HEADER_BYTES;
    const void *data;
    size_t n;
    int32_t i;

    if (flash->erase(target, flash->user) != 0 || tte_checkpoint_header(header, sizeof header) != sizeof header ||
        flash->program(target, offset, header, sizeof header, flash->user) != 0) {
        return -1;
    }
    offset += sizeof header;
    for (i = 0; (n = tte_trainable_tensor(i, &data)) != 0; i++) {
        if (flash->program(target, offset, data, (uint32_t)n, flash->user) != 0) {
            return -1;
        }
        offset += (uint32_t)n;
    }
    /* the commit, last: until it is whole, a load ignores this slot */
    return flash->program(target, 0u, commit, sizeof commit, flash->user) == 0 ? target : -1;
}

int32_t tte_ab_load(const tte_ab_flash *flash)
{
    const uint32_t seq[2] = {sequence_of(flash->slot[0]), sequence_of(flash->slot[1])};
    const int32_t newest = seq[1] > seq[0] ? 1 : 0;
    const int32_t order[2] = {newest, 1 - newest};
    int32_t k;
    for (k = 0; k < 2; k++) {
        const int32_t s = order[k];
        if (seq[s] != 0u &&
            tte_set_trainable(flash->slot[s] + TTE_AB_HEADER_BYTES, TTE_CHECKPOINT_BYTES) == TTE_CHECKPOINT_OK) {
            return s;
        }
    }
    return -1;
}
