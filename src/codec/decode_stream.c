/*
 * The decoder's framing: where each batch of the input starts and ends,
 * problems of the text itself with their line and column, and the
 * streaming decoder (mp_decoder) that hands batches out one at a time from
 * input given in any chunks. mp_decode() runs the same code over a whole
 * text (decode.c), which is what makes chunking invisible: there is one
 * definition of how input is cut into batches, not two.
 *
 * Input forms (docs/decoding-notes.md):
 *  - an array of batches, when the first character (after a BOM and
 *    whitespace) is '[': its brackets and commas are read here and each
 *    element is decoded on its own. A syntax error ends decoding.
 *  - otherwise a sequence of values: NDJSON, concatenated objects, one
 *    pretty-printed object. A record starts at a line that begins with
 *    '{'; a syntax error spoils its record only.
 *
 * Streaming: the window holds the bytes from the current position on. A
 * value is decoded once the bytes that decide it are there: a sequence
 * record once the next "\n{" (or the end of the input) has arrived, or,
 * when it is one whole line that decodes alone, once its newline has (a
 * live NDJSON feed; see decodes_as_whole_line()), an
 * array element once the walk stopped short of the window's end
 * (MP__DEC_INCOMPLETE otherwise; it is read again when the bytes
 * available have doubled, so a large element arriving a byte at a time is
 * read a logarithmic number of times). Every decision depends on the bytes
 * of the input only, never on where a chunk ended, so any chunking gives
 * the same batches and problems.
 *
 * Memory: the window keeps the bytes of the record being read (consumed
 * bytes are dropped when room is needed), the batch's arena is reset for
 * each batch, and a record larger than max_record is reported and skipped
 * without being kept, so what the decoder holds follows the largest
 * batch, not the input.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "codec/decode_internal.h"
#include "common/diag.h"

/* Failed retries of sequence records past their line (see SEQ_RETRY) may
 * re-read at most this many bytes per input, so hostile input cannot
 * make decoding quadratic. A constant rather than the input's length,
 * which a stream does not know in advance. */
#define RETRY_BUDGET (4u * 1024 * 1024)

/* Bytes a problem's snippet ("near '...'", 32 bytes of output) can show at
 * most, with room to spare: a snippet of this many is as good as the rest
 * of the line. */
#define SNIPPET_BYTES 64

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ------------------------------------------------------------------------ */
/* Positions and lines                                                      */
/* ------------------------------------------------------------------------ */

/* Characters (not UTF-8 continuation bytes) in s[0..n). */
static size_t count_chars(const char *s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/* Moves pos forward to `to`, counting the lines passed. */
static void advance_to(mp_decoder *fr, size_t to) {
    const char *p = fr->text + fr->pos, *end = fr->text + to;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        fr->line++;
        fr->line_start = (size_t)(p - fr->text);
        fr->line_cut_chars = 0;
    }
    fr->pos = to;
}

/* Skips whitespace; 1 when a byte that is not whitespace is at pos, 0
 * when the window ended first. */
static int skip_whitespace(mp_decoder *fr) {
    while (fr->pos < fr->len) {
        char c = fr->text[fr->pos];
        if (c == '\n') {
            fr->line++;
            fr->line_start = fr->pos + 1;
            fr->line_cut_chars = 0;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return 1;
        }
        fr->pos++;
    }
    return 0;
}

/* Line and 1-based column (in characters, as jansson counted them) of byte
 * `at` of the window, at or after pos. */
static void locate(const mp_decoder *fr, size_t at, size_t *line, size_t *column) {
    size_t l = fr->line, ls = fr->line_start, cut = fr->line_cut_chars;
    for (const char *p = fr->text + fr->pos, *end = fr->text + at;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        l++;
        ls = (size_t)(p - fr->text) + 1;
        cut = 0;
    }
    *line = l;
    *column = 1 + cut + count_chars(fr->text + ls, at - ls);
}

/* Records a problem with the text itself at byte `at` of the window. */
static void text_problem(mp_decoder *fr, mp_error code, size_t at, const char *fmt, ...)
    MP__PRINTF(4, 5);

static void text_problem(mp_decoder *fr, mp_error code, size_t at, const char *fmt, ...) {
    mp__dec_note_error(&fr->dec, code);
    if (!fr->dec.diag)
        return;
    size_t line, column;
    locate(fr, at, &line, &column);
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(fr->dec.diag, MP_SEVERITY_ERROR, code, fr->dec.batch, "",
                  line > INT_MAX ? INT_MAX : (int)line, column > INT_MAX ? INT_MAX : (int)column,
                  fmt, ap);
    va_end(ap);
}

/* Where the reader's error is, as a byte of the window. The reader stands
 * where jansson's stream stood: just after the last character read (a bad
 * token ends there), except that a byte that is not UTF-8 was not counted,
 * and "premature end" is best shown just after the last thing that was
 * there rather than after trailing newlines. */
static size_t error_at(const mp_decoder *fr, const mp__jr_error *e) {
    const char *t = fr->text;
    size_t at = e->position;
    if (e->code == MP__JR_E_UTF8)
        return at;
    if (e->code == MP__JR_E_PREMATURE) {
        while (at > fr->pos && is_space(t[at - 1]))
            at--;
        return at;
    }
    /* Back to the first byte of the last character read. */
    if (at > fr->pos)
        at--;
    while (at > fr->pos && ((unsigned char)t[at] & 0xC0) == 0x80)
        at--;
    return at;
}

/* Reports the reader's error for the value that starts at pos; the
 * current batch fails and stays empty. */
static void syntax_error(mp_decoder *fr, const mp__jr_error *e) {
    size_t at = error_at(fr, e);
    fr->batch_ok = 0;
    switch (e->code) {
    case MP__JR_E_RANGE:
        text_problem(fr, MP_ERR_RANGE, at, "number does not fit in a double (%s)", e->text);
        break;
    case MP__JR_E_UTF8:
        text_problem(fr, MP_ERR_INVALID_UTF8, at, "invalid UTF-8 (%s)", e->text);
        break;
    case MP__JR_E_NUL:
        text_problem(fr, MP_ERR_JSON_SYNTAX, at,
                     "a string contains \\u0000, which C strings cannot hold (%s)", e->text);
        break;
    case MP__JR_E_DEPTH:
        text_problem(fr, MP_ERR_LIMIT, at, "JSON nested deeper than %d levels (%s)",
                     MP__JR_MAX_DEPTH, e->text);
        break;
    default:
        text_problem(fr, MP_ERR_JSON_SYNTAX, at, "%s", e->text);
        break;
    }
}

/* A batch at pos larger than max_record: reported, and left empty. */
static void too_big(mp_decoder *fr) {
    memset(&fr->batch, 0, sizeof fr->batch);
    fr->batch_ok = 0;
    text_problem(fr, MP_ERR_LIMIT, fr->pos,
                 "batch larger than %zu bytes, the decoder's limit (mp_decoder_set_max_record()); "
                 "no batch over 131072 bytes can be valid (docs/api-notes.md §2.1); skipped",
                 fr->max_record);
}

/* Whether the problem at pos can show its snippet: enough bytes, or all. */
static int have_snippet(const mp_decoder *fr) {
    return fr->finished || fr->len - fr->pos >= SNIPPET_BYTES;
}

static void snippet_at_pos(const mp_decoder *fr, char *out, size_t cap, size_t n) {
    size_t most = fr->len - fr->pos;
    if (n > most)
        n = most;
    if (n > SNIPPET_BYTES)
        n = SNIPPET_BYTES;
    mp__snippet(out, cap, fr->text + fr->pos, n);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/* The next batch starts at pos: its index, its line, ok until told otherwise. */
static void start_batch(mp_decoder *fr) {
    fr->batch_line = fr->line;
    fr->batch_ok = 1;
    fr->dec.batch = fr->count;
    fr->attempt = 0;
}

static mp_decode_status emit(mp_decoder *fr, mp_decoded_batch *out) {
    out->batch = &fr->batch;
    out->index = fr->count++;
    out->line = fr->batch_line > INT_MAX ? INT_MAX : (int)fr->batch_line;
    out->ok = fr->batch_ok;
    fr->dec.batch = -1;
    return MP_DECODE_BATCH;
}

static mp_decode_status fail_nomem(mp_decoder *fr) {
    fr->state = MP__F_FAILED;
    mp__diag_add(fr->dec.diag, MP_SEVERITY_ERROR, MP_ERR_NOMEM, -1, "",
                 "out of memory while decoding");
    return MP_DECODE_ERROR;
}

/* Decodes the value at pos, bounded by end, into fr->batch. */
static mp__dec_result decode_at(mp_decoder *fr, size_t end, int end_final) {
    if (fr->arena == &fr->own_arena)
        mp__arena_reset(&fr->own_arena);
    fr->dec.arena = fr->arena;
    fr->dec.json = fr->text;
    return mp__decode_value(&fr->dec, &fr->batch, fr->pos, end, end_final, &fr->batch_ok);
}

/* The outcome of reading a value whose end only the value itself says. */
typedef enum read_result { READ_OK, READ_STOP, READ_WAIT, READ_TOO_BIG, READ_NOMEM } read_result;

/*
 * Reads the value at pos up to wherever it ends (an array element, a
 * sequence record read again past its line). With the whole input there
 * this is one read. In a stream, a read whose result could depend on
 * bytes that have not arrived is thrown away (READ_WAIT), and tried again
 * only once the bytes available have doubled; a value that does not end
 * within max_record bytes is READ_TOO_BIG.
 */
static read_result read_open_value(mp_decoder *fr) {
    size_t avail = fr->len - fr->pos;
    int capped = fr->max_record && avail > fr->max_record;
    size_t end = capped ? fr->pos + fr->max_record : fr->len;
    int final = fr->finished && !capped;
    if (!final && !capped && fr->attempt && avail / 2 < fr->attempt)
        return READ_WAIT;
    switch (decode_at(fr, end, final)) {
    case MP__DEC_OK:
        fr->attempt = 0;
        return READ_OK;
    case MP__DEC_STOP:
        fr->attempt = 0;
        return READ_STOP;
    case MP__DEC_INCOMPLETE:
        if (capped)
            return READ_TOO_BIG;
        fr->attempt = avail ? avail : 1;
        return READ_WAIT;
    case MP__DEC_NOMEM:
        break;
    }
    return READ_NOMEM;
}

/* ------------------------------------------------------------------------ */
/* A sequence of values: NDJSON, concatenated objects, one object           */
/* ------------------------------------------------------------------------ */

typedef enum record_result { RECORD_FOUND, RECORD_WAIT, RECORD_TOO_BIG } record_result;

/*
 * Sets limit to where the record after the one at pos starts: the first
 * line after pos's that begins with '{' (NDJSON lines do; lines inside a
 * pretty-printed object are indented or start with a key or a closing
 * bracket), or the end of the input. Cached: positions before the limit
 * share it, so a long line of concatenated objects is searched once, and
 * a search that ran out of bytes goes on where it stopped.
 */
static record_result next_record(mp_decoder *fr) {
    if (fr->limit_found && fr->limit > fr->pos)
        goto found;
    const char *t = fr->text;
    size_t from = fr->scan > fr->pos ? fr->scan : fr->pos;
    const char *nl;
    while ((nl = memchr(t + from, '\n', fr->len - from)) != NULL) {
        size_t i = (size_t)(nl - t);
        if (i + 1 >= fr->len)
            break; /* the byte after it has not arrived */
        if (t[i + 1] == '{') {
            fr->limit = fr->scan = i + 1;
            fr->limit_found = 1;
            goto found;
        }
        from = i + 1;
    }
    fr->scan = nl ? (size_t)(nl - t) : fr->len;
    if (!fr->finished) {
        /* The record runs at least to the window's end. */
        if (fr->max_record && fr->len - fr->pos > fr->max_record)
            return RECORD_TOO_BIG;
        return RECORD_WAIT;
    }
    fr->limit = fr->len;
    fr->limit_found = 0;
found:
    if (fr->max_record && fr->limit - fr->pos > fr->max_record)
        return RECORD_TOO_BIG;
    return RECORD_FOUND;
}

/* A record was read: the rest of its line comes next. */
static void record_read(mp_decoder *fr) {
    advance_to(fr, fr->dec.r.pos);
    fr->state = MP__F_SEQ_REST;
}

/* A record did not decode: it becomes a failed, empty batch and reading
 * resumes at the next record. */
static mp_decode_status record_failed(mp_decoder *fr, const mp__jr_error *e,
                                      mp_decoded_batch *out) {
    syntax_error(fr, e);
    advance_to(fr, fr->limit);
    fr->state = MP__F_SEQ_RECORD;
    return emit(fr, out);
}

/*
 * NDJSON from a live source (a pipe written a line at a time): a record
 * that is one whole line, ended by a newline with nothing after it yet,
 * need not wait for the next record to begin when it decodes as it is.
 * The trial reports no problem (the real decode does); a record that does
 * not decode alone waits for its usual bound, exactly as if more input had
 * come. Only single-line records are tried, once, when their line ends, so
 * pretty-printed input never pays for it.
 */
static int decodes_as_whole_line(mp_decoder *fr) {
    const char *t = fr->text;
    if (fr->finished || fr->len <= fr->pos + 1 || t[fr->len - 1] != '\n' ||
        memchr(t + fr->pos, '\n', fr->len - 1 - fr->pos) != NULL)
        return 0;
    mp_diag *diag = fr->dec.diag;
    fr->dec.diag = NULL;
    start_batch(fr);
    mp__dec_result r = decode_at(fr, fr->len, 1);
    fr->dec.diag = diag;
    return r == MP__DEC_OK;
}

/*
 * The next record, read within its bounds. A value cut short by them may
 * be one value spread over lines whose nested objects start in column 1
 * (JSON pretty-printed without indentation), so it is read again without
 * them (SEQ_RETRY).
 */
static mp_decode_status seq_record(mp_decoder *fr, mp_decoded_batch *out, int *again) {
    *again = 0;
    if (!skip_whitespace(fr)) {
        if (!fr->finished)
            return MP_DECODE_NEED_INPUT;
        fr->state = MP__F_DONE;
        return MP_DECODE_END;
    }
    record_result rr = next_record(fr);
    if (rr == RECORD_WAIT) {
        if (!decodes_as_whole_line(fr))
            return MP_DECODE_NEED_INPUT;
        start_batch(fr);
        if (decode_at(fr, fr->len, 1) != MP__DEC_OK)
            return fail_nomem(fr); /* it decoded a moment ago: only memory can fail */
        record_read(fr);
        *again = 1;
        return MP_DECODE_NEED_INPUT;
    }
    start_batch(fr);
    if (rr == RECORD_TOO_BIG) {
        too_big(fr);
        fr->state = MP__F_SEQ_SKIP_RECORD;
        return emit(fr, out);
    }
    switch (decode_at(fr, fr->limit, 1)) {
    case MP__DEC_OK:
        record_read(fr);
        *again = 1;
        return MP_DECODE_NEED_INPUT;
    case MP__DEC_STOP:
        if (fr->limit_found && fr->dec.r.err.code == MP__JR_E_PREMATURE &&
            fr->retried <= RETRY_BUDGET) {
            fr->bounded = fr->dec.r.err;
            fr->state = MP__F_SEQ_RETRY;
            *again = 1;
            return MP_DECODE_NEED_INPUT;
        }
        return record_failed(fr, &fr->dec.r.err, out);
    case MP__DEC_INCOMPLETE: /* cannot happen: the bound is final */
    case MP__DEC_NOMEM:
        break;
    }
    return fail_nomem(fr);
}

/*
 * The record read again past its line. If that fails too, its error
 * replaces the bounded one only when it lies beyond the next record's
 * first byte; failing right there means the record itself was cut short
 * (a truncated NDJSON line), which the bounded error ("premature end of
 * input") says better.
 */
static mp_decode_status seq_retry(mp_decoder *fr, mp_decoded_batch *out, int *again) {
    *again = 0;
    switch (read_open_value(fr)) {
    case READ_OK:
        record_read(fr);
        *again = 1;
        return MP_DECODE_NEED_INPUT;
    case READ_STOP: {
        mp__jr_error e = fr->dec.r.err;
        size_t reached = e.position - fr->pos;
        fr->retried += reached;
        if (reached <= fr->limit - fr->pos + 1)
            e = fr->bounded;
        return record_failed(fr, &e, out);
    }
    case READ_WAIT:
        return MP_DECODE_NEED_INPUT;
    case READ_TOO_BIG:
        fr->retried += fr->max_record;
        too_big(fr);
        advance_to(fr, fr->limit);
        fr->state = MP__F_SEQ_RECORD;
        return emit(fr, out);
    case READ_NOMEM:
        break;
    }
    return fail_nomem(fr);
}

/* After a batch: the rest of its line must be blank or hold the next
 * object (concatenated objects). Anything else spoils the line, and so the
 * batch on it; reading resumes on the next line. */
static mp_decode_status seq_rest(mp_decoder *fr, mp_decoded_batch *out) {
    const char *t = fr->text;
    while (fr->pos < fr->len && (t[fr->pos] == ' ' || t[fr->pos] == '\t' || t[fr->pos] == '\r'))
        fr->pos++;
    if (fr->pos >= fr->len && !fr->finished)
        return MP_DECODE_NEED_INPUT;
    if (fr->pos >= fr->len || t[fr->pos] == '\n' || t[fr->pos] == '{') {
        fr->state = MP__F_SEQ_RECORD;
        return emit(fr, out);
    }
    size_t most = fr->len - fr->pos < SNIPPET_BYTES ? fr->len - fr->pos : SNIPPET_BYTES;
    const char *eol = memchr(t + fr->pos, '\n', most);
    if (!eol && !have_snippet(fr))
        return MP_DECODE_NEED_INPUT;
    char shown[32];
    snippet_at_pos(fr, shown, sizeof shown, eol ? (size_t)(eol - (t + fr->pos)) : most);
    text_problem(fr, MP_ERR_JSON_SYNTAX, fr->pos, "unexpected text after the batch near '%s'",
                 shown);
    fr->batch_ok = 0;
    fr->state = MP__F_SEQ_SKIP_LINE;
    return emit(fr, out);
}

/* To the end of a spoiled line (the newline is left for the next record). */
static int seq_skip_line(mp_decoder *fr) {
    const char *eol = memchr(fr->text + fr->pos, '\n', fr->len - fr->pos);
    advance_to(fr, eol ? (size_t)(eol - fr->text) : fr->len);
    if (!eol && !fr->finished)
        return 0;
    fr->state = MP__F_SEQ_RECORD;
    return 1;
}

/* Past a record over the size limit, to the next line that begins with
 * '{', dropping its bytes as they come. */
static int seq_skip_record(mp_decoder *fr) {
    const char *t = fr->text;
    const char *nl;
    while ((nl = memchr(t + fr->pos, '\n', fr->len - fr->pos)) != NULL) {
        size_t i = (size_t)(nl - t);
        if (i + 1 >= fr->len) {
            advance_to(fr, i); /* the newline waits for the byte after it */
            break;
        }
        advance_to(fr, i + 1);
        if (t[i + 1] == '{') {
            fr->state = MP__F_SEQ_RECORD;
            return 1;
        }
    }
    if (!nl)
        advance_to(fr, fr->len);
    if (!fr->finished)
        return 0;
    advance_to(fr, fr->len);
    fr->state = MP__F_SEQ_RECORD;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* An array of batches                                                      */
/* ------------------------------------------------------------------------ */

/* The input ended inside the array. */
static void array_not_closed(mp_decoder *fr) {
    fr->dec.batch = -1;
    text_problem(fr, MP_ERR_JSON_SYNTAX, fr->pos,
                 "premature end of input: the array of batches is not closed");
    fr->state = MP__F_DONE;
}

/* An element. A syntax error ends decoding: inside one array there is no
 * line structure to resume at. */
static mp_decode_status array_element(mp_decoder *fr, mp_decoded_batch *out) {
    if (fr->dec.batch < 0)
        start_batch(fr);
    switch (read_open_value(fr)) {
    case READ_OK:
        advance_to(fr, fr->dec.r.pos);
        fr->state = MP__F_ARR_AFTER;
        return emit(fr, out);
    case READ_STOP:
        syntax_error(fr, &fr->dec.r.err);
        fr->state = MP__F_DONE;
        return emit(fr, out);
    case READ_WAIT:
        return MP_DECODE_NEED_INPUT;
    case READ_TOO_BIG:
        too_big(fr);
        memset(&fr->skip, 0, sizeof fr->skip);
        fr->state = MP__F_ARR_SKIP_ELEMENT;
        return emit(fr, out);
    case READ_NOMEM:
        break;
    }
    return fail_nomem(fr);
}

/*
 * Past an element over the size limit, by its brackets and strings alone,
 * dropping its bytes as they come: 1 when it has been passed. If it is not
 * valid JSON, what follows is judged from wherever this stops.
 */
static int skip_element(mp_decoder *fr) {
    mp__skip_scan *s = &fr->skip;
    const char *t = fr->text;
    size_t p = fr->pos;
    int done = 0;
    for (; p < fr->len && !done; p++) {
        char c = t[p];
        if (s->in_string) {
            if (s->escape)
                s->escape = 0;
            else if (c == '\\')
                s->escape = 1;
            else if (c == '"') {
                s->in_string = 0;
                done = s->depth == 0;
            }
        } else if (c == '"') {
            s->in_string = 1;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            if (s->depth == 0)
                break; /* the array's own ']' after a scalar */
            done = --s->depth == 0;
        } else if (s->depth == 0 && s->started && (c == ',' || is_space(c))) {
            break; /* the end of a scalar */
        }
        s->started = 1;
    }
    advance_to(fr, p);
    if (p < fr->len || fr->finished) {
        fr->state = MP__F_ARR_AFTER;
        return 1;
    }
    return 0;
}

/* After an element: ',' or ']' (whitespace skipped already). */
static void array_after(mp_decoder *fr) {
    char c = fr->text[fr->pos];
    if (c == ']') {
        fr->pos++;
        fr->state = MP__F_TRAILER;
    } else if (c == ',') {
        fr->pos++;
        fr->state = MP__F_ARR_ELEMENT;
    } else {
        char shown[32];
        snippet_at_pos(fr, shown, sizeof shown, SNIPPET_BYTES);
        text_problem(fr, MP_ERR_JSON_SYNTAX, fr->pos, "',' or ']' expected near '%s'", shown);
        fr->state = MP__F_DONE;
    }
}

/* After the closing ']' only whitespace may follow (whitespace skipped). */
static void array_trailer(mp_decoder *fr) {
    char shown[32];
    snippet_at_pos(fr, shown, sizeof shown, SNIPPET_BYTES);
    text_problem(fr, MP_ERR_JSON_SYNTAX, fr->pos, "unexpected text after the array near '%s'",
                 shown);
    fr->state = MP__F_DONE;
}

/* ------------------------------------------------------------------------ */
/* The state machine                                                        */
/* ------------------------------------------------------------------------ */

/* Before the first value: a UTF-8 byte order mark (not JSON, but editors
 * write it), whitespace, then '[' for an array or else a sequence. 0 when
 * more bytes are needed. */
static int start(mp_decoder *fr) {
    if (fr->base == 0 && fr->pos == 0 && fr->line == 1) {
        size_t n = fr->len < 3 ? fr->len : 3;
        if (memcmp(fr->text, "\xEF\xBB\xBF", n) == 0) {
            if (n < 3 && !fr->finished)
                return 0;
            if (n == 3)
                fr->pos = fr->line_start = 3;
        }
    }
    if (!skip_whitespace(fr) && !fr->finished)
        return 0;
    if (fr->pos < fr->len && fr->text[fr->pos] == '[') {
        fr->pos++;
        fr->state = MP__F_ARR_FIRST;
    } else {
        fr->state = MP__F_SEQ_RECORD;
    }
    return 1;
}

/* Whitespace, then: 1 when a byte is there, 0 to wait (*st set), or -1
 * when the input ended (the array is not closed). */
static int array_skip(mp_decoder *fr, mp_decode_status *st) {
    if (skip_whitespace(fr))
        return 1;
    if (!fr->finished) {
        *st = MP_DECODE_NEED_INPUT;
        return 0;
    }
    array_not_closed(fr);
    return -1;
}

static mp_decode_status step(mp_decoder *fr, mp_decoded_batch *out) {
    mp_decode_status st = MP_DECODE_NEED_INPUT;
    for (;;) {
        int again = 0;
        switch (fr->state) {
        case MP__F_START:
            if (!start(fr))
                return MP_DECODE_NEED_INPUT;
            continue;
        case MP__F_SEQ_RECORD:
            st = seq_record(fr, out, &again);
            if (again)
                continue;
            return st;
        case MP__F_SEQ_RETRY:
            st = seq_retry(fr, out, &again);
            if (again)
                continue;
            return st;
        case MP__F_SEQ_REST:
            return seq_rest(fr, out);
        case MP__F_SEQ_SKIP_LINE:
            if (!seq_skip_line(fr))
                return MP_DECODE_NEED_INPUT;
            continue;
        case MP__F_SEQ_SKIP_RECORD:
            if (!seq_skip_record(fr))
                return MP_DECODE_NEED_INPUT;
            continue;
        case MP__F_ARR_FIRST: {
            int rc = array_skip(fr, &st);
            if (rc == 0)
                return st;
            if (rc > 0) {
                if (fr->text[fr->pos] == ']') {
                    fr->pos++;
                    fr->state = MP__F_TRAILER;
                } else {
                    fr->state = MP__F_ARR_ELEMENT;
                }
            }
            continue;
        }
        case MP__F_ARR_ELEMENT: {
            int rc = fr->dec.batch >= 0 ? 1 : array_skip(fr, &st);
            if (rc == 0)
                return st;
            if (rc < 0)
                continue;
            return array_element(fr, out);
        }
        case MP__F_ARR_AFTER: {
            int rc = array_skip(fr, &st);
            if (rc == 0)
                return st;
            if (rc > 0) {
                char c = fr->text[fr->pos];
                if (c != ']' && c != ',' && !have_snippet(fr))
                    return MP_DECODE_NEED_INPUT;
                array_after(fr);
            }
            continue;
        }
        case MP__F_ARR_SKIP_ELEMENT:
            if (!skip_element(fr))
                return MP_DECODE_NEED_INPUT;
            continue;
        case MP__F_TRAILER:
            if (!skip_whitespace(fr)) {
                if (!fr->finished)
                    return MP_DECODE_NEED_INPUT;
                fr->state = MP__F_DONE;
                continue;
            }
            if (!have_snippet(fr))
                return MP_DECODE_NEED_INPUT;
            array_trailer(fr);
            continue;
        case MP__F_DONE:
            fr->pos = fr->len; /* nothing more is read */
            return fr->finished ? MP_DECODE_END : MP_DECODE_NEED_INPUT;
        case MP__F_FAILED:
            break;
        }
        return MP_DECODE_ERROR;
    }
}

/* ------------------------------------------------------------------------ */
/* The window                                                               */
/* ------------------------------------------------------------------------ */

/* Drops the first k bytes of the window (all before pos). */
static void shift_window(mp_decoder *fr, size_t k) {
    if (k == 0)
        return;
    if (fr->line_start < k) {
        fr->line_cut_chars += count_chars(fr->text + fr->line_start, k - fr->line_start);
        fr->line_start = 0;
    } else {
        fr->line_start -= k;
    }
    memmove(fr->buf, fr->buf + k, fr->len - k);
    fr->len -= k;
    fr->pos -= k;
    fr->base += k;
    if (fr->limit >= k)
        fr->limit -= k;
    else
        fr->limit = 0, fr->limit_found = 0;
    fr->scan = fr->scan >= k ? fr->scan - k : 0;
    if (fr->bounded.position >= k)
        fr->bounded.position -= k;
}

/* Room for n more bytes: consumed bytes are dropped when the end is full,
 * and the buffer doubles when what is kept would fill more than half of
 * it, so each byte is moved a constant number of times on average. */
static int make_room(mp_decoder *fr, size_t n) {
    if (fr->cap - fr->len >= n)
        return 0;
    size_t keep = fr->len - fr->pos;
    if (keep > SIZE_MAX / 4 - n)
        return -1;
    if (keep + n > fr->cap / 2) {
        size_t cap = fr->cap ? fr->cap * 2 : 64 * 1024;
        if (cap < (keep + n) * 2)
            cap = (keep + n) * 2;
        char *bigger = fr->malloc_fn(cap);
        if (!bigger)
            return -1;
        if (fr->len)
            memcpy(bigger, fr->buf, fr->len);
        if (fr->buf)
            fr->free_fn(fr->buf);
        fr->buf = bigger;
        fr->text = bigger;
        fr->cap = cap;
    }
    shift_window(fr, fr->pos);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Internal API                                                             */
/* ------------------------------------------------------------------------ */

static void init_common(mp_decoder *fr, mp__malloc_fn m, mp__free_fn f) {
    memset(fr, 0, sizeof *fr);
    fr->malloc_fn = m;
    fr->free_fn = f;
    fr->text = "";
    fr->line = 1;
    fr->state = MP__F_START;
    fr->dec.batch = -1;
    fr->dec.json = fr->text;
    mp__dec_init(&fr->dec, m, f);
    mp__arena_init(&fr->own_arena, m, f);
    fr->arena = &fr->own_arena;
}

void mp__decoder_init_text(mp_decoder *fr, const char *text, size_t len, mp__arena *arena) {
    init_common(fr, arena->malloc_fn, arena->free_fn);
    fr->text = text;
    fr->len = len;
    fr->finished = 1;
    fr->arena = arena;
}

void mp__decoder_clear(mp_decoder *fr) {
    mp__dec_clear(&fr->dec);
    mp__arena_free(&fr->own_arena);
    if (fr->buf)
        fr->free_fn(fr->buf);
    fr->buf = NULL;
}

size_t mp__decoder_footprint(const mp_decoder *fr) {
    return fr->cap + mp__arena_footprint(&fr->own_arena) + mp__dec_footprint(&fr->dec);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

mp_error mp_decoder_new(mp_decoder **out) {
    if (!out)
        return MP_ERR_INVALID_ARGUMENT;
    mp_decoder *fr = mp__decode_malloc(sizeof *fr);
    *out = fr;
    if (!fr)
        return MP_ERR_NOMEM;
    init_common(fr, mp__decode_malloc, mp__decode_free);
    fr->max_record = MP_DECODER_MAX_RECORD;
    return MP_OK;
}

void mp_decoder_free(mp_decoder *fr) {
    if (!fr)
        return;
    mp__decoder_clear(fr);
    fr->free_fn(fr);
}

void mp_decoder_set_max_record(mp_decoder *fr, size_t max_bytes) {
    if (fr)
        fr->max_record = max_bytes;
}

mp_error mp_decoder_feed(mp_decoder *fr, const char *data, size_t len) {
    if (!fr || (!data && len) || fr->finished)
        return MP_ERR_INVALID_ARGUMENT;
    if (fr->state == MP__F_FAILED)
        return MP_ERR_NOMEM;
    if (len == 0)
        return MP_OK;
    if (fr->state == MP__F_DONE) {
        /* Nothing more is read: the bytes are dropped as they come. */
        fr->base += len;
        return MP_OK;
    }
    if (make_room(fr, len)) {
        fr->state = MP__F_FAILED;
        return MP_ERR_NOMEM;
    }
    memcpy(fr->buf + fr->len, data, len);
    fr->len += len;
    return MP_OK;
}

void mp_decoder_finish(mp_decoder *fr) {
    if (fr)
        fr->finished = 1;
}

mp_decode_status mp_decoder_next(mp_decoder *fr, mp_decoded_batch *out, mp_diag *diag) {
    if (!fr || !out)
        return MP_DECODE_ERROR;
    memset(out, 0, sizeof *out);
    fr->dec.diag = diag;
    mp_decode_status st = step(fr, out);
    fr->dec.diag = NULL;
    return st;
}

mp_error mp_decoder_error(const mp_decoder *fr) {
    if (!fr)
        return MP_ERR_INVALID_ARGUMENT;
    return fr->state == MP__F_FAILED ? MP_ERR_NOMEM : fr->dec.first;
}
