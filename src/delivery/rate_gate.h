/*
 * The rate-limit gate of one destination: after a 429 with Retry-After,
 * nothing is sent to it until the time has passed. One gate per client,
 * shared by its synchronous calls and every uploader built on it, never
 * global. Lock-free: a monotonic time that only moves forward.
 */
#ifndef MP_DELIVERY_RATE_GATE_H
#define MP_DELIVERY_RATE_GATE_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct mp__rate_gate {
    _Atomic int64_t until_ms; /* monotonic ms before which nothing is sent */
} mp__rate_gate;

void mp__gate_init(mp__rate_gate *g);
/* When the gate opens (monotonic ms); in the past when it is open. */
int64_t mp__gate_until(const mp__rate_gate *g);
/* Closes the gate until `until_ms`, unless it is already closed for longer. */
void mp__gate_hold_until(mp__rate_gate *g, int64_t until_ms);

#endif
