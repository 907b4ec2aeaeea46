/* Clocks and sleeping, in milliseconds. */
#ifndef MP_COMMON_CLOCK_H
#define MP_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock: for deadlines and waits. */
int64_t mp__monotonic_ms(void);
/* Milliseconds since the epoch: for Retry-After dates and timestamps. */
int64_t mp__realtime_ms(void);
/* Sleeps ms milliseconds (resuming after signals). */
void mp__sleep_ms(int64_t ms);

#endif
