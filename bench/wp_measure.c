/*
 * wp_measure CMD [ARGS...]: runs CMD with its standard output sent to
 * /dev/null (standard input and error are inherited) and prints one line on
 * its own standard output:
 *
 *     wall_s user_s sys_s maxrss_kb status
 *
 * wall from CLOCK_MONOTONIC around fork..wait4, user/sys/maxrss from the
 * child's rusage (wait4), status the child's exit status (128+N for signal
 * N, 127 when it cannot be run); wp_measure exits with that status too.
 * Used by bench/whole_process.sh: GNU time is not installed on fresh
 * machines, and measuring from a small parent keeps a large parent's RSS
 * high-water mark out of the child's figure (see tests/cli/peak_rss.c).
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: wp_measure CMD [ARGS...]\n", stderr);
        return 2;
    }
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("wp_measure: fork");
        return 127;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
            perror("wp_measure: /dev/null");
            _exit(127);
        }
        if (fd != STDOUT_FILENO) close(fd);
        execvp(argv[1], argv + 1);
        perror("wp_measure: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wp_measure: wait4");
        return 127;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%.6f %.6f %.6f %ld %d\n", wall, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss, rc);
    return rc;
}
