/* The umbrella header alone must compile as strict C11 with every warning. */
#include <mparticle.h>

int main(void) {
    mp_batch batch = {.environment = MP_ENVIRONMENT_DEVELOPMENT, .mpid = MP_INT(1)};
    /* The _INIT macros set the version (and nothing else). */
    mp_validate_options vo = MP_VALIDATE_OPTIONS_INIT;
    mp_curl_options cu = MP_CURL_OPTIONS_INIT;
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    if (vo.version != MP_VALIDATE_OPTIONS_VERSION || cu.version != MP_CURL_OPTIONS_VERSION ||
        uo.version != MP_UPLOADER_OPTIONS_VERSION || uo.merge != 0)
        return 1;
    return batch.environment == MP_ENVIRONMENT_DEVELOPMENT ? 0 : 1;
}
