/* Encoder entry points for the rest of the library. */
#ifndef MP_CODEC_ENCODE_INTERNAL_H
#define MP_CODEC_ENCODE_INTERNAL_H

#include "mparticle/codec.h"

/* mp_encode_batch() with the batch index that problems should carry. */
mp_error mp__encode_batch_into(const mp_batch *batch, mp_buffer *buf, mp_diag *diag,
                               long batch_index);

#endif
