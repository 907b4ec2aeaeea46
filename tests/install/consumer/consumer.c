/* Uses the installed SDK: the version must match and a batch must encode. */
#include <mparticle.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    if (mp_version() != MP_VERSION_NUM) {
        fprintf(stderr, "header %s, library %s\n", MP_VERSION_STRING, mp_version_string());
        return 1;
    }
    mp_batch batch = {.environment = MP_ENVIRONMENT_PRODUCTION, .mpid = MP_INT(-5)};
    char out[128];
    size_t len = 0;
    if (mp_encode_batch_to(&batch, out, sizeof out, &len, NULL) != MP_OK)
        return 1;
    const char *want = "{\"environment\":\"production\",\"mpid\":-5}";
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "got %s\n", out);
        return 1;
    }
    puts(out);
    return 0;
}
