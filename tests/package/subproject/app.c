/* The parent's program. `unused` draws a warning from -Wall, which must not
 * become an error because of the SDK. */
#include <mparticle.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    int unused;
    mp_batch batch = {.environment = MP_ENVIRONMENT_DEVELOPMENT};
    char out[64];
    size_t len = 0;
    if (mp_encode_batch_to(&batch, out, sizeof out, &len, NULL) != MP_OK)
        return 1;
    puts(out);
    return strcmp(out, "{\"environment\":\"development\"}") != 0;
}
