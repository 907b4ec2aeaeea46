/* The process generation of fork.h: a pthread_atfork() child handler
 * moves the counter, so reading it is one atomic load. */
#include "common/fork.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_uint generation;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) {
    atomic_fetch_add(&generation, 1);
}

static void register_handler(void) {
    pthread_atfork(NULL, NULL, on_fork_child);
}

unsigned mp__fork_generation(void) {
    pthread_once(&once, register_handler);
    return atomic_load_explicit(&generation, memory_order_relaxed);
}
