/*
 * slow_clients: a slowloris against a local HTTP server, to check that
 * stalled connections "do not delay anyone else".
 *
 *   slow_clients PORT HEADER_CONNS BODY_CONNS INTERVAL_MS SECONDS
 *
 * Opens HEADER_CONNS connections to 127.0.0.1:PORT that each send one byte
 * of a request's headers every INTERVAL_MS, and BODY_CONNS that send whole
 * headers of a chunked POST and then one byte of body every INTERVAL_MS.
 * Every connection never completes its request. Meanwhile it sends one
 * ordinary request every 250 ms on a new connection and times its answer.
 * After SECONDS it prints, on standard output:
 *
 *   opened N
 *   closed_by_server N       connections the server closed
 *   longest_open_s X         the longest a slow connection stayed open
 *   requests N ok N          ordinary requests, and those answered at all
 *   slowest_answer_s X       the slowest of them
 *
 * and exits 0 (2 on a usage error, 77 when the descriptor limit cannot
 * hold the connections, so ctest can skip). Only 127.0.0.1 is contacted.
 * One thread and poll(): thousands of connections cost a descriptor each.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_EVERY_S 0.25
#define PROBE_TIMEOUT_S 5.0

static const char header_text[] =
    "POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
static const char chunked_head[] =
    "POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Authorization: Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=\r\n"
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
static const char body_text[] = "1\r\n{\r\n1\r\n \r\n1\r\n \r\n1\r\n \r\n1\r\n \r\n1\r\n \r\n";

typedef struct slow {
    int fd;
    int body;       /* drips a body, not headers */
    size_t sent;    /* bytes of its text sent */
    double opened, closed; /* closed < 0 while open */
} slow;

typedef struct probe {
    int fd;
    double started;
    size_t got;
} probe;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_local(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Room for every connection: the hard limit, or 77 (skip) if too small. */
static int enough_descriptors(size_t need) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur >= need + 64;
}

/* Sends the next byte of a slow connection's text; notes when the server closed it. */
static void drip(slow *c, double t) {
    if (c->closed >= 0)
        return;
    const char *text = c->body ? body_text : header_text;
    size_t len = c->body ? sizeof body_text - 1 : sizeof header_text - 1;
    char byte = text[c->sent % len]; /* headers go on forever: never a blank line */
    if (send(c->fd, &byte, 1, MSG_NOSIGNAL) == 1) {
        c->sent++;
        return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
        c->closed = t;
        close(c->fd);
    }
}

/* Whether the server has closed c (EOF or reset); drains what it sent. */
static void check_closed(slow *c, double t) {
    if (c->closed >= 0)
        return;
    char buf[512];
    ssize_t n;
    while ((n = recv(c->fd, buf, sizeof buf, 0)) > 0) {
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        c->closed = t;
        close(c->fd);
    }
}

static int start_probe(probe *p, int port) {
    static const char body[] =
        "{\"environment\":\"development\",\"user_identities\":{\"customer_id\":\"c\"},"
        "\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"e\","
        "\"custom_event_type\":\"other\"}}]}";
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    p->fd = connect_local(port);
    p->started = now_s();
    p->got = 0;
    if (p->fd < 0)
        return -1;
    /* Small enough for the socket buffer: sent at once. */
    return send(p->fd, req, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* 1 when the probe's status line arrived, -1 when it failed, 0 while waiting. */
static int poll_probe(probe *p) {
    char buf[256];
    ssize_t n = recv(p->fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        return strncmp(buf, "HTTP/1.1 2", 10) == 0 ? 1 : -1;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return -1;
    return now_s() - p->started > PROBE_TIMEOUT_S ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: slow_clients PORT HEADER_CONNS BODY_CONNS INTERVAL_MS SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]);
    size_t nh = (size_t)atol(argv[2]), nb = (size_t)atol(argv[3]);
    double interval = atof(argv[4]) / 1000.0, seconds = atof(argv[5]);
    size_t n = nh + nb;
    if (port <= 0 || interval <= 0 || seconds <= 0) {
        fprintf(stderr, "slow_clients: bad arguments\n");
        return 2;
    }
    if (!enough_descriptors(n)) {
        printf("skipped: the descriptor limit cannot hold %zu connections\n", n);
        return 77;
    }
    slow *conns = calloc(n ? n : 1, sizeof *conns);
    size_t opened = 0;
    for (size_t i = 0; i < n; i++) {
        conns[i].fd = connect_local(port);
        conns[i].body = i >= nh;
        conns[i].opened = now_s();
        conns[i].closed = conns[i].fd < 0 ? conns[i].opened : -1;
        if (conns[i].fd < 0)
            continue;
        opened++;
        if (conns[i].body)
            send(conns[i].fd, chunked_head, sizeof chunked_head - 1, MSG_NOSIGNAL);
    }

    double t0 = now_s(), next_drip = t0, next_probe = t0;
    probe p = {-1, 0, 0};
    int probes = 0, probes_ok = 0;
    double slowest = 0;
    while (now_s() - t0 < seconds) {
        double t = now_s();
        if (t >= next_drip) {
            for (size_t i = 0; i < n; i++) {
                check_closed(&conns[i], t);
                drip(&conns[i], t);
            }
            next_drip += interval;
        }
        if (p.fd < 0 && t >= next_probe) {
            probes++;
            if (start_probe(&p, port) != 0) {
                if (p.fd >= 0)
                    close(p.fd);
                p.fd = -1;
                slowest = PROBE_TIMEOUT_S;
            }
            next_probe = t + PROBE_EVERY_S;
        }
        if (p.fd >= 0) {
            int r = poll_probe(&p);
            if (r != 0) {
                double took = now_s() - p.started;
                probes_ok += r > 0;
                if (took > slowest || r < 0)
                    slowest = r < 0 ? PROBE_TIMEOUT_S : took;
                close(p.fd);
                p.fd = -1;
            }
        }
        struct timespec nap = {0, 2 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    double t = now_s(), longest = 0;
    size_t closed = 0;
    for (size_t i = 0; i < n; i++) {
        check_closed(&conns[i], t);
        if (conns[i].fd < 0 && conns[i].closed == conns[i].opened)
            continue; /* never connected */
        double end = conns[i].closed >= 0 ? conns[i].closed : t;
        if (end - conns[i].opened > longest)
            longest = end - conns[i].opened;
        if (conns[i].closed >= 0)
            closed++;
        else
            close(conns[i].fd);
    }
    if (p.fd >= 0)
        close(p.fd);
    printf("opened %zu\nclosed_by_server %zu\nlongest_open_s %.1f\nrequests %d ok %d\n"
           "slowest_answer_s %.2f\n",
           opened, closed, longest, probes, probes_ok, slowest);
    free(conns);
    return 0;
}
