/*
 * Tests of mp_decode(): every kind of field (driven by the schema tables, so
 * a field added to schema.c is covered here without a new line), nulls,
 * wrong types, enums, integers at the edges of int64, problems with exact
 * paths, the three input forms with their line numbers, syntax errors and
 * how far they spoil, hostile input, allocation failure, round trips
 * through the encoder, and concurrent use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode_internal.h"
#include "common/alloc.h"
#include "mparticle/codec.h"
#include "schema/schema.h"
#include "support/generate.h"
#include "support/test_util.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Decodes a NUL-terminated text; returns the code and the document. */
static mp_error decode(const char *json, mp_document **doc, mp_diag *diag) {
    mp_diag_clear(diag);
    return mp_decode(json, strlen(json), doc, diag);
}

/* Prints every problem: shown by cmocka when an assertion fails. */
static void dump(const mp_diag *diag) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        print_message("  problem %zu: %s %s batch %ld path '%s' at %d:%d: %s\n", i,
                      p->severity == MP_SEVERITY_WARNING ? "warning" : "error",
                      mp_error_name(p->code), p->batch, p->path, p->line, p->column,
                      p->message);
    }
}

/* Decodes one batch that must decode without any problem. */
static mp_document *decode_clean(const char *json, mp_diag *diag) {
    mp_document *doc = NULL;
    mp_error err = decode(json, &doc, diag);
    if (err != MP_OK || mp_diag_count(diag) != 0)
        dump(diag);
    assert_int_equal(err, MP_OK);
    assert_int_equal(mp_diag_count(diag), 0);
    assert_non_null(doc);
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    return doc;
}

/* Asserts everything about problem i; message NULL skips the message. */
static void expect_problem(const mp_diag *diag, size_t i, mp_severity sev, const char *code,
                           long batch, const char *path, const char *message) {
    const mp_problem *p = mp_diag_get(diag, i);
    if (!p)
        dump(diag);
    assert_non_null(p);
    if (p->severity != sev || strcmp(mp_error_name(p->code), code) != 0 || p->batch != batch ||
        strcmp(p->path, path) != 0 || (message && strcmp(p->message, message) != 0))
        dump(diag);
    assert_int_equal(p->severity, sev);
    assert_string_equal(mp_error_name(p->code), code);
    assert_int_equal(p->batch, batch);
    assert_string_equal(p->path, path);
    if (message)
        assert_string_equal(p->message, message);
}

static void expect_error(const mp_diag *diag, size_t i, const char *code, long batch,
                         const char *path, const char *message) {
    expect_problem(diag, i, MP_SEVERITY_ERROR, code, batch, path, message);
}

/* Asserts a text-level problem (syntax and friends) with its position. */
static void expect_text_error(const mp_diag *diag, size_t i, const char *code, long batch,
                              int line, int column, const char *message_part) {
    const mp_problem *p = mp_diag_get(diag, i);
    if (!p || p->line != line || p->column != column ||
        !strstr(p->message, message_part))
        dump(diag);
    assert_non_null(p);
    assert_int_equal(p->severity, MP_SEVERITY_ERROR);
    assert_string_equal(mp_error_name(p->code), code);
    assert_int_equal(p->batch, batch);
    assert_string_equal(p->path, "");
    assert_int_equal(p->line, line);
    assert_int_equal(p->column, column);
    assert_non_null(strstr(p->message, message_part));
}

static int setup(void **state) {
    mp_diag *diag = mp_diag_new();
    if (!diag)
        return -1;
    *state = diag;
    return 0;
}

static int teardown(void **state) {
    mp_diag_free(*state);
    return 0;
}

/* A growable string for building inputs. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void text_add(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *p = realloc(t->s, cap);
        assert_non_null(p);
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void text_addf(text *t, const char *fmt, ...);

static void text_addf(text *t, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof buf);
    text_add(t, buf, (size_t)n);
}

static void text_repeat(text *t, const char *s, size_t times) {
    size_t n = strlen(s);
    for (size_t i = 0; i < times; i++)
        text_add(t, s, n);
}

/* ------------------------------------------------------------------------ */
/* Every kind, by hand: exact model values                                  */
/* ------------------------------------------------------------------------ */

static void test_every_kind_exact(void **state) {
    mp_diag *diag = *state;
    const char *json =
        "{\"source_request_id\":\"req-1\","
        "\"context\":{\"data_plan\":{\"plan_id\":\"plan\",\"plan_version\":3}},"
        "\"events\":["
        "{\"data\":{\"timestamp_unixtime_ms\":1700000000000,\"custom_event_type\":\"navigation\","
        "\"event_name\":\"Clicked\",\"custom_attributes\":{\"s\":\"v\",\"i\":-7,\"d\":0.25,"
        "\"b\":false,\"n\":null}},\"event_type\":\"custom_event\"},"
        "{\"data\":{\"product_action\":{\"action\":\"purchase\",\"total_amount\":123.12,"
        "\"products\":[{\"id\":\"sku-1\",\"price\":19.99,\"quantity\":2,"
        "\"custom_attributes\":{\"color\":\"red\",\"size\":null}}]}},"
        "\"event_type\":\"commerce_event\"},"
        "{\"data\":{\"user_attribute_name\":\"tags\",\"new\":[\"a\",1,2.5,true,null],"
        "\"old\":null},\"event_type\":\"user_attribute_change\"}],"
        "\"device_info\":{\"platform\":\"iOS\",\"is_tablet\":false,\"screen_height\":2048},"
        "\"user_attributes\":{\"Account type\":\"trial\",\"foo-array\":[\"bar1\",\"bar2\"]},"
        "\"deleted_user_attributes\":[\"gone\"],"
        "\"user_identities\":{\"customer_id\":\"cust\",\"email\":\"a@b.c\"},"
        "\"environment\":\"production\","
        "\"integration_attributes\":{\"92\":{\"k\":\"v\"},\"93\":null},"
        "\"partner_identities\":{\"mParticle_mpid\":\"42\"},"
        "\"mpid\":-2271448330363288817,"
        "\"consent_state\":{\"gdpr\":{\"location\":{\"consented\":false,"
        "\"timestamp_unixtime_ms\":5}}},"
        "\"modified\":true}";
    mp_document *doc = decode_clean(json, diag);
    const mp_batch *b = mp_document_batch(doc, 0);
    assert_int_equal(mp_document_batch_line(doc, 0), 1);

    assert_string_equal(b->source_request_id, "req-1");
    assert_non_null(b->context);
    assert_string_equal(b->context->data_plan->plan_id, "plan");
    assert_int_equal(b->context->data_plan->plan_version.state, MP_PRESENT);
    assert_int_equal(b->context->data_plan->plan_version.value, 3);
    assert_null(b->context->batching);

    assert_int_equal(b->events.count, 3);
    const mp_event *ev = &b->events.items[0];
    assert_int_equal(ev->event_type, MP_EVENT_CUSTOM_EVENT);
    assert_int_equal(ev->common.timestamp_unixtime_ms.value, 1700000000000LL);
    assert_int_equal(ev->custom_event.custom_event_type, MP_CUSTOM_EVENT_TYPE_NAVIGATION);
    assert_string_equal(ev->custom_event.event_name, "Clicked");
    const mp_attribute_list *ca = &ev->common.custom_attributes;
    assert_int_equal(ca->count, 5);
    assert_string_equal(ca->items[0].name, "s");
    assert_int_equal(ca->items[0].value.type, MP_VALUE_STRING);
    assert_string_equal(ca->items[0].value.u.string, "v");
    assert_string_equal(ca->items[1].name, "i");
    assert_int_equal(ca->items[1].value.type, MP_VALUE_INT);
    assert_int_equal(ca->items[1].value.u.integer, -7);
    assert_int_equal(ca->items[2].value.type, MP_VALUE_DOUBLE);
    assert_true(ca->items[2].value.u.number == 0.25);
    assert_int_equal(ca->items[3].value.type, MP_VALUE_BOOL);
    assert_int_equal(ca->items[3].value.u.boolean, 0);
    assert_string_equal(ca->items[4].name, "n");
    assert_int_equal(ca->items[4].value.type, MP_VALUE_NULL);

    ev = &b->events.items[1];
    assert_int_equal(ev->event_type, MP_EVENT_COMMERCE_EVENT);
    const mp_product_action *pa = ev->commerce_event.product_action;
    assert_non_null(pa);
    assert_int_equal(pa->action, MP_PRODUCT_ACTION_PURCHASE);
    assert_true(pa->total_amount.state == MP_PRESENT && pa->total_amount.value == 123.12);
    assert_int_equal(pa->products.count, 1);
    const mp_product *p = &pa->products.items[0];
    assert_string_equal(p->id, "sku-1");
    assert_true(p->price.value == 19.99);
    assert_int_equal(p->quantity.state, MP_PRESENT); /* an integer into a double */
    assert_true(p->quantity.value == 2.0);
    assert_int_equal(p->custom_attributes.count, 2);
    assert_string_equal(p->custom_attributes.items[0].name, "color");
    assert_string_equal(p->custom_attributes.items[0].value, "red");
    assert_string_equal(p->custom_attributes.items[1].name, "size");
    assert_ptr_equal(p->custom_attributes.items[1].value, MP_STRING_NULL);
    assert_null(ev->commerce_event.promotion_action);
    assert_null(ev->commerce_event.product_impressions.items);

    ev = &b->events.items[2];
    assert_int_equal(ev->event_type, MP_EVENT_USER_ATTRIBUTE_CHANGE);
    const mp_value *nv = &ev->user_attribute_change.new_;
    assert_int_equal(nv->type, MP_VALUE_LIST);
    assert_int_equal(nv->u.list.count, 5);
    assert_string_equal(nv->u.list.items[0].u.string, "a");
    assert_int_equal(nv->u.list.items[1].u.integer, 1);
    assert_true(nv->u.list.items[2].u.number == 2.5);
    assert_int_equal(nv->u.list.items[3].u.boolean, 1);
    assert_int_equal(nv->u.list.items[4].type, MP_VALUE_NULL);
    assert_int_equal(ev->user_attribute_change.old.type, MP_VALUE_NULL);

    assert_int_equal(b->device_info->platform, MP_PLATFORM_IOS);
    assert_int_equal(b->device_info->is_tablet.state, MP_PRESENT);
    assert_int_equal(b->device_info->is_tablet.value, 0);
    assert_int_equal(b->device_info->screen_height.value, 2048);
    assert_int_equal(b->device_info->screen_width.state, MP_ABSENT);

    assert_int_equal(b->user_attributes.count, 2);
    assert_string_equal(b->user_attributes.items[0].name, "Account type");
    assert_string_equal(b->user_attributes.items[0].value.u.string, "trial");
    const mp_value *fa = &b->user_attributes.items[1].value;
    assert_int_equal(fa->type, MP_VALUE_LIST);
    assert_int_equal(fa->u.list.count, 2);
    assert_string_equal(fa->u.list.items[1].u.string, "bar2");

    assert_int_equal(b->deleted_user_attributes.count, 1);
    assert_string_equal(b->deleted_user_attributes.items[0], "gone");
    assert_string_equal(b->user_identities->customer_id, "cust");
    assert_string_equal(b->user_identities->email, "a@b.c");
    assert_null(b->user_identities->other);
    assert_int_equal(b->environment, MP_ENVIRONMENT_PRODUCTION);

    assert_int_equal(b->integration_attributes.count, 2);
    assert_string_equal(b->integration_attributes.items[0].name, "92");
    assert_int_equal(b->integration_attributes.items[0].value.count, 1);
    assert_string_equal(b->integration_attributes.items[0].value.items[0].name, "k");
    assert_string_equal(b->integration_attributes.items[0].value.items[0].value, "v");
    assert_string_equal(b->integration_attributes.items[1].name, "93");
    assert_true(MP_IS_NULL(b->integration_attributes.items[1].value.items));

    assert_int_equal(b->partner_identities.count, 1);
    assert_string_equal(b->partner_identities.items[0].name, "mParticle_mpid");
    assert_string_equal(b->partner_identities.items[0].value, "42");

    assert_int_equal(b->mpid.state, MP_PRESENT);
    assert_true(b->mpid.value == INT64_C(-2271448330363288817));

    const mp_gdpr_purpose_list *g = &b->consent_state->gdpr;
    assert_int_equal(g->count, 1);
    assert_string_equal(g->items[0].purpose, "location");
    assert_int_equal(g->items[0].consent.consented.state, MP_PRESENT);
    assert_int_equal(g->items[0].consent.consented.value, 0);
    assert_int_equal(g->items[0].consent.timestamp_unixtime_ms.value, 5);
    assert_null(b->consent_state->ccpa);

    assert_int_equal(b->modified.state, MP_PRESENT);
    assert_int_equal(b->modified.value, 1);
    assert_null(b->api_key);
    assert_int_equal(b->timestamp_unixtime_ms.state, MP_ABSENT);
    mp_document_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Every field of every object, driven by the schema tables                 */
/* ------------------------------------------------------------------------ */

/* How to reach an object from the batch: a list of container fields. */
typedef struct step {
    const mp__field *f; /* OBJECT, OBJECT_LIST, GDPR or EVENT_LIST */
    int event_type;     /* EVENT_LIST: the type of the one event */
    int type_part;      /* EVENT_LIST: 1 = the type's own data, 0 = common */
} step;

typedef struct route {
    step steps[10];
    int n;
} route;

/* Wraps the JSON object `inner` (the object at the end of r) into a batch. */
static char *wrap(const route *r, const char *inner) {
    char *cur = strdup(inner);
    assert_non_null(cur);
    for (int i = r->n - 1; i >= 0; i--) {
        const step *s = &r->steps[i];
        text t = {0};
        switch ((mp__kind)s->f->kind) {
        case MP__K_OBJECT:
            text_addf(&t, "{\"%s\":", s->f->name);
            text_add(&t, cur, strlen(cur));
            text_add(&t, "}", 1);
            break;
        case MP__K_OBJECT_LIST:
            text_addf(&t, "{\"%s\":[", s->f->name);
            text_add(&t, cur, strlen(cur));
            text_add(&t, "]}", 2);
            break;
        case MP__K_GDPR:
            text_addf(&t, "{\"%s\":{\"p\":", s->f->name);
            text_add(&t, cur, strlen(cur));
            text_add(&t, "}}", 2);
            break;
        case MP__K_EVENT_LIST:
            text_addf(&t, "{\"%s\":[{\"data\":", s->f->name);
            text_add(&t, cur, strlen(cur));
            text_addf(&t, ",\"event_type\":\"%s\"}]}", mp__event_descs[s->event_type].name.name);
            break;
        default:
            fail_msg("not a container kind");
        }
        free(cur);
        cur = t.s;
    }
    return cur;
}

/* The JSON path of the object at the end of r, as problems render it. */
static void route_path(const route *r, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < r->n; i++) {
        const step *s = &r->steps[i];
        const char *suffix = (mp__kind)s->f->kind == MP__K_OBJECT        ? ""
                             : (mp__kind)s->f->kind == MP__K_OBJECT_LIST ? "[0]"
                             : (mp__kind)s->f->kind == MP__K_GDPR        ? ".p"
                                                                         : "[0].data";
        o += (size_t)snprintf(out + o, cap - o, "%s%s%s", o ? "." : "", s->f->name, suffix);
    }
}

/* The struct at the end of r inside the decoded batch. */
static const void *navigate(const mp_batch *b, const route *r) {
    const void *base = b;
    for (int i = 0; i < r->n; i++) {
        const step *s = &r->steps[i];
        assert_non_null(base);
        switch ((mp__kind)s->f->kind) {
        case MP__K_OBJECT:
            base = mp__load_ptr(base, s->f->offset);
            break;
        case MP__K_OBJECT_LIST:
            assert_int_equal(mp__load_size(base, s->f->offset + MP__LIST_COUNT), 1);
            base = mp__load_ptr(base, s->f->offset + MP__LIST_ITEMS);
            break;
        case MP__K_GDPR: {
            const mp_gdpr_purpose_list *g =
                (const mp_gdpr_purpose_list *)(const void *)((const char *)base + s->f->offset);
            assert_int_equal(g->count, 1);
            assert_string_equal(g->items[0].purpose, "p");
            base = &g->items[0].consent;
            break;
        }
        case MP__K_EVENT_LIST: {
            const mp_event_list *l =
                (const mp_event_list *)(const void *)((const char *)base + s->f->offset);
            assert_int_equal(l->count, 1);
            assert_int_equal(l->items[0].event_type, s->event_type);
            base = s->type_part ? (const void *)((const char *)&l->items[0] + MP__EVENT_UNION_OFFSET)
                                : (const void *)&l->items[0].common;
            break;
        }
        default:
            fail_msg("not a container kind");
        }
    }
    assert_non_null(base);
    assert_false(MP_IS_NULL(base));
    return base;
}

/* A JSON value of the right type for f, checked by check_sample(). */
static void sample_json(const mp__field *f, char *out, size_t cap) {
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        snprintf(out, cap, "\"s-%s\"", f->name);
        return;
    case MP__K_INT64:
        snprintf(out, cap, "-1234567890123");
        return;
    case MP__K_DOUBLE:
        snprintf(out, cap, "2.5");
        return;
    case MP__K_BOOL:
        snprintf(out, cap, "false");
        return;
    case MP__K_ENUM: {
        const mp__enum *e = f->sub;
        snprintf(out, cap, "\"%s\"", e->names[e->count - 1].name);
        return;
    }
    case MP__K_OBJECT:
        snprintf(out, cap, "{}");
        return;
    case MP__K_OBJECT_LIST:
        snprintf(out, cap, "[{},{}]");
        return;
    case MP__K_STRING_LIST:
        snprintf(out, cap, "[\"a\",null]");
        return;
    case MP__K_ATTRIBUTES:
        snprintf(out, cap, "{\"k\":1,\"l\":[\"x\"]}");
        return;
    case MP__K_STRING_MAP:
        snprintf(out, cap, "{\"k\":\"v\",\"n\":null}");
        return;
    case MP__K_STRING_MAP_MAP:
        snprintf(out, cap, "{\"m\":{\"k\":\"v\"},\"z\":null}");
        return;
    case MP__K_GDPR:
        snprintf(out, cap, "{\"p\":{\"consented\":true}}");
        return;
    case MP__K_VALUE:
        snprintf(out, cap, "[1,\"x\"]");
        return;
    case MP__K_EVENT_LIST:
        snprintf(out, cap, "[{\"event_type\":\"uninstall\"}]");
        return;
    }
    fail_msg("unknown kind %d", f->kind);
}

static void check_sample(const mp__field *f, const void *base) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING: {
        char want[300];
        snprintf(want, sizeof want, "s-%s", f->name);
        assert_string_equal(mp__load_ptr(base, f->offset), want);
        return;
    }
    case MP__K_INT64: {
        const mp_opt_int64 *v = (const mp_opt_int64 *)(const void *)at;
        assert_int_equal(v->state, MP_PRESENT);
        assert_true(v->value == INT64_C(-1234567890123));
        return;
    }
    case MP__K_DOUBLE: {
        const mp_opt_double *v = (const mp_opt_double *)(const void *)at;
        assert_int_equal(v->state, MP_PRESENT);
        assert_true(v->value == 2.5);
        return;
    }
    case MP__K_BOOL: {
        const mp_opt_bool *v = (const mp_opt_bool *)(const void *)at;
        assert_int_equal(v->state, MP_PRESENT);
        assert_int_equal(v->value, 0);
        return;
    }
    case MP__K_ENUM:
        assert_int_equal(mp__load_enum(base, f->offset), ((const mp__enum *)f->sub)->count - 1);
        return;
    case MP__K_OBJECT: {
        const void *p = mp__load_ptr(base, f->offset);
        assert_non_null(p);
        assert_false(MP_IS_NULL(p));
        return;
    }
    case MP__K_VALUE: {
        const mp_value *v = (const mp_value *)(const void *)at;
        assert_int_equal(v->type, MP_VALUE_LIST);
        assert_int_equal(v->u.list.count, 2);
        assert_int_equal(v->u.list.items[0].type, MP_VALUE_INT);
        assert_int_equal(v->u.list.items[0].u.integer, 1);
        assert_string_equal(v->u.list.items[1].u.string, "x");
        return;
    }
    default:
        break;
    }
    const void *items = mp__load_ptr(base, f->offset + MP__LIST_ITEMS);
    size_t count = mp__load_size(base, f->offset + MP__LIST_COUNT);
    assert_non_null(items);
    assert_false(MP_IS_NULL(items));
    assert_int_equal(count, 2 - ((mp__kind)f->kind == MP__K_GDPR ||
                                 (mp__kind)f->kind == MP__K_EVENT_LIST));
    switch ((mp__kind)f->kind) {
    case MP__K_STRING_LIST: {
        const char *const *s = items;
        assert_string_equal(s[0], "a");
        assert_ptr_equal(s[1], MP_STRING_NULL);
        return;
    }
    case MP__K_ATTRIBUTES: {
        const mp_attribute *a = items;
        assert_string_equal(a[0].name, "k");
        assert_int_equal(a[0].value.type, MP_VALUE_INT);
        assert_string_equal(a[1].name, "l");
        assert_int_equal(a[1].value.type, MP_VALUE_LIST);
        assert_string_equal(a[1].value.u.list.items[0].u.string, "x");
        return;
    }
    case MP__K_STRING_MAP: {
        const mp_string_pair *p = items;
        assert_string_equal(p[0].name, "k");
        assert_string_equal(p[0].value, "v");
        assert_string_equal(p[1].name, "n");
        assert_ptr_equal(p[1].value, MP_STRING_NULL);
        return;
    }
    case MP__K_STRING_MAP_MAP: {
        const mp_string_map_entry *m = items;
        assert_string_equal(m[0].name, "m");
        assert_string_equal(m[0].value.items[0].value, "v");
        assert_string_equal(m[1].name, "z");
        assert_true(MP_IS_NULL(m[1].value.items));
        return;
    }
    case MP__K_GDPR: {
        const mp_gdpr_purpose *g = items;
        assert_string_equal(g[0].purpose, "p");
        assert_int_equal(g[0].consent.consented.value, 1);
        return;
    }
    case MP__K_EVENT_LIST:
        assert_int_equal(((const mp_event *)items)[0].event_type, MP_EVENT_UNINSTALL);
        return;
    default:
        return; /* OBJECT_LIST: two zeroed objects, count checked above */
    }
}

/* Checks the null state of f after decoding `null`. */
static void check_null(const mp__field *f, const void *base) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        assert_ptr_equal(mp__load_ptr(base, f->offset), MP_STRING_NULL);
        return;
    case MP__K_INT64:
        assert_int_equal(((const mp_opt_int64 *)(const void *)at)->state, MP_NULLED);
        return;
    case MP__K_DOUBLE:
        assert_int_equal(((const mp_opt_double *)(const void *)at)->state, MP_NULLED);
        return;
    case MP__K_BOOL:
        assert_int_equal(((const mp_opt_bool *)(const void *)at)->state, MP_NULLED);
        return;
    case MP__K_ENUM: /* no null state: absent */
        assert_int_equal(mp__load_enum(base, f->offset), 0);
        return;
    case MP__K_OBJECT:
        assert_true(MP_IS_NULL(mp__load_ptr(base, f->offset)));
        return;
    case MP__K_VALUE:
        assert_int_equal(((const mp_value *)(const void *)at)->type, MP_VALUE_NULL);
        return;
    default:
        assert_true(MP_IS_NULL(mp__load_ptr(base, f->offset + MP__LIST_ITEMS)));
        assert_int_equal(mp__load_size(base, f->offset + MP__LIST_COUNT), 0);
        return;
    }
}

/* Checks that f was left absent. */
static void check_absent(const mp__field *f, const void *base) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_INT64:
        assert_int_equal(((const mp_opt_int64 *)(const void *)at)->state, MP_ABSENT);
        return;
    case MP__K_DOUBLE:
        assert_int_equal(((const mp_opt_double *)(const void *)at)->state, MP_ABSENT);
        return;
    case MP__K_BOOL:
        assert_int_equal(((const mp_opt_bool *)(const void *)at)->state, MP_ABSENT);
        return;
    case MP__K_ENUM:
        assert_int_equal(mp__load_enum(base, f->offset), 0);
        return;
    case MP__K_VALUE:
        assert_int_equal(((const mp_value *)(const void *)at)->type, MP_VALUE_ABSENT);
        return;
    default: /* strings, objects and the items of lists */
        assert_null(mp__load_ptr(base, f->offset));
        return;
    }
}

/* A value of a wrong JSON type for f, and the message it must cause. */
static const char *wrong_json(const mp__field *f, const char **message) {
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        *message = "expected a string, got an integer";
        return "12";
    case MP__K_INT64:
        *message = "expected an integer, got a real number";
        return "1.0";
    case MP__K_DOUBLE:
        *message = "expected a number, got a string";
        return "\"2.5\"";
    case MP__K_BOOL:
        *message = "expected a boolean, got an integer";
        return "0";
    case MP__K_ENUM:
        *message = "expected a string, got an integer";
        return "1";
    case MP__K_OBJECT:
        *message = "expected an object, got an array";
        return "[]";
    case MP__K_OBJECT_LIST:
    case MP__K_STRING_LIST:
    case MP__K_EVENT_LIST:
        *message = "expected an array, got an object";
        return "{}";
    case MP__K_ATTRIBUTES:
    case MP__K_STRING_MAP:
    case MP__K_STRING_MAP_MAP:
    case MP__K_GDPR:
        *message = "expected an object, got a boolean";
        return "true";
    case MP__K_VALUE:
        *message = "expected a string, number, boolean, null or an array of them, got an object";
        return "{}";
    }
    return NULL;
}

/* One field at the end of a route: sample, null, empty and wrong type. */
static void check_field(mp_diag *diag, const route *r, const mp__field *f) {
    char value[128], inner[512], where[256], path[400];
    route_path(r, where, sizeof where);
    snprintf(path, sizeof path, "%s%s%s", where, where[0] ? "." : "", f->name);
    mp_document *doc = NULL;

    /* A value of the right type. */
    sample_json(f, value, sizeof value);
    snprintf(inner, sizeof inner, "{\"%s\":%s}", f->name, value);
    char *json = wrap(r, inner);
    doc = decode_clean(json, diag);
    check_sample(f, navigate(mp_document_batch(doc, 0), r));
    mp_document_free(doc);
    free(json);

    /* null */
    snprintf(inner, sizeof inner, "{\"%s\":null}", f->name);
    json = wrap(r, inner);
    doc = decode_clean(json, diag);
    check_null(f, navigate(mp_document_batch(doc, 0), r));
    mp_document_free(doc);
    free(json);

    /* An empty container: a non-NULL items pointer with count 0. */
    mp__kind k = (mp__kind)f->kind;
    if (k >= MP__K_OBJECT_LIST && k <= MP__K_GDPR) {
        snprintf(inner, sizeof inner, "{\"%s\":%s}", f->name,
                 k == MP__K_OBJECT_LIST || k == MP__K_STRING_LIST ? "[]" : "{}");
        json = wrap(r, inner);
        doc = decode_clean(json, diag);
        const void *base = navigate(mp_document_batch(doc, 0), r);
        const void *items = mp__load_ptr(base, f->offset + MP__LIST_ITEMS);
        assert_non_null(items);
        assert_false(MP_IS_NULL(items));
        assert_int_equal(mp__load_size(base, f->offset + MP__LIST_COUNT), 0);
        mp_document_free(doc);
        free(json);
    }

    /* A wrong type: one error naming the path, the field left absent. */
    const char *message = NULL;
    const char *wrong = wrong_json(f, &message);
    assert_non_null(wrong);
    snprintf(inner, sizeof inner, "{\"%s\":%s}", f->name, wrong);
    json = wrap(r, inner);
    mp_error err = decode(json, &doc, diag);
    assert_int_equal(err, MP_ERR_TYPE);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, path, message);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    check_absent(f, navigate(mp_document_batch(doc, 0), r));
    mp_document_free(doc);
    free(json);

    /* Every name of an enum, exactly; the wrong case is an enum error. */
    if (k == MP__K_ENUM) {
        const mp__enum *e = f->sub;
        for (int v = 1; v < e->count; v++) {
            snprintf(inner, sizeof inner, "{\"%s\":\"%s\"}", f->name, e->names[v].name);
            json = wrap(r, inner);
            doc = decode_clean(json, diag);
            assert_int_equal(mp__load_enum(navigate(mp_document_batch(doc, 0), r), f->offset),
                             v);
            mp_document_free(doc);
            free(json);
        }
        char upper[64];
        snprintf(upper, sizeof upper, "%s", e->names[1].name);
        for (char *c = upper; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        snprintf(inner, sizeof inner, "{\"%s\":\"%s\"}", f->name, upper);
        json = wrap(r, inner);
        assert_int_equal(decode(json, &doc, diag), MP_ERR_ENUM);
        expect_error(diag, 0, "MP_ERR_ENUM", 0, path, NULL);
        assert_int_equal(mp__load_enum(navigate(mp_document_batch(doc, 0), r), f->offset), 0);
        mp_document_free(doc);
        free(json);
    }
}

/* An unknown key in the object at the end of r is a warning, nothing more. */
static void check_unknown_key(mp_diag *diag, const route *r) {
    char where[256], path[300];
    route_path(r, where, sizeof where);
    snprintf(path, sizeof path, "%s%szz_unknown", where, where[0] ? "." : "");
    char *json = wrap(r, "{\"zz_unknown\":{\"deep\":[1]}}");
    mp_document *doc = NULL;
    assert_int_equal(decode(json, &doc, diag), MP_OK);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_INVALID", 0, path,
                   "unknown key ignored");
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    mp_document_free(doc);
    free(json);
}

/* A diag that leaves warnings out gets the errors alone, with the same
 * batch verdicts; the warnings (an unknown key, a number that is not kept
 * exactly) are back once it keeps them again. And a syntax error after a
 * warning is still the batch's only problem. */
static void test_warnings_left_out(void **state) {
    mp_diag *diag = *state;
    const char *json =
        "{\"zz_unknown\":1,\"environment\":\"development\",\"mpid\":\"x\","
        "\"device_info\":{\"device_manufacturer\":\"a\"},"
        "\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"e\","
        "\"custom_event_type\":\"other\",\"custom_attributes\":{\"n\":1e-400}}}]}\n"
        "{\"zz_unknown\":1,\"environment\":\"development\",\"mpid\":}\n";
    mp_document *doc = NULL;
    assert_int_equal(decode(json, &doc, diag), MP_ERR_TYPE);
    assert_int_equal(mp_diag_count(diag), 4);
    mp_document_free(doc);

    mp_diag_clear(diag);
    mp_diag_keep_warnings(diag, 0);
    assert_int_equal(decode(json, &doc, diag), MP_ERR_TYPE);
    mp_diag_keep_warnings(diag, 1);
    assert_int_equal(mp_diag_count(diag), 2);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, "mpid", "expected an integer, got a string");
    expect_problem(diag, 1, MP_SEVERITY_ERROR, "MP_ERR_JSON_SYNTAX", 1, "", NULL);
    assert_int_equal(mp_document_count(doc), 2);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    assert_int_equal(mp_document_batch_ok(doc, 1), 0);
    mp_document_free(doc);
}

typedef struct walk {
    mp_diag *diag;
    const mp__object *seen[64];
    size_t nseen;
    size_t fields;
} walk;

static int seen(walk *w, const mp__object *obj) {
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i] == obj)
            return 1;
    assert_true(w->nseen < 64);
    w->seen[w->nseen++] = obj;
    return 0;
}

static void visit(walk *w, const mp__object *obj, route *r) {
    if (seen(w, obj))
        return;
    check_unknown_key(w->diag, r);
    for (size_t i = 0; i < obj->nfields; i++) {
        check_field(w->diag, r, &obj->fields[i]);
        w->fields++;
    }
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        mp__kind k = (mp__kind)f->kind;
        assert_true(r->n < 10);
        if (k == MP__K_OBJECT || k == MP__K_OBJECT_LIST || k == MP__K_GDPR) {
            r->steps[r->n++] = (step){f, 0, 0};
            visit(w, f->sub, r);
            r->n--;
        } else if (k == MP__K_EVENT_LIST) {
            r->steps[r->n++] = (step){f, MP_EVENT_SESSION_START, 0};
            visit(w, &mp__event_common_object, r);
            for (int t = 1; t < mp__event_desc_count; t++) {
                if (!mp__event_descs[t].data)
                    continue;
                r->steps[r->n - 1] = (step){f, t, 1};
                visit(w, mp__event_descs[t].data, r);
            }
            r->n--;
        }
    }
}

static void test_every_field_of_every_object(void **state) {
    walk w = {*state, {0}, 0, 0};
    route r = {.n = 0};
    visit(&w, &mp__batch_object, &r);
    /* Every object of the model was reached from the batch. */
    assert_int_equal(w.nseen, mp__all_objects_count);
    for (size_t i = 0; i < mp__all_objects_count; i++) {
        int found = 0;
        for (size_t j = 0; j < w.nseen; j++)
            found |= w.seen[j] == mp__all_objects[i];
        assert_true(found);
    }
    assert_true(w.fields > 250);
}

/* Each event type's own keys never repeat a common key: the decoder's
 * look-up order relies on it. */
static void test_event_tables_are_disjoint(void **state) {
    (void)state;
    for (int t = 1; t < mp__event_desc_count; t++) {
        const mp__object *data = mp__event_descs[t].data;
        for (size_t i = 0; data && i < data->nfields; i++)
            assert_null(mp__object_find(&mp__event_common_object, data->fields[i].name,
                                        data->fields[i].name_len));
    }
}

/* All 19 event types decode with their type and common data. */
static void test_every_event_type(void **state) {
    mp_diag *diag = *state;
    text t = {0};
    text_add(&t, "{\"events\":[", 11);
    for (int ty = 1; ty < mp__event_desc_count; ty++)
        text_addf(&t, "%s{\"data\":{\"event_num\":%d},\"event_type\":\"%s\"}", ty > 1 ? "," : "",
                  ty, mp__event_descs[ty].name.name);
    text_add(&t, "]}", 2);
    mp_document *doc = decode_clean(t.s, diag);
    const mp_batch *b = mp_document_batch(doc, 0);
    assert_int_equal(b->events.count, 19);
    for (int ty = 1; ty < mp__event_desc_count; ty++) {
        assert_int_equal(b->events.items[ty - 1].event_type, ty);
        assert_int_equal(b->events.items[ty - 1].common.event_num.value, ty);
    }
    mp_document_free(doc);
    free(t.s);
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */
/* ------------------------------------------------------------------------ */

static void test_int64_extremes(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = decode_clean("{\"mpid\":-9223372036854775808,\"batch_id\":"
                                    "9223372036854775807,\"origin_mpid\":"
                                    "-2271448330363288817,\"schema_version\":0}",
                                    diag);
    const mp_batch *b = mp_document_batch(doc, 0);
    assert_true(b->mpid.value == INT64_MIN);
    assert_true(b->batch_id.value == INT64_MAX);
    assert_true(b->origin_mpid.value == INT64_C(-2271448330363288817));
    assert_int_equal(b->schema_version.state, MP_PRESENT);
    assert_true(b->schema_version.value == 0);
    mp_document_free(doc);

    /* The same extremes as attribute values stay integers. */
    doc = decode_clean("{\"user_attributes\":{\"min\":-9223372036854775808,"
                       "\"max\":9223372036854775807}}",
                       diag);
    b = mp_document_batch(doc, 0);
    assert_int_equal(b->user_attributes.items[0].value.type, MP_VALUE_INT);
    assert_true(b->user_attributes.items[0].value.u.integer == INT64_MIN);
    assert_true(b->user_attributes.items[1].value.u.integer == INT64_MAX);
    mp_document_free(doc);
}

static void test_numbers_out_of_range(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    /* Integers beyond int64 in an integer field: a range error naming the
     * field; the rest of the batch decodes. */
    assert_int_equal(decode("{\"mpid\":9223372036854775808,\"batch_id\":"
                            "-123456789012345678901234567890,\"origin_mpid\":1}",
                            &doc, diag),
                     MP_ERR_RANGE);
    assert_int_equal(mp_diag_count(diag), 2);
    expect_error(diag, 0, "MP_ERR_RANGE", 0, "mpid", "integer does not fit in int64");
    expect_error(diag, 1, "MP_ERR_RANGE", 0, "batch_id", "integer does not fit in int64");
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    assert_int_equal(mp_document_batch(doc, 0)->mpid.state, MP_ABSENT);
    assert_int_equal(mp_document_batch(doc, 0)->origin_mpid.value, 1);
    mp_document_free(doc);

    /* The same integers are doubles: Go, JavaScript and our encoder write
     * 1e20 as 100000000000000000000, exactly. The 30-digit one loses digits,
     * which a warning says (the batch is still good). */
    assert_int_equal(decode("{\"events\":[{\"data\":{\"lifetime_value_change\":"
                            "100000000000000000000,\"custom_attributes\":{\"big\":"
                            "-123456789012345678901234567890}},\"event_type\":\"session_start\"}]}",
                            &doc, diag),
                     MP_OK);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_RANGE", 0,
                   "events[0].data.custom_attributes.big",
                   "-123456789012345678901234567890 cannot be kept exactly as a double (64-bit "
                   "IEEE 754); it becomes -1.2345678901234568e+29");
    const mp_event *ev = &mp_document_batch(doc, 0)->events.items[0];
    assert_true(ev->common.lifetime_value_change.value == 1e20);
    assert_int_equal(ev->common.custom_attributes.items[0].value.type, MP_VALUE_DOUBLE);
    assert_true(ev->common.custom_attributes.items[0].value.u.number ==
                -123456789012345678901234567890.0);
    mp_document_free(doc);

    /* A real beyond the double range spoils its record. */
    assert_int_equal(decode("{\"events\":[{\"data\":{\"lifetime_value_change\":1e400},"
                            "\"event_type\":\"session_start\"}]}",
                            &doc, diag),
                     MP_ERR_RANGE);
    expect_text_error(diag, 0, "MP_ERR_RANGE", 0, 1, 49, "does not fit in a double");
    assert_int_equal(mp_document_batch(doc, 0)->events.count, 0);
    mp_document_free(doc);

    /* Reals for an integer field are type errors, even when whole. */
    assert_int_equal(decode("{\"mpid\":1.5,\"batch_id\":1.0,\"origin_mpid\":1e2}", &doc, diag),
                     MP_ERR_TYPE);
    assert_int_equal(mp_diag_count(diag), 3);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, "mpid", "expected an integer, got a real number");
    expect_error(diag, 1, "MP_ERR_TYPE", 0, "batch_id", "expected an integer, got a real number");
    expect_error(diag, 2, "MP_ERR_TYPE", 0, "origin_mpid",
                 "expected an integer, got a real number");
    assert_int_equal(mp_document_batch(doc, 0)->mpid.state, MP_ABSENT);
    mp_document_free(doc);

    /* Tiny reals underflow to zero, as strtod does, but not quietly. */
    assert_int_equal(decode("{\"application_info\":{\"sideloaded_kits_count\":1e-400}}", &doc,
                            diag),
                     MP_OK);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_RANGE", 0,
                   "application_info.sideloaded_kits_count",
                   "1e-400 cannot be kept exactly as a double (64-bit IEEE 754); it becomes 0");
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    assert_true(mp_document_batch(doc, 0)->application_info->sideloaded_kits_count.value == 0.0);
    mp_document_free(doc);
}

/* A number whose value changes on its way through a double gets a warning
 * with its path; one that only changes its spelling (1.50, 1E2, 0.1, which
 * the encoder writes back as the same decimal) does not. */
static void test_inexact_numbers_warned(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = decode_clean(
        "{\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"e\","
        "\"custom_event_type\":\"other\",\"custom_attributes\":{\"a\":1.50,\"b\":1E2,"
        "\"c\":0.1,\"d\":-0.0,\"e\":1e-7,\"f\":1e21,\"g\":0.30000000000000004,"
        "\"h\":9007199254740992.0,\"i\":5e-324,\"j\":1.7976931348623157e308,"
        "\"k\":0.000000000000000000000000000000000000001}}}]}",
        diag);
    mp_document_free(doc);

    static const struct {
        const char *number, *becomes;
    } cases[] = {
        {"12345678901234567890", "12345678901234567000"},
        {"9007199254740993", "9007199254740992"},
        {"0.1000000000000000000001", "0.1"},
        {"-2.5e-324", "-5e-324"},
        {"1e-400", "0"},
        {"-1e-400", "-0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256], message[200];
        snprintf(json, sizeof json,
                 "{\"events\":[{\"event_type\":\"commerce_event\",\"data\":"
                 "{\"product_action\":{\"action\":\"purchase\",\"total_amount\":%s}}}]}",
                 cases[i].number);
        assert_int_equal(decode(json, &doc, diag), MP_OK);
        snprintf(message, sizeof message,
                 "%s cannot be kept exactly as a double (64-bit IEEE 754); it becomes %s",
                 cases[i].number, cases[i].becomes);
        assert_int_equal(mp_diag_count(diag), 1);
        expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_RANGE", 0,
                       "events[0].data.product_action.total_amount", message);
        mp_document_free(doc);
    }
}

/* "-0" is -0.0 for doubles (as our encoder writes it) and 0 for integers;
 * the rewrite that makes it so leaves strings and other reals alone. */
static void test_minus_zero(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = decode_clean(
        "{\"events\":[{\"data\":{\"lifetime_value_change\":-0,\"active_time_on_site_ms\":0,"
        "\"custom_attributes\":{\"z\":-0,\"f\":1.1234567890123457,\"s\":\"a:-0,\"}},"
        "\"event_type\":\"session_start\"}],\"ip\":\"[-0]\",\"mpid\" : -0}",
        diag);
    const mp_batch *b = mp_document_batch(doc, 0);
    const mp_event *ev = &b->events.items[0];
    assert_true(ev->common.lifetime_value_change.value == 0 &&
                signbit(ev->common.lifetime_value_change.value));
    assert_false(signbit(ev->common.active_time_on_site_ms.value));
    const mp_attribute *a = ev->common.custom_attributes.items;
    assert_int_equal(a[0].value.type, MP_VALUE_DOUBLE);
    assert_true(signbit(a[0].value.u.number));
    assert_true(a[1].value.u.number == 1.1234567890123457);
    assert_string_equal(a[2].value.u.string, "a:-0,");
    assert_string_equal(b->ip, "[-0]");
    assert_int_equal(b->mpid.state, MP_PRESENT);
    assert_true(b->mpid.value == 0);
    mp_document_free(doc);

    /* Positions after a rewritten token are those of the original text. */
    assert_int_equal(decode("{\"mpid\":99999999999999999999,\"ip\":tru}", &doc, diag),
                     MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 37, "invalid token near 'tru'");
    mp_document_free(doc);
    assert_int_equal(decode("{\"a\":[-0,-0,-0],\"ip\":tru}", &doc, diag), MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 24, "invalid token near 'tru'");
    mp_document_free(doc);
    assert_int_equal(decode("{\"mpid\":-0\n", &doc, diag), MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 11, "'}' expected near end of file");
    mp_document_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Problems and their paths                                                 */
/* ------------------------------------------------------------------------ */

static void test_enum_errors(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    assert_int_equal(decode("{\"device_info\":{\"platform\":\"Iphone\"},\"environment\":\"prod\"}",
                            &doc, diag),
                     MP_ERR_ENUM);
    assert_int_equal(mp_diag_count(diag), 2);
    expect_error(diag, 0, "MP_ERR_ENUM", 0, "device_info.platform",
                 "\"Iphone\" is not a valid platform (expected one of: iOS, Android, web, "
                 "desktop, tvOS, roku, out_of_band, alexa, smart_tv, fire_tv, xbox)");
    expect_error(diag, 1, "MP_ERR_ENUM", 0, "environment",
                 "\"prod\" is not a valid environment (expected one of: development, "
                 "production, unknown)");
    const mp_batch *b = mp_document_batch(doc, 0);
    assert_int_equal(b->device_info->platform, 0);
    assert_int_equal(b->environment, 0);
    mp_document_free(doc);

    /* A hostile value is shown short and escaped. */
    text t = {0};
    text_add(&t, "{\"environment\":\"\\\"\\n", 20);
    text_repeat(&t, "x", 10000);
    text_add(&t, "\"}", 2);
    assert_int_equal(decode(t.s, &doc, diag), MP_ERR_ENUM);
    const char *m = mp_diag_get(diag, 0)->message;
    assert_true(strncmp(m, "\"\\\"\\u000axxxx", 13) == 0);
    assert_non_null(strstr(m, "xxx...\" is not a valid environment"));
    assert_true(strlen(m) < 200);
    mp_document_free(doc);
    free(t.s);
}

static void test_event_envelope_errors(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    const char *json =
        "{\"events\":["
        "{\"data\":{\"session_id\":1},\"event_type\":\"session_start\",\"extra\":1},"
        "{\"data\":{\"session_id\":2}},"
        "{\"data\":{},\"event_type\":\"sesion_start\"},"
        "{\"event_type\":3},"
        "7,"
        "{\"data\":[],\"event_type\":\"first_run\"},"
        "{\"data\":{\"foo\":1,\"event_name\":\"n\",\"custom_event_type\":\"other\"},"
        "\"event_type\":\"custom_event\"}"
        "]}";
    assert_int_equal(decode(json, &doc, diag), MP_ERR_INVALID);
    assert_int_equal(mp_diag_count(diag), 7);
    expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_INVALID", 0, "events[0].extra",
                   "unknown key ignored");
    expect_error(diag, 1, "MP_ERR_INVALID", 0, "events[1]", "event has no event_type");
    expect_error(diag, 2, "MP_ERR_ENUM", 0, "events[2].event_type",
                 "unknown event_type \"sesion_start\"");
    expect_error(diag, 3, "MP_ERR_TYPE", 0, "events[3].event_type",
                 "expected a string, got an integer");
    expect_error(diag, 4, "MP_ERR_TYPE", 0, "events[4]", "expected an object, got an integer");
    expect_error(diag, 5, "MP_ERR_TYPE", 0, "events[5].data", "expected an object, got an array");
    expect_problem(diag, 6, MP_SEVERITY_WARNING, "MP_ERR_INVALID", 0, "events[6].data.foo",
                   "unknown key ignored");
    /* Events that cannot be represented are left out; the others stay. */
    const mp_batch *b = mp_document_batch(doc, 0);
    assert_int_equal(b->events.count, 3);
    assert_int_equal(b->events.items[0].event_type, MP_EVENT_SESSION_START);
    assert_int_equal(b->events.items[0].common.session_id.value, 1);
    assert_int_equal(b->events.items[1].event_type, MP_EVENT_FIRST_RUN);
    assert_int_equal(b->events.items[2].event_type, MP_EVENT_CUSTOM_EVENT);
    assert_string_equal(b->events.items[2].custom_event.event_name, "n");
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    mp_document_free(doc);
}

static void test_error_paths(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    const char *json =
        "{\"events\":[{\"event_type\":\"session_start\"},{\"event_type\":\"session_end\"},"
        "{\"data\":{\"product_action\":{\"action\":\"purchase\",\"products\":["
        "{\"id\":\"a\",\"price\":\"19.99\",\"custom_attributes\":{\"x\":1}},7]}},"
        "\"event_type\":\"commerce_event\"}],"
        "\"user_attributes\":{\"Account type\":{\"plan\":\"x\"},\"ok\":1,"
        "\"nested\":[1,[2],{\"a\":1},\"s\"]},"
        "\"deleted_user_attributes\":[\"a\",false],"
        "\"integration_attributes\":{\"92\":[]},"
        "\"consent_state\":{\"gdpr\":{\"p\\\"q\":null}},"
        "\"context\":{\"data_plan\":{\"plan_id\":{\"a\":{\"b\":1}}}}}";
    assert_int_equal(decode(json, &doc, diag), MP_ERR_TYPE);
    assert_int_equal(mp_diag_count(diag), 10);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, "events[2].data.product_action.products[0].price",
                 "expected a number, got a string");
    expect_error(diag, 1, "MP_ERR_TYPE", 0,
                 "events[2].data.product_action.products[0].custom_attributes.x",
                 "expected a string, got an integer");
    expect_error(diag, 2, "MP_ERR_TYPE", 0, "events[2].data.product_action.products[1]",
                 "expected an object, got an integer");
    expect_error(diag, 3, "MP_ERR_TYPE", 0, "user_attributes[\"Account type\"]",
                 "expected a string, number, boolean, null or an array of them, got an object");
    expect_error(diag, 4, "MP_ERR_TYPE", 0, "user_attributes.nested[1]",
                 "expected a string, number, boolean or null, got an array");
    expect_error(diag, 5, "MP_ERR_TYPE", 0, "user_attributes.nested[2]",
                 "expected a string, number, boolean or null, got an object");
    expect_error(diag, 6, "MP_ERR_TYPE", 0, "deleted_user_attributes[1]",
                 "expected a string, got a boolean");
    expect_error(diag, 7, "MP_ERR_TYPE", 0, "integration_attributes[\"92\"]",
                 "expected an object, got an array");
    expect_error(diag, 8, "MP_ERR_TYPE", 0, "consent_state.gdpr[\"p\\\"q\"]",
                 "expected an object, got null");
    expect_error(diag, 9, "MP_ERR_TYPE", 0, "context.data_plan.plan_id",
                 "expected a string, got an object");
    /* What could not be represented is left out, the rest kept. */
    const mp_batch *b = mp_document_batch(doc, 0);
    const mp_product_action *pa = b->events.items[2].commerce_event.product_action;
    assert_int_equal(pa->products.count, 1);
    assert_string_equal(pa->products.items[0].id, "a");
    assert_int_equal(pa->products.items[0].price.state, MP_ABSENT);
    assert_int_equal(b->user_attributes.count, 2);
    assert_string_equal(b->user_attributes.items[0].name, "ok");
    assert_string_equal(b->user_attributes.items[1].name, "nested");
    assert_int_equal(b->user_attributes.items[1].value.u.list.count, 2);
    assert_string_equal(b->user_attributes.items[1].value.u.list.items[1].u.string, "s");
    assert_int_equal(b->deleted_user_attributes.count, 1);
    assert_int_equal(b->integration_attributes.count, 0);
    assert_non_null(b->integration_attributes.items);
    assert_int_equal(b->consent_state->gdpr.count, 0);
    assert_null(b->context->data_plan->plan_id);
    mp_document_free(doc);

    /* Without a diag the result is the same, just unexplained. */
    assert_int_equal(mp_decode(json, strlen(json), &doc, NULL), MP_ERR_TYPE);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    mp_document_free(doc);
}

static void test_batch_not_an_object(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    assert_int_equal(decode("[{\"mpid\":1},[],\"x\",{\"mpid\":2}]", &doc, diag), MP_ERR_TYPE);
    assert_int_equal(mp_document_count(doc), 4);
    assert_int_equal(mp_diag_count(diag), 2);
    expect_error(diag, 0, "MP_ERR_TYPE", 1, "", "a batch must be an object, got an array");
    expect_error(diag, 1, "MP_ERR_TYPE", 2, "", "a batch must be an object, got a string");
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    assert_int_equal(mp_document_batch_ok(doc, 1), 0);
    assert_int_equal(mp_document_batch_ok(doc, 2), 0);
    assert_int_equal(mp_document_batch_ok(doc, 3), 1);
    assert_int_equal(mp_document_batch(doc, 3)->mpid.value, 2);
    mp_document_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Input forms, line numbers and syntax errors                              */
/* ------------------------------------------------------------------------ */

static void test_ndjson(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    const char *json = "\xEF\xBB\xBF{\"mpid\":1}\n"
                       "\n"
                       "  \r\n"
                       "{\"mpid\":2}\r\n"
                       "{\"mpid\":3}{\"mpid\":4}\n"
                       "{\n  \"mpid\": 5\n}\n"
                       "{\"mpid\":6}";
    assert_int_equal(decode(json, &doc, diag), MP_OK);
    assert_int_equal(mp_diag_count(diag), 0);
    assert_int_equal(mp_document_count(doc), 6);
    static const int lines[] = {1, 4, 5, 5, 6, 9};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(mp_document_batch(doc, i)->mpid.value, (int64_t)i + 1);
        assert_int_equal(mp_document_batch_line(doc, i), lines[i]);
        assert_int_equal(mp_document_batch_ok(doc, i), 1);
    }
    assert_null(mp_document_batch(doc, 6));
    assert_int_equal(mp_document_batch_ok(doc, 6), 0);
    assert_int_equal(mp_document_batch_line(doc, 6), 0);
    mp_document_free(doc);
}

static void test_ndjson_broken_lines(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    /* A bad line, a truncated line, a line of garbage, a bad number, then
     * text after a good batch: each spoils its own line only. */
    const char *json = "{\"mpid\":1}\n"
                       "{\"mpid\":2,,}\n"
                       "{\"mpid\":3,\"ip\":\"caf\xC3\xA9\"\n"
                       "{\"mpid\":4}\n"
                       "hello\n"
                       "{\"mpid\":99999999999999999999}\n"
                       "{\"mpid\":7} tail\n"
                       "{\"mpid\":8}\n";
    assert_int_equal(decode(json, &doc, diag), MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 8);
    static const int ok[] = {1, 0, 0, 1, 0, 0, 0, 1};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(mp_document_batch_line(doc, i), (int)i + 1);
        assert_int_equal(mp_document_batch_ok(doc, i), ok[i]);
    }
    assert_int_equal(mp_document_batch(doc, 0)->mpid.value, 1);
    assert_int_equal(mp_document_batch(doc, 1)->mpid.state, MP_ABSENT);
    assert_int_equal(mp_document_batch(doc, 3)->mpid.value, 4);
    assert_int_equal(mp_document_batch(doc, 6)->mpid.value, 7);
    assert_int_equal(mp_document_batch(doc, 7)->mpid.value, 8);
    assert_int_equal(mp_diag_count(diag), 5);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 1, 2, 11, "string or '}' expected near ','");
    /* Columns count characters: "é" is one. */
    expect_text_error(diag, 1, "MP_ERR_JSON_SYNTAX", 2, 3, 22, "'}' expected near end of file");
    expect_text_error(diag, 2, "MP_ERR_JSON_SYNTAX", 4, 5, 5, "invalid token near 'hello'");
    expect_error(diag, 3, "MP_ERR_RANGE", 5, "mpid", "integer does not fit in int64");
    expect_text_error(diag, 4, "MP_ERR_JSON_SYNTAX", 6, 7, 12,
                      "unexpected text after the batch near 'tail'");
    mp_document_free(doc);

    /* Without a diag: the same batches and verdicts, no explanations. */
    assert_int_equal(mp_decode(json, strlen(json), &doc, NULL), MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(mp_document_batch_ok(doc, i), ok[i]);
    mp_document_free(doc);
}

static void test_array_input(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    assert_int_equal(decode(" [\n{\"mpid\":1},\n  {\"mpid\":2} , {\"mpid\":3}\n]\n", &doc, diag),
                     MP_OK);
    assert_int_equal(mp_document_count(doc), 3);
    assert_int_equal(mp_document_batch_line(doc, 0), 2);
    assert_int_equal(mp_document_batch_line(doc, 1), 3);
    assert_int_equal(mp_document_batch_line(doc, 2), 3);
    assert_int_equal(mp_document_batch(doc, 2)->mpid.value, 3);
    mp_document_free(doc);

    assert_int_equal(decode("[ ]", &doc, diag), MP_OK);
    assert_int_equal(mp_document_count(doc), 0);
    mp_document_free(doc);

    /* A syntax error inside the array ends decoding: what came before
     * stays, nothing after is read. */
    assert_int_equal(decode("[{\"mpid\":1},\n{\"mpid\":2,},{\"mpid\":3}]", &doc, diag),
                     MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 2);
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    assert_int_equal(mp_document_batch_ok(doc, 1), 0);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 1, 2, 11, "string or '}' expected");
    mp_document_free(doc);

    assert_int_equal(decode("[{\"mpid\":1} {\"mpid\":2}]", &doc, diag), MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 1);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", -1, 1, 13, "',' or ']' expected");
    mp_document_free(doc);

    assert_int_equal(decode("[{\"mpid\":1},\n", &doc, diag), MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", -1, 2, 1, "not closed");
    mp_document_free(doc);

    /* Text after the array. */
    assert_int_equal(decode("[{\"mpid\":1}]\n]", &doc, diag), MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_document_batch_ok(doc, 0), 1);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", -1, 2, 1, "unexpected text after the array");
    mp_document_free(doc);
}

static void test_single_object_forms(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;

    /* Pretty-printed, and without indentation (nested objects at column 1). */
    doc = decode_clean("{\n  \"mpid\": 1,\n  \"context\": {\n    \"data_plan\": {}\n  }\n}\n", diag);
    mp_document_free(doc);
    const char *flat = "{\n\"events\": [\n{\n\"event_type\": \"session_start\"\n},\n{\n"
                       "\"event_type\": \"uninstall\"\n}\n],\n\"mpid\": 1\n}";
    doc = decode_clean(flat, diag);
    assert_int_equal(mp_document_batch(doc, 0)->events.count, 2);
    mp_document_free(doc);

    /* A syntax error in a pretty-printed batch is reported where it is and
     * nothing else is made of the rest. */
    assert_int_equal(decode("{\n  \"mpid\": 1,\n  \"ip\": tru\n}\n", &doc, diag),
                     MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 3, 11, "invalid token near 'tru'");
    mp_document_free(doc);

    /* Trailing garbage after a single object. */
    assert_int_equal(decode("{\"mpid\":1} x", &doc, diag), MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 12, "unexpected text after the batch");
    mp_document_free(doc);
    assert_int_equal(decode("{\"mpid\":1}}", &doc, diag), MP_ERR_JSON_SYNTAX);
    mp_document_free(doc);

    /* Empty input holds no batch. */
    assert_int_equal(decode(" \n\t\r\n", &doc, diag), MP_OK);
    assert_int_equal(mp_document_count(doc), 0);
    mp_document_free(doc);
    assert_int_equal(mp_decode(NULL, 0, &doc, diag), MP_OK);
    assert_int_equal(mp_document_count(doc), 0);
    mp_document_free(doc);

    /* Input need not be NUL-terminated: only len bytes are read. */
    const char buf[] = {'{', '"', 'm', 'p', 'i', 'd', '"', ':', '4', '}', '9', '9'};
    assert_int_equal(mp_decode(buf, 10, &doc, diag), MP_OK);
    assert_int_equal(mp_document_batch(doc, 0)->mpid.value, 4);
    mp_document_free(doc);
}

static void test_duplicate_key(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    assert_int_equal(decode("{\"mpid\":1,\"device_info\":{\"brand\":\"a\",\"brand\":\"b\"}}", &doc,
                            diag),
                     MP_ERR_JSON_SYNTAX);
    assert_int_equal(mp_document_batch_ok(doc, 0), 0);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 44, "duplicate object key");
    mp_document_free(doc);
}

static void test_arguments(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = (mp_document *)diag; /* must be overwritten */
    assert_int_equal(mp_decode("{}", 2, NULL, diag), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_decode(NULL, 3, &doc, diag), MP_ERR_INVALID_ARGUMENT);
    assert_null(doc);
    mp_document_free(NULL);
    assert_int_equal(mp_document_count(NULL), 0);
    assert_null(mp_document_batch(NULL, 0));
    assert_int_equal(mp_document_batch_ok(NULL, 0), 0);
    assert_int_equal(mp_document_batch_line(NULL, 0), 0);
}

/* ------------------------------------------------------------------------ */
/* Hostile input                                                            */
/* ------------------------------------------------------------------------ */

static const char *const rich_batch =
    "{\"source_request_id\":\"r\",\"context\":{\"data_plan\":{\"plan_id\":\"p\",\"plan_version\":2}},"
    "\"events\":[{\"data\":{\"timestamp_unixtime_ms\":1700000000000,\"custom_attributes\":"
    "{\"a\":\"caf\xC3\xA9 \\\"q\\\" \\u00e9\\ud83d\\ude00\",\"n\":-1,\"f\":1.5e-7,\"t\":true,\"z\":null},"
    "\"custom_event_type\":\"navigation\",\"event_name\":\"x\"},\"event_type\":\"custom_event\"},"
    "{\"data\":{\"product_action\":{\"action\":\"purchase\",\"products\":[{\"id\":\"s\",\"price\":"
    "19.99,\"quantity\":2}]}},\"event_type\":\"commerce_event\"}],"
    "\"user_attributes\":{\"Account type\":\"trial\",\"l\":[\"a\",1,false,null]},"
    "\"environment\":\"production\",\"integration_attributes\":{\"92\":{\"k\":\"v\"}},"
    "\"mpid\":-2271448330363288817,\"consent_state\":{\"gdpr\":{\"p\":{\"consented\":false}}}}";

static void test_truncated_at_every_length(void **state) {
    mp_diag *diag = *state;
    size_t n = strlen(rich_batch);
    mp_document *doc = NULL;
    assert_int_equal(mp_decode(rich_batch, n, &doc, diag), MP_OK);
    mp_document_free(doc);
    for (size_t len = 1; len < n; len++) {
        mp_diag_clear(diag);
        mp_error err = mp_decode(rich_batch, len, &doc, diag);
        if (err == MP_OK)
            fail_msg("prefix of %zu bytes decoded without error", len);
        assert_non_null(doc);
        assert_int_equal(mp_document_count(doc), 1);
        assert_int_equal(mp_document_batch_ok(doc, 0), 0);
        assert_true(mp_diag_error_count(diag) >= 1);
        const mp_problem *p = mp_diag_get(diag, 0);
        assert_int_equal(p->line, 1);
        assert_true(p->column >= 1 && (size_t)p->column <= len + 1);
        mp_document_free(doc);
    }
}

/* prefix, depth times open, 1 if open ends with ':', depth times close, suffix. */
static char *nested(size_t depth, const char *open, const char *close, const char *prefix,
                    const char *suffix) {
    text t = {0};
    text_add(&t, prefix, strlen(prefix));
    text_repeat(&t, open, depth);
    if (open[strlen(open) - 1] == ':')
        text_add(&t, "1", 1);
    text_repeat(&t, close, depth);
    text_add(&t, suffix, strlen(suffix));
    return t.s;
}

static void test_deep_nesting(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    static const struct {
        const char *open, *close, *prefix, *suffix;
    } cases[] = {
        {"[", "]", "", ""},
        {"{\"a\":", "}", "", ""},
        {"[", "]", "{\"user_attributes\":{\"x\":", "}}"},
        {"{\"a\":", "}", "{\"context\":{\"data_plan\":{\"plan_id\":", "}}}"},
        {"[", "]", "[", "]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = nested(10000, cases[i].open, cases[i].close, cases[i].prefix,
                            cases[i].suffix);
        assert_int_equal(decode(json, &doc, diag), MP_ERR_LIMIT);
        assert_int_equal(mp_diag_count(diag), 1);
        assert_non_null(strstr(mp_diag_get(diag, 0)->message, "nested deeper than"));
        assert_int_equal(mp_diag_get(diag, 0)->line, 1);
        mp_document_free(doc);
        free(json);
    }
    /* Just under jansson's limit the DOM is built; the walk only goes as
     * deep as the model and reports the first value it cannot take. */
    char *json = nested(2000, "[", "]", "{\"user_attributes\":{\"x\":", "}}");
    assert_int_equal(decode(json, &doc, diag), MP_ERR_TYPE);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, "user_attributes.x[0]",
                 "expected a string, number, boolean or null, got an array");
    mp_document_free(doc);
    free(json);
    json = nested(2000, "{\"a\":", "}", "{\"device_info\":", "}");
    assert_int_equal(decode(json, &doc, diag), MP_OK);
    expect_problem(diag, 0, MP_SEVERITY_WARNING, "MP_ERR_INVALID", 0, "device_info.a",
                   "unknown key ignored");
    mp_document_free(doc);
    free(json);
}

/* Inputs built to make decoding quadratic decode in one pass: scalars
 * that need rewriting inside a long array, and records that each open a
 * value continued by the following records. */
static void test_no_quadratic_inputs(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    text t = {0};
    text_add(&t, "[", 1);
    for (int i = 0; i < 20000; i++)
        text_addf(&t, "%s", i % 2 ? "[-0]," : "99999999999999999999,");
    text_add(&t, "{\"mpid\":-0}]", 12);
    mp_diag_set_max(diag, 5);
    assert_int_equal(decode(t.s, &doc, diag), MP_ERR_TYPE);
    assert_int_equal(mp_document_count(doc), 20001);
    expect_error(diag, 0, "MP_ERR_TYPE", 0, "", "a batch must be an object, got a real number");
    expect_error(diag, 1, "MP_ERR_TYPE", 1, "", "a batch must be an object, got an array");
    assert_int_equal(mp_document_batch_ok(doc, 20000), 1);
    assert_int_equal(mp_document_batch(doc, 20000)->mpid.state, MP_PRESENT);
    mp_document_free(doc);
    free(t.s);

    /* Each "{"events":[" line is cut short, and could go on over the
     * lines after it (JSON pretty-printed without indentation does). The
     * first ones are parsed past their line until jansson's depth limit;
     * once failed retries have re-read as much as the input, the rest are
     * judged by their own line. */
    t = (text){0};
    for (int i = 0; i < 4096; i++)
        text_add(&t, "{\"events\":[\n{},\n", 16);
    mp_diag_set_max(diag, 100000);
    assert_int_equal(decode(t.s, &doc, diag), MP_ERR_LIMIT);
    assert_int_equal(mp_document_count(doc), 8192);
    const mp_problem *first = mp_diag_get(diag, 0);
    assert_string_equal(mp_error_name(first->code), "MP_ERR_LIMIT");
    const mp_problem *last = mp_diag_get(diag, mp_diag_count(diag) - 2);
    assert_int_equal(last->batch, 8190);
    assert_string_equal(mp_error_name(last->code), "MP_ERR_JSON_SYNTAX");
    assert_int_equal(last->line, 8191);
    assert_non_null(strstr(last->message, "end of file"));
    /* Each "{}," line: a good batch spoiled by its trailing comma. */
    expect_text_error(diag, mp_diag_count(diag) - 1, "MP_ERR_JSON_SYNTAX", 8191, 8192, 3,
                      "unexpected text after the batch near ','");
    mp_document_free(doc);
    mp_diag_set_max(diag, 1000);
    free(t.s);
}

static void test_invalid_utf8(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    static const struct {
        const char *json;
        int column;
    } cases[] = {
        {"{\"ip\":\"a\xFF\"}", 9},         /* never valid */
        {"{\"ip\":\"\xC0\xAF\"}", 8},      /* overlong */
        {"{\"ip\":\"\xED\xA0\x80\"}", 8},  /* a surrogate */
        {"{\"ip\":\"\xF4\x90\x80\x80\"}", 8}, /* above U+10FFFF */
        {"{\"ip\":\"\xE2\x82\"}", 8},      /* cut short */
        {"{\"\x80\":1}", 3},               /* in a key */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(decode(cases[i].json, &doc, diag), MP_ERR_INVALID_UTF8);
        expect_text_error(diag, 0, "MP_ERR_INVALID_UTF8", 0, 1, cases[i].column,
                          "invalid UTF-8 (unable to decode byte 0x");
        assert_int_equal(mp_document_batch_ok(doc, 0), 0);
        mp_document_free(doc);
    }
    /* An escaped lone surrogate is no better. */
    assert_int_equal(decode("{\"ip\":\"\\ud800\"}", &doc, diag), MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 14, "invalid Unicode '\\uD800'");
    mp_document_free(doc);
}

static void test_nul_in_strings(void **state) {
    mp_diag *diag = *state;
    mp_document *doc = NULL;
    assert_int_equal(decode("{\"ip\":\"a\\u0000b\"}", &doc, diag), MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 16,
                      "a string contains \\u0000, which C strings cannot hold");
    mp_document_free(doc);
    assert_int_equal(decode("{\"user_attributes\":{\"a\\u0000\":1}}", &doc, diag),
                     MP_ERR_JSON_SYNTAX);
    expect_text_error(diag, 0, "MP_ERR_JSON_SYNTAX", 0, 1, 29, "C strings cannot hold");
    mp_document_free(doc);
    /* A raw NUL byte is a control character inside a string. */
    const char raw[] = "{\"ip\":\"a\0b\"}";
    assert_int_equal(mp_decode(raw, sizeof raw - 1, &doc, diag), MP_ERR_JSON_SYNTAX);
    mp_document_free(doc);
}

static void test_huge_string(void **state) {
    mp_diag *diag = *state;
    size_t n = 100u * 1024 * 1024;
    char *json = malloc(n + 64);
    assert_non_null(json);
    memcpy(json, "{\"source_request_id\":\"", 22);
    memset(json + 22, 'x', n);
    memcpy(json + 22 + n, "\"}", 2);
    mp_document *doc = NULL;
    mp_diag_clear(diag);
    assert_int_equal(mp_decode(json, n + 24, &doc, diag), MP_OK);
    const char *s = mp_document_batch(doc, 0)->source_request_id;
    assert_int_equal(strlen(s), n);
    assert_int_equal(s[n - 1], 'x');
    mp_document_free(doc);
    free(json);
}

/* ------------------------------------------------------------------------ */
/* Allocation failure                                                       */
/* ------------------------------------------------------------------------ */

/* The decoder's allocator (mp__decode_malloc), failing on request. */
static long alloc_countdown = -1;
static int alloc_failed;

static void *failing_malloc(size_t n) {
    if (alloc_countdown == 0) {
        alloc_failed = 1;
        return NULL;
    }
    if (alloc_countdown > 0)
        alloc_countdown--;
    return malloc(n);
}

static void test_out_of_memory(void **state) {
    mp_diag *diag = *state;
    mp__decode_malloc = failing_malloc;
    size_t nomem = 0;
    const char *json = rich_batch;
    text t = {0};
    /* The last line has "-0" and an integer beyond int64. */
    text_addf(&t,
              "%s\n%s\n{\"mpid\":1,}\n[%s]\n{\"source_request_id\":\"r\",\"mpid\":-0,"
              "\"batch_id\":99999999999999999999}",
              rich_batch, rich_batch, rich_batch);
    for (int round = 0; round < 2; round++, json = t.s) {
        for (long n = 0;; n++) {
            mp_document *doc = NULL;
            alloc_countdown = n;
            alloc_failed = 0;
            mp_diag_clear(diag);
            mp_error err = mp_decode(json, strlen(json), &doc, diag);
            alloc_countdown = -1;
            if (!alloc_failed) {
                assert_int_equal(err, round == 0 ? MP_OK : MP_ERR_JSON_SYNTAX);
                mp_document_free(doc);
                break;
            }
            /* Every failure is MP_ERR_NOMEM: no document, and the caller
             * is told why. */
            assert_int_equal(err, MP_ERR_NOMEM);
            nomem++;
            assert_null(doc);
            expect_error(diag, mp_diag_count(diag) - 1, "MP_ERR_NOMEM", -1, "", NULL);
        }
    }
    mp__decode_malloc = mp__malloc;
    /* The decoder allocates only the document, its entries, its arena's
     * chunks and the key set, so there are few failure points. */
    assert_true(nomem >= 10);
    free(t.s);
}

/* ------------------------------------------------------------------------ */
/* Round trips through the encoder                                          */
/* ------------------------------------------------------------------------ */

/* Batches written by hand in the tables' key order, as the encoder writes. */
static const char *const canonical[] = {
    "{}",
    "{\"environment\":\"development\"}",
    /* The W1 shape. */
    "{\"context\":{\"data_plan\":{\"plan_id\":\"freddy_s_plan\",\"plan_version\":1}},"
    "\"events\":[{\"data\":{\"timestamp_unixtime_ms\":1700000000000,\"session_id\":1000000},"
    "\"event_type\":\"session_start\"},{\"data\":{\"timestamp_unixtime_ms\":1700000000010,"
    "\"custom_attributes\":{\"foo\":\"bar1\",\"category\":\"cat-3\",\"note\":\"caf\xC3\xA9 "
    "\\\"quoted\\\" 0\"},\"custom_event_type\":\"other\",\"event_name\":\"Custom Event 0\"},"
    "\"event_type\":\"custom_event\"},{\"data\":{\"timestamp_unixtime_ms\":1700000000020,"
    "\"custom_attributes\":{\"referrer\":\"home\"},\"screen_name\":\"Screen 3\"},"
    "\"event_type\":\"screen_view\"},{\"data\":{\"timestamp_unixtime_ms\":1700000000030,"
    "\"product_action\":{\"action\":\"purchase\",\"transaction_id\":\"txn-0\",\"total_amount\":"
    "123.12,\"tax_amount\":1.5,\"products\":[{\"id\":\"sku-1\",\"name\":\"product 2\",\"price\":"
    "19.99,\"quantity\":2,\"total_product_amount\":39.98}]},\"currency_code\":\"USD\"},"
    "\"event_type\":\"commerce_event\"}],\"device_info\":{\"ios_advertising_id\":"
    "\"607258d9-c28b-43ad-95ed-000000000000\"},\"user_attributes\":{\"Account type\":\"trial\","
    "\"foo-array\":[\"bar1\",\"bar2\"]},\"user_identities\":{\"customer_id\":\"cust-0\","
    "\"email\":\"user0@example.com\"},\"environment\":\"development\"}",
    /* Nulls, empties, falses, zeros and the edges of int64. */
    "{\"source_request_id\":null,\"context\":{\"batching\":{\"bypass\":false,\"request_ids\":[]},"
    "\"location\":null},\"events\":[{\"data\":{\"event_id\":null,\"custom_attributes\":{},"
    "\"is_goal_defined\":false,\"lifetime_value_change\":0,\"custom_flags\":{\"a\":null}},"
    "\"event_type\":\"first_run\"},{\"data\":{\"user_attribute_name\":\"u\",\"new\":[],"
    "\"old\":null,\"deleted\":true},\"event_type\":\"user_attribute_change\"},{\"data\":{\"new\":"
    "{\"identity_type\":\"other_id_10\",\"identity\":\"x\",\"timestamp_unixtime_ms\":0},"
    "\"old\":null},\"event_type\":\"user_identity_change\"}],\"device_info\":null,"
    "\"user_attributes\":null,\"deleted_user_attributes\":[null,\"d\"],\"api_keys\":null,"
    "\"integration_attributes\":{\"1\":{},\"2\":null,\"3\":{\"k\":null}},"
    "\"partner_identities\":{},\"timestamp_unixtime_ms\":9223372036854775807,"
    "\"mpid\":-9223372036854775808,\"consent_state\":{\"gdpr\":{},\"ccpa\":{"
    "\"data_sale_opt_out\":{\"regulation\":\"ccpa\",\"consented\":false,"
    "\"timestamp_unixtime_ms\":-1}}},\"modified\":null}",
    /* Doubles in their shortest forms, escapes, and non-ASCII keys. */
    "{\"events\":[{\"data\":{\"custom_attributes\":{\"\xE2\x82\xAC\":1e-7,\"big\":1e+21,"
    "\"tiny\":5e-324,\"neg\":-0,\"ctl\":\"\\u0001\\t\\n\\\\\\\"\",\"x\":0.1}},"
    "\"event_type\":\"session_start\"}],\"application_info\":{\"os\":\"FireTV\","
    "\"apple_search_ads_attributes\":{\"v1\":{\"iad-attribution\":\"true\"}},"
    "\"sideloaded_kits_count\":3}}",
};

static void test_round_trip_canonical(void **state) {
    mp_diag *diag = *state;
    mp_buffer *buf = mp_buffer_new(0);
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
        mp_document *doc = decode_clean(canonical[i], diag);
        mp_buffer_clear(buf);
        assert_int_equal(mp_encode_batch(mp_document_batch(doc, 0), buf, diag), MP_OK);
        assert_string_equal(mp_buffer_data(buf), canonical[i]);
        mp_document_free(doc);
    }
    mp_buffer_free(buf);
}

/* Generated batches with every field set (and with nulls): encode, decode,
 * and compare the models field by field, then the re-encoded text. */
static void test_round_trip_generated(void **state) {
    mp_diag *diag = *state;
    mp_gen *g = mp_gen_new(20260101);
    mp_buffer *a = mp_buffer_new(0), *b = mp_buffer_new(0);
    assert_non_null(a);
    assert_non_null(b);
    for (int variant = 0; variant < 30; variant++) {
        const mp_batch *orig = variant % 2 ? mp_gen_batch_nulls(g, variant) : mp_gen_batch(g, variant);
        mp_buffer_clear(a);
        assert_int_equal(mp_encode_batch(orig, a, NULL), MP_OK);
        mp_document *doc = decode_clean(mp_buffer_data(a), diag);
        char why[512];
        if (!mp_test_batch_equal(orig, mp_document_batch(doc, 0), why, sizeof why))
            fail_msg("variant %d: %s", variant, why);
        mp_buffer_clear(b);
        assert_int_equal(mp_encode_batch(mp_document_batch(doc, 0), b, NULL), MP_OK);
        assert_string_equal(mp_buffer_data(a), mp_buffer_data(b));
        mp_document_free(doc);
        mp_gen_reset(g);
    }
    mp_buffer_free(a);
    mp_buffer_free(b);
    mp_gen_free(g);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct job {
    const char *json;
    size_t len;
    int ok;
} job;

static void *decode_many(void *arg) {
    job *j = arg;
    mp_buffer *buf = mp_buffer_new(0);
    j->ok = buf != NULL;
    for (int i = 0; i < 50 && j->ok; i++) {
        mp_document *doc = NULL;
        mp_diag *diag = mp_diag_new();
        j->ok = mp_decode(j->json, j->len, &doc, diag) == MP_OK && mp_document_count(doc) == 4;
        for (size_t k = 0; j->ok && k < 4; k++) {
            mp_buffer_clear(buf);
            j->ok = mp_encode_batch(mp_document_batch(doc, k), buf, NULL) == MP_OK &&
                    strcmp(mp_buffer_data(buf), canonical[k + 1]) == 0;
        }
        mp_document_free(doc);
        mp_diag_free(diag);
    }
    mp_buffer_free(buf);
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    text t = {0};
    for (size_t k = 1; k < 5; k++)
        text_addf(&t, "%s\n", canonical[k]);
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){t.s, t.len, 0};
        assert_int_equal(pthread_create(&th[i], NULL, decode_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(jobs[i].ok);
    }
    free(t.s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_kind_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_field_of_every_object, setup, teardown),
        cmocka_unit_test(test_event_tables_are_disjoint),
        cmocka_unit_test_setup_teardown(test_warnings_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_event_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int64_extremes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inexact_numbers_warned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minus_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_not_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_broken_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_object_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_every_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_quadratic_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_in_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_generated, setup, teardown),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
