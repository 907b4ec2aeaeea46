/*
 * The schema tables themselves: every field of every object is described
 * consistently, so that the walkers can trust them. In particular the
 * encoder's one-load presence test (mp__field.probe_at / probe_mask) must
 * look at exactly the bytes that say whether the field is set, and never
 * outside its struct.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "schema/schema.h"

/* Calls fn on every object of the model, events' data objects included. */
static void each_object(void (*fn)(const mp__object *obj)) {
    for (size_t i = 0; i < mp__all_objects_count; i++)
        fn(mp__all_objects[i]);
}

static void check_probe(const mp__object *obj) {
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        size_t width = MP__PROBE_WIDTH(f->kind);
        size_t window = obj->size < 8 ? 8 : obj->size;
        /* The 8-byte window lies inside the struct (or its 8-byte padded copy). */
        if ((size_t)f->probe_at + 8 > window)
            fail_msg("%s.%s: probe window at %u overruns %zu bytes", obj->name, f->name,
                     f->probe_at, window);
        /* It covers the field's presence bytes and selects exactly those. */
        if (f->offset < f->probe_at || f->offset + width > (size_t)f->probe_at + 8)
            fail_msg("%s.%s: window at %u misses the field at %u", obj->name, f->name,
                     f->probe_at, f->offset);
        for (size_t b = 0; b < 8; b++) {
            size_t at = f->probe_at + b;
            int want = at >= f->offset && at < f->offset + width;
            if ((f->probe_mask[b] != 0) != want)
                fail_msg("%s.%s: mask byte %zu is %s", obj->name, f->name, b,
                         want ? "off" : "on");
        }
    }
}

static void test_probe_windows(void **state) {
    (void)state;
    each_object(check_probe);
}

static void check_fields(const mp__object *obj) {
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        /* Offsets inside the struct, keys pre-rendered from the name. */
        assert_true(f->offset < obj->size);
        assert_int_equal(f->name_len, strlen(f->name));
        assert_int_equal(f->key_len, f->name_len + 3);
        assert_int_equal(f->key[0], '"');
        assert_memory_equal(f->key + 1, f->name, f->name_len);
        assert_memory_equal(f->key + 1 + f->name_len, "\":", 2);
        /* Kinds that need a sub-description have one. */
        if (f->kind == MP__K_ENUM || f->kind == MP__K_OBJECT || f->kind == MP__K_OBJECT_LIST ||
            f->kind == MP__K_GDPR)
            assert_non_null(f->sub);
        /* No JSON key twice in one object. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(obj->fields[j].name, f->name) == 0)
                fail_msg("%s: key %s twice", obj->name, f->name);
    }
}

static void test_fields_consistent(void **state) {
    (void)state;
    each_object(check_fields);
}

/* Every event type's name matches the public enum's JSON string. */
static void test_event_descs(void **state) {
    (void)state;
    assert_int_equal(mp__event_desc_count, MP_EVENT_UNINSTALL + 1);
    for (int t = 1; t < mp__event_desc_count; t++) {
        assert_string_equal(mp__event_descs[t].name.name, mp_enum_name(MP_ENUM_EVENT_TYPE, t));
        assert_int_equal(mp__event_descs[t].name.len, strlen(mp__event_descs[t].name.name));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_windows),
        cmocka_unit_test(test_fields_consistent),
        cmocka_unit_test(test_event_descs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
