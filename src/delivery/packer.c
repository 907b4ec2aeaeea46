/* The packer of packer.h. */
#include "delivery/packer.h"

void mp__packer_start(mp__packer *p) {
    p->batches = 0;
    p->bytes = 2;
}

int mp__packer_fits(const mp__packer *p, size_t len) {
    if (p->batches == 0)
        return 1;
    return p->batches < MP_MAX_BATCHES_PER_REQUEST && p->bytes + 1 + len < MP_MAX_REQUEST_BYTES;
}

void mp__packer_add(mp__packer *p, size_t len) {
    p->bytes += len + (p->batches > 0);
    p->batches++;
}

mp_error mp__pack_write(mp_buffer *out, const char *const *jsons, const size_t *lens, size_t n) {
    mp_error err = mp_buffer_append(out, "[", 1);
    for (size_t i = 0; i < n && !err; i++) {
        if (i > 0)
            err = mp_buffer_append(out, ",", 1);
        if (!err)
            err = mp_buffer_append(out, jsons[i], lens[i]);
    }
    return err ? err : mp_buffer_append(out, "]", 1);
}
