/* The rate-limit gate of rate_gate.h. */
#include "delivery/rate_gate.h"

void mp__gate_init(mp__rate_gate *g) {
    atomic_init(&g->until_ms, 0);
}

int64_t mp__gate_until(const mp__rate_gate *g) {
    return atomic_load_explicit(&((mp__rate_gate *)g)->until_ms, memory_order_relaxed);
}

void mp__gate_hold_until(mp__rate_gate *g, int64_t until_ms) {
    int64_t cur = atomic_load_explicit(&g->until_ms, memory_order_relaxed);
    while (cur < until_ms &&
           !atomic_compare_exchange_weak_explicit(&g->until_ms, &cur, until_ms,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}
