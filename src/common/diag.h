/* Internal helpers to append problems to an mp_diag. */
#ifndef MP_COMMON_DIAG_H
#define MP_COMMON_DIAG_H

#include <stdarg.h>

#include "mparticle/common.h"

#if defined(__GNUC__)
#  define MP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define MP__PRINTF(f, a)
#endif

/* Whether d stores problems of severity sev (a NULL diag stores none):
 * callers test it before they render a path or a message. */
int mp__diag_wants(const mp_diag *d, mp_severity sev);

/* Appends a problem; a NULL diag ignores it. The message is printf-formatted. */
void mp__diag_add(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                  const char *fmt, ...) MP__PRINTF(6, 7);
/* Same, with a 1-based line and column in the input text. */
void mp__diag_add_at(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                     int line, int column, const char *fmt, ...) MP__PRINTF(8, 9);
void mp__diag_vadd(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                   int line, int column, const char *fmt, va_list ap) MP__PRINTF(8, 0);

#endif
