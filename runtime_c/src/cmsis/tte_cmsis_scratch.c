/*
 * Title:       tte_cmsis_scratch.c
 * Description: The scratch of the CMSIS-NN backend's adapters: the tte_ctx a kernel is
 *              given when it is large enough, else one static buffer of
 *              TTE_CMSIS_SCRATCH_BYTES shared by every adapter (see tte_cmsis.h for why).
 *
 * Layout:      bytes, 8-byte aligned (CMSIS-NN reads its buffers as int16 / int32).
 * Quantization: none.
 */
#include "tte_cmsis.h"

#ifndef TTE_CMSIS_SCRATCH_BYTES
#error "define TTE_CMSIS_SCRATCH_BYTES (tte.mk does): the bytes of the shared CMSIS-NN scratch"
#endif

#if TTE_CMSIS_SCRATCH_BYTES > 0
static int64_t tte_cmsis_scratch[(TTE_CMSIS_SCRATCH_BYTES + 7) / 8];
#endif

tte_status tte_cmsis_context(const tte_ctx *ctx, int32_t need, cmsis_nn_context *out)
{
    out->buf = NULL;
    out->size = 0;
    if (need <= 0) {
        return TTE_OK;
    }
    if (ctx != NULL && ctx->buf != NULL && ctx->size >= need) {
        out->buf = ctx->buf;
        out->size = ctx->size;
        return TTE_OK;
    }
#if TTE_CMSIS_SCRATCH_BYTES > 0
    if (need <= (int32_t)sizeof tte_cmsis_scratch) {
        out->buf = tte_cmsis_scratch;
        out->size = (int32_t)sizeof tte_cmsis_scratch;
        return TTE_OK;
    }
#endif
    return TTE_ERR_SCRATCH;
}
