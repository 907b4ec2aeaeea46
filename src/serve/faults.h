/* Faults made on purpose: the script of statuses, and random resets and
 * 5xx from a seeded generator. */
#ifndef MP_SERVE_FAULTS_H
#define MP_SERVE_FAULTS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Most script entries queued at once: a bound on memory, far beyond any test. */
#define SRV_SCRIPT_MAX (1u << 20)

typedef enum mp__srv_fault {
    SRV_FAULT_NONE = 0,   /* handle the request normally */
    SRV_FAULT_STATUS = 1, /* answer *status without looking at the body */
    SRV_FAULT_RESET = 2   /* close the connection without an answer */
} mp__srv_fault;

typedef struct mp__srv_faults {
    pthread_mutex_t lock;
    int *script; /* a ring of entries */
    size_t head, len, cap;
    uint64_t rng;
    double fail_rate, reset_rate;
} mp__srv_faults;

int mp__srv_faults_init(mp__srv_faults *f, double fail_rate, double reset_rate, uint64_t seed);
void mp__srv_faults_destroy(mp__srv_faults *f);

/* 1 if `status` may be a script entry (see mp_serve_push_script()). */
int mp__srv_faults_valid_entry(int status);

/* Appends n entries (each already checked with mp__srv_faults_valid_entry()).
 * Returns 0, or -1 when out of memory or over SRV_SCRIPT_MAX (nothing appended). */
int mp__srv_faults_push(mp__srv_faults *f, const int *statuses, size_t n);

/*
 * The fault for the next request: the next script entry if there is one
 * (a 2xx entry means none), else a reset with probability reset_rate, else
 * a random 5xx with probability fail_rate. Thread-safe; the generator is
 * only drawn when its rate is not 0, so a script does not shift it.
 */
mp__srv_fault mp__srv_faults_next(mp__srv_faults *f, int *status);

#endif
