/* Adaptive mutexes (lock.h). PTHREAD_MUTEX_ADAPTIVE_NP is a glibc extension. */
#define _GNU_SOURCE
#include "common/lock.h"

int mp__mutex_init_adaptive(pthread_mutex_t *lock) {
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc)
        return rc;
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    rc = pthread_mutex_init(lock, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
#else
    return pthread_mutex_init(lock, NULL);
#endif
}
