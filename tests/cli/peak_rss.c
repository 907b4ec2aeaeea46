/*
 * peak_rss CMD [ARGS...]: runs CMD and prints its peak resident set size
 * on standard error as "peak_rss_kb N", then exits with CMD's status (127
 * when it cannot be run). For tests that compare the memory of two runs:
 * /usr/bin/time is not installed on fresh machines, and a child forked by
 * a large process (Python holding a test input) would inherit that
 * process's high-water mark; this small one adds about a megabyte.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: peak_rss CMD [ARGS...]\n", stderr);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("peak_rss: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("peak_rss: wait4");
        return 127;
    }
    fprintf(stderr, "peak_rss_kb %ld\n", ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
