/* The umbrella header alone must compile as strict C11 with every warning. */
#include <mparticle.h>

int main(void) {
    mp_batch batch = {.environment = MP_ENVIRONMENT_DEVELOPMENT, .mpid = MP_INT(1)};
    return batch.environment == MP_ENVIRONMENT_DEVELOPMENT ? 0 : 1;
}
