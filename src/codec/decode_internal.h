/*
 * The decoder's two halves and what they share.
 *
 * decode.c is the walk: it decodes one JSON value (a batch) that lies in a
 * window of bytes into an mp_batch, reporting problems with their paths.
 * decode_stream.c is the framing: it finds where each batch starts in the
 * input (one object, an array, NDJSON), keeps the bytes of the batch being
 * read in the window, reports problems of the text itself with their line
 * and column, and hands batches out one at a time (mp_decoder). mp_decode()
 * runs the same framing over the caller's whole text, so that both give
 * the same batches and problems for the same input.
 *
 * Positions are offsets into the window. The walk may be given a window
 * that ends before the input does (a stream whose next bytes have not
 * arrived): it then says whether its result could depend on bytes past the
 * window's end (MP__DEC_INCOMPLETE), and the framing reads the value again
 * once more bytes are there.
 */
#ifndef MP_CODEC_DECODE_INTERNAL_H
#define MP_CODEC_DECODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "codec/arena.h"
#include "codec/json_reader.h"
#include "mparticle/codec.h"

/* Where documents and decoders take their memory: the library's allocator
 * (common/alloc.h). Tests point these elsewhere to make exactly the
 * decoder's allocations fail; nothing else changes them. */
extern mp__malloc_fn mp__decode_malloc;
extern mp__free_fn mp__decode_free;

/* The reader looks at most this many bytes past the position it stops at
 * (a UTF-8 sequence after a number or a word: check_lookahead() in
 * json_reader.c), so a value whose readers stopped at least this far
 * before the window's end did not see the end. */
#define MP__DEC_LOOKAHEAD 4

struct mp__envelope;

/* Where the elements of one open list are gathered (see list_open() in
 * decode.c): a buffer per nesting level of lists, kept between values. */
typedef struct mp__dec_scratch {
    char *bytes;
    size_t cap;
} mp__dec_scratch;

/* One value being decoded, and what stays between values (the key set,
 * the list scratch buffers). */
typedef struct mp__dec {
    /* Set by the framing before each value. */
    mp__arena *arena;  /* where the batch's strings, lists and objects go */
    mp_diag *diag;     /* may be NULL */
    long batch;        /* index in problems, -1 for problems of the input */
    const char *json;  /* the window */
    int end_final;     /* the reader's end is the value's true bound */

    /* Results. */
    mp_error first;    /* code of the first error in the input, MP_OK while none */
    int batch_failed;  /* the value being decoded has an error */
    int incomplete;    /* the value's readers came too close to a window end that is not final */
    size_t reach;      /* the furthest position a reader stopped at, for `incomplete` */

    /* The walk's state. */
    mp__jr r;
    mp__jr_keyset keys; /* duplicate detection for maps and skipped values */
    size_t batch_start; /* where the value starts */
    int validated;      /* the whole value is known to be valid JSON */
    struct mp__envelope *env; /* set while an event's data is walked early */
    mp__malloc_fn malloc_fn;  /* for the scratch buffers */
    mp__free_fn free_fn;
    mp__dec_scratch *scratch; /* one per list level */
    size_t nscratch;
    size_t list_level;        /* lists open now */
} mp__dec;

typedef enum mp__dec_result {
    MP__DEC_OK,         /* decoded; problems were reported */
    MP__DEC_STOP,       /* not valid JSON: d->r.err says why; nothing was reported */
    MP__DEC_INCOMPLETE, /* the result could depend on bytes past the window: nothing was reported */
    MP__DEC_NOMEM
} mp__dec_result;

/*
 * Decodes the value at d->json[pos..end) into *batch (zeroed first),
 * allocating from d->arena. With end_final 0, `end` is only where the
 * bytes received so far end. *ok says whether the batch decoded without
 * error (meaningful for MP__DEC_OK).
 */
mp__dec_result mp__decode_value(mp__dec *d, mp_batch *batch, size_t pos, size_t end,
                                int end_final, int *ok);

/* Sets up d's allocator (d zeroed); frees what d keeps between values. */
void mp__dec_init(mp__dec *d, mp__malloc_fn m, mp__free_fn f);
void mp__dec_clear(mp__dec *d);
/* Bytes d keeps between values (key set and scratch buffers). */
size_t mp__dec_footprint(const mp__dec *d);

/* Records an error of the current value (the framing's own problems). */
void mp__dec_note_error(mp__dec *d, mp_error code);

/* Writes s[0..n) into out (cap bytes) for a message: quotes, backslashes
 * and control bytes escaped, cut at a character boundary with "...". At
 * most cap bytes of s are looked at. */
void mp__snippet(char *out, size_t cap, const char *s, size_t n);

/* ------------------------------------------------------------------------ */
/* The framing (decode_stream.c)                                            */
/* ------------------------------------------------------------------------ */

/* Where the framing stands; see decode_stream.c. */
typedef enum mp__frame_state {
    MP__F_START,        /* before the first value: BOM, array or sequence */
    MP__F_SEQ_RECORD,   /* sequence: the next record */
    MP__F_SEQ_RETRY,    /* sequence: a record read again past its line */
    MP__F_SEQ_REST,     /* sequence: the rest of a batch's line */
    MP__F_SEQ_SKIP_LINE,   /* sequence: to the end of a spoiled line */
    MP__F_SEQ_SKIP_RECORD, /* sequence: past a record over the size limit */
    MP__F_ARR_FIRST,    /* array: after '[' */
    MP__F_ARR_ELEMENT,  /* array: an element */
    MP__F_ARR_AFTER,    /* array: ',' or ']' after an element */
    MP__F_ARR_SKIP_ELEMENT, /* array: past an element over the size limit */
    MP__F_TRAILER,      /* after the array: only whitespace */
    MP__F_DONE,         /* nothing more is read */
    MP__F_FAILED        /* out of memory */
} mp__frame_state;

/* State of the structural scan that skips an element over the limit. */
typedef struct mp__skip_scan {
    unsigned long depth;
    int in_string;
    int escape;
    int started;
} mp__skip_scan;

struct mp_decoder {
    mp__malloc_fn malloc_fn;
    mp__free_fn free_fn;

    /* The window: the decoder's own buffer, or mp_decode()'s text. */
    char *buf;          /* owned bytes (NULL for a borrowed text) */
    size_t cap;
    const char *text;   /* the window's first byte */
    size_t len;         /* bytes in the window */
    uint64_t base;      /* offset in the input of text[0] */
    int finished;       /* no bytes will follow the window */
    size_t max_record;  /* 0: no limit */

    /* The reading position and its line. */
    size_t pos;
    size_t line;           /* 1-based line of pos */
    size_t line_start;     /* window offset of that line's start, or 0 ... */
    size_t line_cut_chars; /* ... with this many characters of it before the window */

    /* Framing. */
    mp__frame_state state;
    size_t limit;        /* sequence: where the next record starts (cached), see next_record() */
    int limit_found;     /* limit is a "\n{" (else unknown, or the end of the input) */
    size_t scan;         /* where the search for the next "\n{" goes on */
    uint64_t retried;    /* bytes re-read by failed retries, see the sequence */
    size_t attempt;      /* bytes available at the last incomplete read of this value */
    mp__jr_error bounded;/* a retried record's error within its line */
    mp__skip_scan skip;

    /* The batch being decoded or handed out. */
    mp__dec dec;
    mp__arena own_arena;
    mp__arena *arena;    /* own_arena, or mp_decode()'s document */
    mp_batch batch;
    size_t batch_line;
    int batch_ok;
    long count;          /* batches handed out */
};

/* A decoder over a whole text that stays the caller's (mp_decode()):
 * allocations go to `arena`, nothing is copied, no record limit. */
void mp__decoder_init_text(mp_decoder *dec, const char *text, size_t len, mp__arena *arena);
/* Frees what init_text allocated (not the arena). */
void mp__decoder_clear(mp_decoder *dec);

/* 1 if the JSON number text[0..n) has the same value as x written back by
 * the encoder (its shortest form), which goes into shown (NUL-terminated,
 * cut to shown_cap) for messages; 0 if the value changed ("1e-400" -> "0",
 * "12345678901234567890" -> "12345678901234567000"). number_exact.c. */
int mp__number_kept_exactly(const char *text, size_t n, double x, char *shown,
                            size_t shown_cap);

/* Bytes the decoder holds (window buffer, batch arena, key set): a test
 * hook for "memory does not grow with the input". */
size_t mp__decoder_footprint(const mp_decoder *dec);

#endif
