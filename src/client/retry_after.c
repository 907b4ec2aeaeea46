/* Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int month_index(const char *s) {
    for (int i = 0; i < 12; i++) {
        if (strncasecmp(s, months[i], 3) == 0)
            return i;
    }
    return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), for any year >= 1970. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_uint(const char **p, int digits, int *out) {
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int parse_clock(const char **p, int *h, int *mi, int *s) {
    if (parse_uint(p, 2, h) || *(*p)++ != ':' || parse_uint(p, 2, mi) || *(*p)++ != ':' ||
        parse_uint(p, 2, s))
        return -1;
    return (*h > 23 || *mi > 59 || *s > 60) ? -1 : 0;
}

static int days_in_month(int year, int mon /* 0-11 */) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[mon] + (mon == 1 && leap);
}

/* RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is
 * the most recent past year with the same last two digits. */
static int full_year(int yy, int64_t now_ms) {
    int64_t now_year = 1970 + now_ms / (int64_t)31556952000LL; /* mean Gregorian year */
    int64_t year = now_year - now_year % 100 + yy;
    if (year > now_year + 50)
        year -= 100;
    else if (year <= now_year - 50)
        year += 100;
    return (int)year;
}

/* Epoch ms of an HTTP-date in any of the three forms, or -1. now_ms places
 * RFC 850's two-digit years. */
static int64_t parse_http_date(const char *s, int64_t now_ms) {
    int day, mon, year, h, mi, sec;
    const char *comma = strchr(s, ',');
    const char *p;
    if (comma && comma - s == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        p = comma + 1;
        if (*p++ != ' ' || parse_uint(&p, 2, &day) || *p++ != ' ')
            return -1;
        if ((mon = month_index(p)) < 0)
            return -1;
        p += 3;
        if (*p++ != ' ' || parse_uint(&p, 4, &year) || *p++ != ' ' ||
            parse_clock(&p, &h, &mi, &sec) || strcmp(p, " GMT") != 0)
            return -1;
    } else if (comma) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        p = comma + 1;
        int yy;
        if (*p++ != ' ' || parse_uint(&p, 2, &day) || *p++ != '-')
            return -1;
        if ((mon = month_index(p)) < 0)
            return -1;
        p += 3;
        if (*p++ != '-' || parse_uint(&p, 2, &yy) || *p++ != ' ' ||
            parse_clock(&p, &h, &mi, &sec) || strcmp(p, " GMT") != 0)
            return -1;
        year = full_year(yy, now_ms);
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        p = s;
        if (strlen(p) < 24 || p[3] != ' ')
            return -1;
        p += 4;
        if ((mon = month_index(p)) < 0)
            return -1;
        p += 3;
        if (*p++ != ' ')
            return -1;
        if (*p == ' ')
            p++;
        /* One or two digits ("Nov  6", "Nov 14"), never more: no overflow. */
        if (parse_uint(&p, isdigit((unsigned char)p[1]) ? 2 : 1, &day) || *p++ != ' ' ||
            parse_clock(&p, &h, &mi, &sec) || *p++ != ' ' || parse_uint(&p, 4, &year) ||
            *p != '\0')
            return -1;
    }
    if (year < 1970 || day < 1 || day > days_in_month(year, mon))
        return -1;
    int64_t days = days_from_civil(year, mon + 1, day);
    return ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000;
}

int64_t mp__parse_retry_after(const char *value, int64_t now_ms) {
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r'))
        n--;
    if (n == 0 || n > 64)
        return -1;
    char buf[65];
    memcpy(buf, value, n);
    buf[n] = '\0';

    if (isdigit((unsigned char)buf[0])) {
        int64_t secs = 0;
        int huge = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)buf[i]))
                return -1;
            int d = buf[i] - '0';
            if (secs > (INT64_MAX / 1000 - d) / 10)
                huge = 1; /* keep checking that the rest are digits */
            else
                secs = secs * 10 + d;
        }
        /* Absurdly large: saturate; the caller caps it. */
        return huge ? INT64_MAX : secs * 1000;
    }
    int64_t at = parse_http_date(buf, now_ms);
    if (at < 0)
        return -1;
    return at > now_ms ? at - now_ms : 0;
}
