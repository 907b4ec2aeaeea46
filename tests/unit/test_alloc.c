/*
 * mp_set_allocator(): every allocation of the library goes through the
 * caller's functions (a decode, an encode, a validation with problems, a
 * client and an uploader whose request fails, a spool), every block is
 * given back to them, and the hook can be set only before the library has
 * allocated anything, and only whole.
 *
 * Its own program: the hook is process-wide and set once, first thing.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mparticle.h"

/* Blocks carry a header with a magic number, so that a block freed by the
 * hook that the hook did not make (or made by libc and freed here) fails. */
#define MAGIC 0x6d70616c6c6f6321ull
typedef struct header {
    uint64_t magic;
    size_t size;
} header;

static atomic_long live, total;

static void *counting_malloc(size_t n) {
    header *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->magic = MAGIC;
    h->size = n;
    atomic_fetch_add(&live, 1);
    atomic_fetch_add(&total, 1);
    return h + 1;
}

static void counting_free(void *p) {
    if (!p)
        return;
    header *h = (header *)p - 1;
    if (h->magic != MAGIC)
        abort(); /* not ours: the library freed a foreign block here */
    h->magic = 0;
    atomic_fetch_sub(&live, 1);
    free(h);
}

static void *counting_realloc(void *p, size_t n) {
    if (!p)
        return counting_malloc(n);
    header *h = (header *)p - 1;
    if (h->magic != MAGIC)
        abort();
    header *g = realloc(h, sizeof *g + n);
    if (!g)
        return NULL;
    g->size = n;
    atomic_fetch_add(&total, 1);
    return g + 1;
}

static void test_refused_when_partial(void **state) {
    (void)state;
    assert_int_equal(mp_set_allocator(counting_malloc, NULL, counting_free),
                     MP_ERR_INVALID_ARGUMENT);
}

static void decode_encode_validate(void) {
    const char *json = "{\"environment\":\"development\",\"mpid\":7,\"user_attributes\":"
                       "{\"a\":[1,2]},\"events\":[{\"event_type\":\"custom_event\",\"data\":"
                       "{\"event_name\":\"x\",\"custom_event_type\":\"other\"}}],\"nope\":1}\n"
                       "{\"environment\":\"bogus\"}\n";
    mp_diag *diag = mp_diag_new();
    mp_document *doc = NULL;
    assert_int_equal(mp_decode(json, strlen(json), &doc, diag), MP_ERR_ENUM);
    assert_true(mp_diag_count(diag) >= 2); /* the unknown key's warning, the enum's error */
    mp_buffer *buf = mp_buffer_new(0);
    assert_int_equal(mp_encode_batch(mp_document_batch(doc, 0), buf, diag), MP_OK);
    mp_validate_batch(mp_document_batch(doc, 1), NULL, 1, diag);
    size_t len;
    char *copy = mp_buffer_detach(buf, &len);
    assert_non_null(copy);
    mp_free(copy);
    mp_buffer_free(buf);
    mp_document_free(doc);

    mp_decoder *dec;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    assert_int_equal(mp_decoder_feed(dec, json, strlen(json)), MP_OK);
    mp_decoder_finish(dec);
    mp_decoded_batch b;
    while (mp_decoder_next(dec, &b, diag) == MP_DECODE_BATCH)
        ;
    mp_decoder_free(dec);
    mp_diag_free(diag);
}

/* A client and an uploader (with a spool) whose destination refuses the
 * connection: requests, results, reports and spool files all allocate. */
static void upload_to_nowhere(void) {
    mp_client_options co = MP_CLIENT_OPTIONS_INIT;
    co.api_key = "k";
    co.api_secret = "s";
    co.base_url = "http://127.0.0.1:1/v2";
    co.max_attempts = 1;
    mp_client *c = NULL;
    assert_int_equal(mp_client_new(&co, &c, NULL), MP_OK);
    mp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_type = MP_EVENT_CUSTOM_EVENT;
    ev.custom_event.event_name = "x";
    ev.custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER;
    mp_batch batch;
    memset(&batch, 0, sizeof batch);
    batch.environment = MP_ENVIRONMENT_DEVELOPMENT;
    batch.events.items = &ev;
    batch.events.count = 1;
    mp_result r = MP_RESULT_INIT;
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_NETWORK);
    mp_result_clear(&r);

    char dir[] = "/tmp/mp-alloc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.spool_dir = dir;
    uo.max_attempts = 1;
    uo.merge = 1;
    mp_uploader *up = NULL;
    assert_int_equal(mp_uploader_new(c, &uo, &up, NULL), MP_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(mp_uploader_enqueue(up, &batch, NULL, NULL), MP_OK);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    assert_int_equal(mp_uploader_close(up, 1000), MP_OK);
    mp_client_free(c);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_every_allocation_goes_through_the_hook(void **state) {
    (void)state;
    long before = atomic_load(&total);
    decode_encode_validate();
    assert_int_equal(atomic_load(&live), 0);
    upload_to_nowhere();
    assert_true(atomic_load(&total) - before > 50);
    /* Every block came back but this thread's payload scratch (an mp_buffer:
     * two blocks), which is kept for its next enqueue and freed when the
     * thread exits. */
    if (atomic_load(&live) > 2)
        fail_msg("%ld blocks not given back", atomic_load(&live));
}

static void test_too_late_once_used(void **state) {
    (void)state;
    assert_int_equal(mp_set_allocator(NULL, NULL, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_set_allocator(counting_malloc, counting_realloc, counting_free),
                     MP_ERR_INVALID_ARGUMENT);
}

int main(void) {
    /* Before anything else of the library. */
    if (mp_set_allocator(counting_malloc, counting_realloc, counting_free) != MP_OK) {
        fprintf(stderr, "mp_set_allocator refused before any use\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_when_partial),
        cmocka_unit_test(test_every_allocation_goes_through_the_hook),
        cmocka_unit_test(test_too_late_once_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
