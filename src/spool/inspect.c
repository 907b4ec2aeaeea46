/* mp_spool_inspect() (spool.h, public): the read-only scan, as public figures. */
#include <string.h>

#include "mparticle/spool.h"
#include "spool/spool.h"

mp_error mp_spool_inspect(const char *dir, mp_spool_info *info, mp_diag *diag) {
    if (!dir || !*dir || !info || info->version > MP_SPOOL_INFO_VERSION)
        return MP_ERR_INVALID_ARGUMENT;
    mp__spool_scan sc;
    mp_error err = mp__spool_inspect(dir, &sc, diag);
    if (err)
        return err;
    mp_spool_info out = {MP_SPOOL_INFO_VERSION, sc.batches, sc.json_bytes, sc.disk_bytes,
                         sc.segments, sc.oldest_unixtime_ms, sc.corrupt_records,
                         sc.corrupt_bytes, sc.locked_by};
    /* Version 1 is the whole struct; a later one copies only its prefix. */
    memcpy(info, &out, sizeof out);
    return MP_OK;
}
