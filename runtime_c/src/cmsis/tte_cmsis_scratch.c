/*
 * Title:       tte_cmsis_scratch.c
 * Description: The scratch of the CMSIS-NN backend's adapters: the tte_ctx each call is given,
 *              a buffer the planner placed in the arena and sized by the adapter's
 *              _scratch_bytes formula (tinyengine_compiler/registry.py cmsis_scratch_bytes).
 *              There is no static scratch: a call whose ctx is too small fails.
 *
 * Layout:      bytes, 4-byte aligned (CMSIS-NN reads its buffers as int16 / int32).
 * Quantization: none.
 */
#include "tte_cmsis.h"

tte_status tte_cmsis_context(const tte_ctx *ctx, int32_t need, cmsis_nn_context *out)
{
    out->buf = NULL;
    out->size = 0;
    if (need <= 0) {
        return TTE_OK;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < need) {
        return TTE_ERR_SCRATCH;
    }
    out->buf = ctx->buf;
    out->size = ctx->size;
    return TTE_OK;
}
