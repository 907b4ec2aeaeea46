#include "mparticle/version.h"

int mp_version(void) {
    return MP_VERSION_NUM;
}

const char *mp_version_string(void) {
    return MP_VERSION_STRING;
}
