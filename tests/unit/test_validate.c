/* Unit tests for mp_validate_batch(): a complete valid batch gives no
 * problem at all; then each rule on its own, with the exact JSON path, code,
 * severity and the key phrase of the message, at both sides of every limit.
 * Every validation is run twice, with and without an mp_diag, to show that
 * the return code never depends on collecting detail. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mparticle/codec.h"
#include "support/generate.h"
#include "support/test_util.h"

/* A fixed "now": 2023-11-14T22:13:20Z. */
#define NOW 1700000000000LL
#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define UUID_A "607258d9-c28b-43ad-95ed-e9593025d5a1"
#define UUID_B "9F2B3A4C-1D2E-4F50-8A9B-0C1D2E3F4A5B"

static const mp_validate_options live_opts = {.now_unixtime_ms = NOW};
static const mp_validate_options historical_opts = {.historical = 1, .now_unixtime_ms = NOW};
/* The JSON Schema's reading where mParticle's SDKs or docs disagree with it. */
static const mp_validate_options strict_opts = {.now_unixtime_ms = NOW, .strict = 1};

/* ------------------------------------------------------------------------ */
/* A complete batch with every family of field, valid in every respect      */
/* ------------------------------------------------------------------------ */

enum {
    EV_CUSTOM,
    EV_SCREEN,
    EV_COMMERCE,
    EV_SESSION_START,
    EV_SESSION_END,
    EV_ATTRIBUTE_CHANGE,
    EV_IDENTITY_CHANGE,
    EV_PUSH,
    EV_COUNT
};

typedef struct fixture {
    mp_user_identities ids;
    mp_data_plan_context plan;
    mp_batch_context context;
    mp_device_info device;
    mp_application_info app;
    mp_value tags[3];
    mp_attribute user_attrs[4];
    mp_attribute event_attrs[3];
    mp_attribute custom_flags[2];
    mp_attribute screen_flags[1];
    mp_location location;
    mp_string_pair product_attrs[1];
    mp_product products[2];
    mp_product_action purchase;
    mp_promotion promotions[1];
    mp_promotion_action promotion;
    mp_product_impression impressions[1];
    mp_value new_value[2];
    mp_user_identity new_identity;
    mp_gdpr_purpose gdpr[1];
    mp_consent_state consent;
    mp_string_pair partner_ids[1];
    mp_string_pair integration_inner[1];
    mp_string_map_entry integration[1];
    mp_event events[EV_COUNT];
    mp_batch batch;
} fixture;

static void fixture_init(fixture *fx) {
    memset(fx, 0, sizeof *fx);
    fx->ids.customer_id = "1234";
    fx->ids.email = "someone@example.com";
    fx->plan.plan_id = "freddy_s_plan";
    fx->plan.plan_version = MP_INT(2);
    fx->context.data_plan = &fx->plan;
    fx->device.platform = MP_PLATFORM_IOS;
    fx->device.ios_advertising_id = UUID_A;
    fx->device.ios_idfv = UUID_B;
    fx->device.att_authorization_status = MP_ATT_STATUS_AUTHORIZED;
    fx->device.is_tablet = MP_FALSE;
    fx->app.application_name = "Example";
    fx->app.os = MP_OS_IOS;

    fx->tags[0] = (mp_value)MP_V_STRING("alpha");
    fx->tags[1] = (mp_value)MP_V_INT(7);
    fx->tags[2] = (mp_value)MP_V_NULL;
    fx->user_attrs[0] = (mp_attribute){"$firstname", MP_V_STRING("Ada")};
    fx->user_attrs[1] = (mp_attribute){"tags", MP_V_LIST(fx->tags)};
    fx->user_attrs[2] = (mp_attribute){"score", MP_V_DOUBLE(19.99)};
    fx->user_attrs[3] = (mp_attribute){"vip", MP_V_NULL};

    fx->event_attrs[0] = (mp_attribute){"Account type", MP_V_STRING("trial")};
    fx->event_attrs[1] = (mp_attribute){"count", MP_V_INT(3)};
    fx->event_attrs[2] = (mp_attribute){"premium", MP_V_BOOL(0)};
    fx->custom_flags[0] = (mp_attribute){"Google.Category", MP_V_STRING("Games")};
    fx->custom_flags[1] = (mp_attribute){"Google.Value", MP_V_INT(123)};
    fx->screen_flags[0] = (mp_attribute){"Google.Page", MP_V_STRING("/home")};
    fx->location.latitude = MP_DOUBLE(40.7128);
    fx->location.longitude = MP_DOUBLE(-74.006);

    fx->product_attrs[0] = (mp_string_pair){"size", "XL"};
    fx->products[0] = (mp_product){.id = "sku-1", .name = "Shirt", .price = MP_DOUBLE(19.99),
                                   .quantity = MP_DOUBLE(2),
                                   .custom_attributes = MP_LIST(mp_string_map, fx->product_attrs)};
    fx->products[1] = (mp_product){.id = "sku-2", .name = "Hat", .price = MP_DOUBLE(5)};
    fx->purchase = (mp_product_action){.action = MP_PRODUCT_ACTION_PURCHASE,
                                       .transaction_id = "t-1",
                                       .total_amount = MP_DOUBLE(44.98),
                                       .products = MP_LIST(mp_product_list, fx->products)};
    fx->promotions[0] = (mp_promotion){.id = "p-1", .name = "Sale"};
    fx->promotion = (mp_promotion_action){.action = MP_PROMOTION_ACTION_VIEW,
                                          .promotions = MP_LIST(mp_promotion_list, fx->promotions)};
    fx->impressions[0] = (mp_product_impression){
        .product_impression_list = "Suggested",
        .products = MP_LIST(mp_product_list, fx->products)};

    fx->new_value[0] = (mp_value)MP_V_STRING("red");
    fx->new_value[1] = (mp_value)MP_V_STRING("blue");
    fx->new_identity = (mp_user_identity){.identity_type = MP_IDENTITY_EMAIL,
                                          .identity = "someone@example.com",
                                          .timestamp_unixtime_ms = MP_INT(NOW - 2000)};
    fx->gdpr[0] = (mp_gdpr_purpose){
        "location_collection",
        {.consented = MP_TRUE, .document = "location_v2", .timestamp_unixtime_ms = MP_INT(NOW)}};
    fx->consent.gdpr = MP_LIST(mp_gdpr_purpose_list, fx->gdpr);
    fx->integration_inner[0] = (mp_string_pair){"appsflyer_id", "1558328425529-6235588"};
    fx->integration[0] =
        (mp_string_map_entry){"92", MP_LIST(mp_string_map, fx->integration_inner)};

    mp_event *e = fx->events;
    for (int i = 0; i < EV_COUNT; i++) {
        e[i].common.timestamp_unixtime_ms = MP_INT(NOW - 1000 * (EV_COUNT - i));
        e[i].common.session_uuid = UUID_A;
        e[i].common.session_id = MP_INT(-2271448330363288817);
    }
    e[EV_CUSTOM].event_type = MP_EVENT_CUSTOM_EVENT;
    e[EV_CUSTOM].custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_NAVIGATION;
    e[EV_CUSTOM].custom_event.event_name = "Opened app";
    e[EV_CUSTOM].common.custom_attributes = MP_LIST(mp_attribute_list, fx->event_attrs);
    e[EV_CUSTOM].common.custom_flags = MP_LIST(mp_attribute_list, fx->custom_flags);
    e[EV_CUSTOM].common.location = &fx->location;
    e[EV_CUSTOM].common.source_message_id = UUID_B;

    e[EV_SCREEN].event_type = MP_EVENT_SCREEN_VIEW;
    e[EV_SCREEN].screen_view.screen_name = "Home";
    e[EV_SCREEN].common.custom_flags = MP_LIST(mp_attribute_list, fx->screen_flags);

    e[EV_COMMERCE].event_type = MP_EVENT_COMMERCE_EVENT;
    e[EV_COMMERCE].commerce_event.product_action = &fx->purchase;
    e[EV_COMMERCE].commerce_event.currency_code = "USD";

    e[EV_SESSION_START].event_type = MP_EVENT_SESSION_START;
    e[EV_SESSION_END].event_type = MP_EVENT_SESSION_END;
    e[EV_SESSION_END].session_end.session_duration_ms = MP_INT(1000);

    e[EV_ATTRIBUTE_CHANGE].event_type = MP_EVENT_USER_ATTRIBUTE_CHANGE;
    e[EV_ATTRIBUTE_CHANGE].user_attribute_change.user_attribute_name = "colors";
    e[EV_ATTRIBUTE_CHANGE].user_attribute_change.new_ = (mp_value)MP_V_LIST(fx->new_value);
    e[EV_ATTRIBUTE_CHANGE].user_attribute_change.old = (mp_value)MP_V_NULL;
    e[EV_ATTRIBUTE_CHANGE].user_attribute_change.is_new_attribute = MP_TRUE;

    e[EV_IDENTITY_CHANGE].event_type = MP_EVENT_USER_IDENTITY_CHANGE;
    e[EV_IDENTITY_CHANGE].user_identity_change.new_ = &fx->new_identity;
    e[EV_IDENTITY_CHANGE].user_identity_change.old = MP_NULL_OF(mp_user_identity);

    e[EV_PUSH].event_type = MP_EVENT_PUSH_MESSAGE;
    e[EV_PUSH].push_message.push_message_token = "token";
    e[EV_PUSH].push_message.push_message_type = MP_PUSH_MESSAGE_TYPE_ACTION;
    e[EV_PUSH].push_message.push_notification_payload = "{\"aps\":{}}";
    e[EV_PUSH].push_message.action_identifier = "reply";

    fx->batch = (mp_batch){
        .source_request_id = UUID_A,
        .context = &fx->context,
        .events = {fx->events, EV_COUNT},
        .device_info = &fx->device,
        .application_info = &fx->app,
        .user_attributes = MP_LIST(mp_attribute_list, fx->user_attrs),
        .user_identities = &fx->ids,
        .environment = MP_ENVIRONMENT_DEVELOPMENT,
        .ip = "203.0.113.7",
        .integration_attributes = MP_LIST(mp_string_map_map, fx->integration),
        .mp_deviceid = UUID_B,
        .mpid = MP_INT(-7346244611012968789),
        .consent_state = &fx->consent,
    };
}

/* ------------------------------------------------------------------------ */
/* Running the validator and looking at what it found                       */
/* ------------------------------------------------------------------------ */

static mp_diag *diag;

static int group_setup(void **state) {
    (void)state;
    diag = mp_diag_new();
    return diag ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    mp_diag_free(diag);
    return 0;
}

static void dump_problems(void) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        print_message("  [%zu] %s %s at '%s': %s\n", i,
                      p->severity == MP_SEVERITY_ERROR ? "error" : "warning",
                      mp_error_name(p->code), p->path, p->message);
    }
}

/* Validates into the shared diag (cleared first) and again without a diag;
 * both must return the same code. */
static mp_error run(const mp_batch *b, const mp_validate_options *opts) {
    mp_diag_clear(diag);
    mp_error rc = mp_validate_batch(b, opts, 0, diag);
    assert_int_equal(mp_validate_batch(b, opts, 0, NULL), rc);
    if (rc == MP_OK)
        assert_int_equal(mp_diag_error_count(diag), 0);
    else if (rc == MP_ERR_INVALID)
        assert_true(mp_diag_error_count(diag) > 0);
    return rc;
}

/* The only problem at `path`. */
static const mp_problem *problem_at(const char *path) {
    const mp_problem *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        if (strcmp(p->path, path) == 0) {
            found = p;
            n++;
        }
    }
    if (n != 1) {
        print_message("expected one problem at '%s', found %zu; all problems:\n", path, n);
        dump_problems();
    }
    assert_int_equal(n, 1);
    return found;
}

static void expect_problem(const char *path, mp_severity sev, mp_error code, const char *phrase) {
    const mp_problem *p = problem_at(path);
    if (p->severity != sev || p->code != code || !strstr(p->message, phrase)) {
        print_message("at '%s': want %s %s with \"%s\"; got:\n", path,
                      sev == MP_SEVERITY_ERROR ? "error" : "warning", mp_error_name(code), phrase);
        dump_problems();
    }
    assert_int_equal(p->severity, sev);
    assert_int_equal(p->code, code);
    assert_non_null(strstr(p->message, phrase));
    assert_int_equal(p->batch, 0);
    assert_int_equal(p->line, 0);
}

static void expect_error(const char *path, mp_error code, const char *phrase) {
    expect_problem(path, MP_SEVERITY_ERROR, code, phrase);
}

static void expect_warning(const char *path, mp_error code, const char *phrase) {
    expect_problem(path, MP_SEVERITY_WARNING, code, phrase);
}

static void expect_count(size_t n) {
    if (mp_diag_count(diag) != n) {
        print_message("expected %zu problems, found %zu:\n", n, mp_diag_count(diag));
        dump_problems();
    }
    assert_int_equal(mp_diag_count(diag), n);
}

/* `unit` repeated n times, NUL-terminated. Free with free(). */
static char *repeat(const char *unit, size_t n) {
    size_t len = strlen(unit);
    char *s = malloc(len * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

/* n attributes named "a0", "a1", ... with string values. */
typedef struct attr_set {
    mp_attribute *items;
    char (*names)[16];
    size_t count;
} attr_set;

static attr_set make_attrs(size_t n) {
    attr_set s = {calloc(n, sizeof(mp_attribute)), calloc(n, 16), n};
    assert_non_null(s.items);
    assert_non_null(s.names);
    for (size_t i = 0; i < n; i++) {
        snprintf(s.names[i], 16, "a%u", (unsigned)(i % 1000000));
        s.items[i] = (mp_attribute){s.names[i], MP_V_STRING("v")};
    }
    return s;
}

static void free_attrs(attr_set *s) {
    free(s->items);
    free(s->names);
}

static mp_attribute_list attr_list(const attr_set *s) {
    return (mp_attribute_list){s->items, s->count};
}

/* ------------------------------------------------------------------------ */
/* The valid batch                                                          */
/* ------------------------------------------------------------------------ */

static void test_valid_full_batch(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);
    /* The same batch is accepted by the encoder: the fixture is real. */
    mp_buffer *buf = mp_buffer_new(0);
    assert_int_equal(mp_encode_batch(&fx.batch, buf, NULL), MP_OK);
    mp_buffer_free(buf);
}

static void test_null_batch(void **state) {
    (void)state;
    mp_diag_clear(diag);
    assert_int_equal(mp_validate_batch(NULL, NULL, 0, diag), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_validate_batch(NULL, NULL, 0, NULL), MP_ERR_INVALID_ARGUMENT);
}

static void test_minimal_batch_only_warns_about_identity(void **state) {
    (void)state;
    mp_batch b = {.environment = MP_ENVIRONMENT_PRODUCTION};
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(1);
    expect_warning("", MP_ERR_INVALID, "has no user or device identity");
}

static void test_batch_index_is_stored(void **state) {
    (void)state;
    mp_batch b = {.mpid = MP_INT(1)};
    mp_diag_clear(diag);
    assert_int_equal(mp_validate_batch(&b, NULL, 7, diag), MP_ERR_INVALID);
    assert_int_equal(mp_diag_count(diag), 1);
    assert_int_equal(mp_diag_get(diag, 0)->batch, 7);
    assert_string_equal(mp_diag_get(diag, 0)->path, "environment");
}

/* ------------------------------------------------------------------------ */
/* Rule 1: required fields, absent versus null                              */
/* ------------------------------------------------------------------------ */

static void test_required_environment(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.batch.environment = MP_ENVIRONMENT_UNSET;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("environment", MP_ERR_INVALID, "required field is missing");
}

static void test_environment_unknown_is_a_warning(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.batch.environment = MP_ENVIRONMENT_UNKNOWN;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(1);
    expect_warning("environment", MP_ERR_ENUM, "\"unknown\" is rejected by the official JSON Schema");
}

static void test_required_string_absent_and_null(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_CUSTOM].custom_event.event_name = NULL;
    fx.events[EV_SCREEN].screen_view.screen_name = MP_STRING_NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[0].data.event_name", MP_ERR_INVALID, "required field is missing");
    expect_error("events[1].data.screen_name", MP_ERR_INVALID,
                 "required field is null; the API needs a value (null counts as missing)");
}

static void test_required_scalars_absent_and_null(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_SESSION_END].session_end.session_duration_ms = MP_INT_NULL;
    fx.events[EV_CUSTOM].custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_UNSET;
    fx.location.latitude = MP_DOUBLE_NULL;
    fx.gdpr[0].consent.consented = (mp_opt_bool){0};
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[4].data.session_duration_ms", MP_ERR_INVALID, "required field is null");
    expect_error("events[0].data.custom_event_type", MP_ERR_INVALID, "required field is missing");
    expect_error("events[0].data.location.latitude", MP_ERR_INVALID, "required field is null");
    expect_error("consent_state.gdpr.location_collection.consented", MP_ERR_INVALID,
                 "required field is missing");
}

static void test_required_only_inside_present_objects(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    /* Absent or null objects have no fields to miss. */
    fx.batch.attribution_info = NULL;
    fx.batch.context = MP_NULL_OF(mp_batch_context);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    /* A present object must hold its required fields. */
    mp_attribution_info attribution = {.publisher = "pub"};
    mp_data_plan_context plan = {.plan_version = MP_INT(1)};
    mp_batch_context context = {.data_plan = &plan};
    fx.batch.attribution_info = &attribution;
    fx.batch.context = &context;
    fx.purchase.action = MP_PRODUCT_ACTION_UNSET;
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("context.data_plan.plan_id", MP_ERR_INVALID, "required field is missing");
    expect_error("attribution_info.service_provider", MP_ERR_INVALID, "required field is missing");
    expect_error("attribution_info.campaign", MP_ERR_INVALID, "required field is missing");
    expect_error("events[2].data.product_action.action", MP_ERR_INVALID,
                 "required field is missing");
}

/* Where the JSON Schema and mParticle's own SDKs or docs disagree and no
 * document says the API refuses the difference, the default validation
 * warns (naming the sources) instead of refusing what the official SDKs'
 * examples send: a list and a number in custom_flags (the Node SDK's
 * usage example), session_end without session_duration_ms (the Python
 * SDK's README), a missing plan_id or product_impression_list products
 * (optional in the docs, D-15). Errors that no SDK contradicts stay errors. */
static void test_sdk_disagreements_warn_unless_strict(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_value list[3] = {MP_V_STRING("foo"), MP_V_STRING("bar"), MP_V_STRING("baz")};
    mp_attribute flags[3] = {{"foo", MP_V_STRING("bar")}, {"answer", MP_V_INT(42)},
                             {"arrays", MP_V_LIST(list)}};
    fx.events[EV_CUSTOM].common.custom_flags = MP_LIST(mp_attribute_list, flags);
    fx.events[EV_SCREEN].common.custom_flags = MP_LIST(mp_attribute_list, flags);
    mp_data_plan_context plan = {.plan_version = MP_INT(1)};
    mp_batch_context context = {.data_plan = &plan};
    fx.batch.context = &context;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(4);
    expect_warning("events[0].data.custom_flags.arrays", MP_ERR_TYPE,
                   "but mParticle's Node and Python SDK examples send lists");
    expect_warning("events[1].data.custom_flags.answer", MP_ERR_TYPE,
                   "is an integer; the official JSON Schema allows only strings here, but "
                   "mParticle's Node SDK example sends numbers");
    expect_warning("events[1].data.custom_flags.arrays", MP_ERR_TYPE, "--strict");
    expect_warning("context.data_plan.plan_id", MP_ERR_INVALID,
                   "is missing; the official JSON Schema requires it, but mParticle's docs call "
                   "it optional");
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[0].data.custom_flags.arrays", MP_ERR_TYPE, "is a list");
    expect_error("context.data_plan.plan_id", MP_ERR_INVALID, "required field is missing");

    /* A list in custom_attributes: no SDK sends it, so it stays an error. */
    fixture_init(&fx);
    fx.event_attrs[1].value = (mp_value)MP_V_LIST(list);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_error("events[0].data.custom_attributes.count", MP_ERR_TYPE, "is a list");
}

static void test_required_object_lists(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_shopping_cart cart = {.products = {MP_NULL_OF(mp_product), 0}};
    mp_product_impression imp[1] = {{.product_impression_list = "Top"}};
    fx.events[EV_COMMERCE].commerce_event.shopping_cart = &cart;
    fx.events[EV_COMMERCE].commerce_event.product_action = NULL;
    fx.events[EV_COMMERCE].commerce_event.product_impressions =
        MP_LIST(mp_product_impression_list, imp);
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[2].data.shopping_cart.products", MP_ERR_INVALID, "required field is null");
    expect_error("events[2].data.product_impressions[0].products", MP_ERR_INVALID,
                 "required field is missing");

    /* An empty list is a value. */
    static const mp_product none[1];
    cart.products = (mp_product_list){none, 0};
    imp[0].products = (mp_product_list){none, 0};
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);
}

static void test_user_attribute_change_null_is_a_value(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_user_attribute_change_data *c = &fx.events[EV_ATTRIBUTE_CHANGE].user_attribute_change;
    c->new_ = (mp_value)MP_V_NULL;
    c->old = (mp_value)MP_V_NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    c->new_ = (mp_value){0};
    c->old = (mp_value){0};
    c->user_attribute_name = MP_STRING_NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(3);
    expect_error("events[5].data.user_attribute_name", MP_ERR_INVALID, "required field is null");
    expect_error("events[5].data.new", MP_ERR_INVALID, "required field is missing");
    expect_error("events[5].data.old", MP_ERR_INVALID, "required field is missing");
}

static void test_user_identity_change_old_null(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_user_identity_change_data *c = &fx.events[EV_IDENTITY_CHANGE].user_identity_change;
    /* old: null is the documented value for a new identity. */
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    c->new_ = MP_NULL_OF(mp_user_identity);
    c->old = NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[6].data.new", MP_ERR_INVALID, "required field is null");
    expect_error("events[6].data.old", MP_ERR_INVALID, "required field is missing");

    /* A present identity needs its own required fields. */
    mp_user_identity old = {.identity = "x"};
    c->new_ = &fx.new_identity;
    c->old = &old;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[6].data.old.identity_type", MP_ERR_INVALID, "required field is missing");
    expect_error("events[6].data.old.timestamp_unixtime_ms", MP_ERR_INVALID,
                 "required field is missing");
}

/* ------------------------------------------------------------------------ */
/* Rule 2: enums and event types                                            */
/* ------------------------------------------------------------------------ */

static void test_enum_out_of_range(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.device.platform = (mp_platform)99;
    fx.app.os = (mp_os)-1;
    fx.purchase.action = (mp_product_action_type)11;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(3);
    expect_error("device_info.platform", MP_ERR_ENUM, "99 is not a valid platform");
    expect_error("application_info.os", MP_ERR_ENUM, "-1 is not a valid os");
    expect_error("events[2].data.product_action.action", MP_ERR_ENUM,
                 "11 is not a valid product action");
}

static void test_enum_documented_extras(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_CUSTOM].custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_ATTRIBUTION;
    fx.device.platform = MP_PLATFORM_DESKTOP;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(1);
    expect_warning("device_info.platform", MP_ERR_ENUM,
                   "\"desktop\" is in neither the official JSON Schema nor the docs");
}

static void test_event_types(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_SESSION_START].event_type = MP_EVENT_UNSET;
    fx.events[EV_SESSION_END].event_type = MP_EVENT_PRE_ATTRIBUTION;
    fx.events[EV_PUSH].event_type = (mp_event_type)20;
    fx.events[EV_PUSH].common.custom_attributes =
        MP_LIST(mp_attribute_list, fx.event_attrs);
    fx.events[EV_IDENTITY_CHANGE].event_type = MP_EVENT_PUSH_REACTION;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[3].event_type", MP_ERR_INVALID, "required field is missing");
    expect_error("events[4].event_type", MP_ERR_INVALID,
                 "\"pre_attribution\" has no inbound data model; the Events API schema rejects it");
    expect_error("events[6].event_type", MP_ERR_INVALID, "\"push_reaction\" has no inbound data model");
    expect_error("events[7].event_type", MP_ERR_ENUM, "20 is not a valid event_type");
}

/* ------------------------------------------------------------------------ */
/* Rule 3: strings, formats and numbers                                     */
/* ------------------------------------------------------------------------ */

static void test_invalid_utf8_everywhere(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_attribute attrs[2] = {{"ok", MP_V_STRING("fine")}, {"bad\xC3(", MP_V_STRING("x")}};
    const char *deleted[2] = {"gone", "\xED\xA0\x80"}; /* a surrogate */
    fx.events[EV_CUSTOM].custom_event.event_name = "caf\xC3";
    fx.events[EV_CUSTOM].common.custom_attributes = MP_LIST(mp_attribute_list, attrs);
    fx.batch.deleted_user_attributes = MP_LIST(mp_string_list, deleted);
    fx.product_attrs[0].value = "\xFF";
    fx.integration[0].name = "\x80";
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(5);
    expect_error("events[0].data.event_name", MP_ERR_INVALID_UTF8,
                 "is not valid UTF-8 (bad byte at offset 3)");
    expect_error("events[0].data.custom_attributes[1]", MP_ERR_INVALID_UTF8,
                 "name is not valid UTF-8 (bad byte at offset 3)");
    expect_error("deleted_user_attributes[1]", MP_ERR_INVALID_UTF8, "bad byte at offset 0");
    expect_error("events[2].data.product_action.products[0].custom_attributes.size",
                 MP_ERR_INVALID_UTF8, "is not valid UTF-8");
    expect_error("integration_attributes[0]", MP_ERR_INVALID_UTF8, "name is not valid UTF-8");
}

static void test_event_name_length_in_code_points(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    /* 256 two-byte characters: 512 bytes but 256 characters. */
    char *ok = repeat("\xC3\xA9", 256);
    /* 255 four-byte characters and one ASCII: 257 characters. */
    char *emoji = repeat("\xF0\x9F\x98\x80", 256);
    fx.events[EV_CUSTOM].custom_event.event_name = ok;
    fx.events[EV_SCREEN].screen_view.screen_name = emoji;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    char *long_name = repeat("\xC3\xA9", 257);
    char *long_screen = repeat("\xF0\x9F\x98\x80", 257);
    fx.events[EV_CUSTOM].custom_event.event_name = long_name;
    fx.events[EV_SCREEN].screen_view.screen_name = long_screen;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[0].data.event_name", MP_ERR_LIMIT, "is 257 characters; the limit is 256");
    expect_error("events[1].data.screen_name", MP_ERR_LIMIT,
                 "is 257 characters; the limit is 256");
    free(ok);
    free(emoji);
    free(long_name);
    free(long_screen);
}

static void test_action_identifier_limit(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    char *hundred = repeat("\xE2\x82\xAC", 100); /* the euro sign, 3 bytes */
    char *more = repeat("\xE2\x82\xAC", 101);
    fx.events[EV_PUSH].push_message.action_identifier = hundred;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    fx.events[EV_PUSH].push_message.action_identifier = more;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[7].data.action_identifier", MP_ERR_LIMIT,
                 "is 101 characters; the limit is 100");
    free(hundred);
    free(more);
}

static void test_uuid_format(void **state) {
    (void)state;
    static const char *const good[] = {
        "00000000-0000-0000-0000-000000000000", "abcdef01-2345-6789-ABCD-EF0123456789"};
    static const char *const bad[] = {
        "",                                      /* empty */
        "607258d9c28b43ad95ede9593025d5a1",      /* no dashes */
        "607258d9-c28b-43ad-95ed-e9593025d5a",   /* 35 */
        "607258d9-c28b-43ad-95ed-e9593025d5a1a", /* 37 */
        "607258d9-c28b-43ad-95ed-e9593025d5ag",  /* g */
        "607258d9-c28b-43ad-95ed_e9593025d5a1",  /* _ for - */
        "{607258d9-c28b-43ad-95ed-e9593025d5a}", /* braces */
        "607258d9-c28b-43ad-95ed-e9593025d5a\xC3\xA9",
    };
    fixture fx;
    fixture_init(&fx);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fx.batch.mp_deviceid = good[i];
        fx.device.android_advertising_id = good[i];
        fx.events[EV_SCREEN].common.source_message_id = good[i];
        assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
        expect_count(0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx.batch.mp_deviceid = bad[i];
        fx.device.android_advertising_id = bad[i];
        fx.events[EV_SCREEN].common.source_message_id = bad[i];
        assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
        expect_count(3);
        expect_error("mp_deviceid", MP_ERR_INVALID, "is not a UUID (8-4-4-4-12 hex digits)");
        expect_error("device_info.android_advertising_id", MP_ERR_INVALID, "is not a UUID");
        expect_error("events[1].data.source_message_id", MP_ERR_INVALID, "is not a UUID");
    }
    /* Null is "no value", not a malformed UUID. */
    fx.batch.mp_deviceid = MP_STRING_NULL;
    fx.device.android_advertising_id = NULL;
    fx.events[EV_SCREEN].common.source_message_id = NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
}

static void test_ip_format(void **state) {
    (void)state;
    static const char *const good[] = {"192.168.0.1", "0.0.0.0", "2001:db8::1", "::1",
                                       "::ffff:192.0.2.1"};
    static const char *const bad[] = {"", "256.1.1.1", "1.2.3", "localhost", "2001:db8:::1",
                                      " 10.0.0.1", "10.0.0.1/24"};
    fixture fx;
    fixture_init(&fx);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fx.batch.ip = good[i];
        assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx.batch.ip = bad[i];
        assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
        expect_count(1);
        expect_error("ip", MP_ERR_INVALID, "is not an IPv4 or IPv6 address");
    }
}

static void test_non_finite_numbers(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.products[1].price = MP_DOUBLE(NAN);
    fx.location.accuracy = MP_DOUBLE(INFINITY);
    fx.user_attrs[2].value = (mp_value)MP_V_DOUBLE(-INFINITY);
    fx.tags[1] = (mp_value)MP_V_DOUBLE(NAN);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[2].data.product_action.products[1].price", MP_ERR_NOT_FINITE,
                 "is NaN or infinite");
    expect_error("events[0].data.location.accuracy", MP_ERR_NOT_FINITE, "is NaN or infinite");
    expect_error("user_attributes.score", MP_ERR_NOT_FINITE, "is NaN or infinite");
    expect_error("user_attributes.tags[1]", MP_ERR_NOT_FINITE, "is NaN or infinite");
}

static void test_null_pointers_inside_containers(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_attribute attrs[2] = {{NULL, MP_V_STRING("x")}, {"s", {MP_VALUE_STRING, {NULL}}}};
    const char *deleted[1] = {NULL};
    mp_attribute absent_name[1] = {{NULL, {0}}}; /* absent entries are skipped, name or not */
    fx.events[EV_CUSTOM].common.custom_attributes = MP_LIST(mp_attribute_list, attrs);
    fx.events[EV_SCREEN].common.custom_attributes =
        MP_LIST(mp_attribute_list, absent_name);
    fx.batch.deleted_user_attributes = MP_LIST(mp_string_list, deleted);
    fx.gdpr[0].purpose = NULL;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[0].data.custom_attributes[0]", MP_ERR_INVALID_ARGUMENT,
                 "attribute name is a NULL pointer");
    expect_error("events[0].data.custom_attributes.s", MP_ERR_INVALID_ARGUMENT,
                 "string value is a NULL pointer");
    expect_error("deleted_user_attributes[0]", MP_ERR_INVALID_ARGUMENT, "list item is a NULL pointer");
    expect_error("consent_state.gdpr[0]", MP_ERR_INVALID_ARGUMENT, "GDPR purpose name is a NULL pointer");
}

/* ------------------------------------------------------------------------ */
/* Rule 4: attributes                                                       */
/* ------------------------------------------------------------------------ */

static void test_attribute_count_limits(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    attr_set user = make_attrs(101);
    attr_set event = make_attrs(101);
    user.count = 100;
    event.count = 100;
    fx.batch.user_attributes = attr_list(&user);
    fx.events[EV_CUSTOM].common.custom_attributes = attr_list(&event);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    user.count = 101;
    event.count = 101;
    fx.batch.user_attributes = attr_list(&user);
    fx.events[EV_CUSTOM].common.custom_attributes = attr_list(&event);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("user_attributes", MP_ERR_LIMIT, "has 101 attributes; the limit is 100");
    expect_error("events[0].data.custom_attributes", MP_ERR_LIMIT,
                 "has 101 attributes; the limit is 100");

    /* Absent entries are not sent, so they do not count. */
    user.items[100].value = (mp_value){0};
    event.items[3].value = (mp_value){0};
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    free_attrs(&user);
    free_attrs(&event);
}

static void test_attribute_name_limit(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    char *name256 = repeat("\xC3\xBC", 256);
    char *name257 = repeat("a", 257);
    char *flag257 = repeat("\xC3\xBC", 257);
    mp_attribute user[1] = {{name256, MP_V_STRING("x")}};
    mp_attribute flags[1] = {{flag257, MP_V_STRING("x")}};
    mp_string_pair product[1] = {{name257, "x"}};
    fx.batch.user_attributes = MP_LIST(mp_attribute_list, user);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);

    user[0].name = name257;
    fx.events[EV_CUSTOM].common.custom_flags = MP_LIST(mp_attribute_list, flags);
    fx.products[1].custom_attributes = MP_LIST(mp_string_map, product);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(3);
    char path[400];
    snprintf(path, sizeof path, "user_attributes.%s", name257);
    expect_error(path, MP_ERR_LIMIT, "name is 257 characters; the limit is 256");
    snprintf(path, sizeof path, "events[2].data.product_action.products[1].custom_attributes.%s",
             name257);
    expect_error(path, MP_ERR_LIMIT, "name is 257 characters; the limit is 256");
    /* 257 two-byte characters make a path longer than a message keeps. */
    const mp_problem *p = NULL;
    for (size_t i = 0; i < mp_diag_count(diag); i++)
        if (strncmp(mp_diag_get(diag, i)->path, "events[0].data.custom_flags[\"", 29) == 0)
            p = mp_diag_get(diag, i);
    assert_non_null(p);
    assert_int_equal(p->code, MP_ERR_LIMIT);
    assert_string_equal(p->message, "name is 257 characters; the limit is 256");
    free(name256);
    free(name257);
    free(flag257);
}

static void test_attribute_value_limit(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    char *v4096 = repeat("\xE2\x82\xAC", 4096);
    char *v4097 = repeat("\xE2\x82\xAC", 4097);
    fx.user_attrs[0].value.u.string = v4096;
    fx.event_attrs[0].value.u.string = v4096;
    fx.product_attrs[0].value = v4096;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);

    fx.user_attrs[0].value.u.string = v4097;
    fx.event_attrs[0].value.u.string = v4097;
    fx.product_attrs[0].value = v4097;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(3);
    expect_error("user_attributes.$firstname", MP_ERR_LIMIT,
                 "is 4097 characters; the limit is 4096");
    expect_error("events[0].data.custom_attributes[\"Account type\"]", MP_ERR_LIMIT,
                 "is 4097 characters; the limit is 4096");
    expect_error("events[2].data.product_action.products[0].custom_attributes.size",
                 MP_ERR_LIMIT, "is 4097 characters; the limit is 4096");
    free(v4096);
    free(v4097);
}

static void test_user_attribute_list_limits(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_value *items = calloc(1001, sizeof *items);
    assert_non_null(items);
    for (size_t i = 0; i < 1001; i++)
        items[i] = (mp_value)MP_V_STRING("x");
    char *item512 = repeat("\xC3\xA9", 512);
    char *item513 = repeat("\xC3\xA9", 513);
    items[3].u.string = item512;
    fx.user_attrs[1].value.u.list.items = items;
    fx.user_attrs[1].value.u.list.count = 1000;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    fx.user_attrs[1].value.u.list.count = 1001;
    items[3].u.string = item513;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("user_attributes.tags", MP_ERR_LIMIT, "has 1001 items; the limit is 1000");
    expect_error("user_attributes.tags[3]", MP_ERR_LIMIT, "is 513 characters; the limit is 512");
    free(items);
    free(item512);
    free(item513);
}

static void test_lists_inside_lists(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_value inner[1] = {MP_V_STRING("x")};
    mp_value outer[2] = {MP_V_STRING("a"), MP_V_LIST(inner)};
    fx.user_attrs[1].value = (mp_value)MP_V_LIST(outer);
    fx.events[EV_ATTRIBUTE_CHANGE].user_attribute_change.old = (mp_value)MP_V_LIST(outer);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("user_attributes.tags[1]", MP_ERR_TYPE, "a list cannot contain a list");
    expect_error("events[5].data.old[1]", MP_ERR_TYPE, "a list cannot contain a list");
}

static void test_event_attributes_scalars_only(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_value list[1] = {MP_V_STRING("x")};
    fx.event_attrs[1].value = (mp_value)MP_V_LIST(list);
    fx.custom_flags[0].value = (mp_value)MP_V_LIST(list);
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[0].data.custom_attributes.count", MP_ERR_TYPE,
                 "is a list; the official JSON Schema accepts only a string, number, boolean or "
                 "null here");
    expect_error("events[0].data.custom_flags[\"Google.Category\"]", MP_ERR_TYPE, "is a list");
}

static void test_screen_view_custom_flags_strings_only(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_value list[1] = {MP_V_STRING("x")};
    mp_attribute flags[5] = {{"s", MP_V_STRING("ok")}, {"i", MP_V_INT(1)}, {"n", MP_V_NULL},
                             {"b", MP_V_BOOL(1)}, {"l", MP_V_LIST(list)}};
    fx.events[EV_SCREEN].common.custom_flags = MP_LIST(mp_attribute_list, flags);
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(4);
    expect_error("events[1].data.custom_flags.i", MP_ERR_TYPE,
                 "is an integer; only string values are allowed here");
    expect_error("events[1].data.custom_flags.n", MP_ERR_TYPE, "is null; only string values");
    expect_error("events[1].data.custom_flags.b", MP_ERR_TYPE, "is a boolean; only string values");
    expect_error("events[1].data.custom_flags.l", MP_ERR_TYPE, "is a list; only string values");

    /* The same flags on a custom event: scalars are fine, the list is not. */
    fx.events[EV_CUSTOM].common.custom_flags = fx.events[EV_SCREEN].common.custom_flags;
    fx.events[EV_SCREEN].common.custom_flags = (mp_attribute_list){0};
    assert_int_equal(run(&fx.batch, &strict_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[0].data.custom_flags.l", MP_ERR_TYPE, "is a list; the official JSON Schema");
}

static void test_duplicate_names(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_attribute small[3] = {{"dup", MP_V_STRING("1")}, {"x", MP_V_INT(2)}, {"dup", MP_V_INT(3)}};
    mp_string_pair pairs[2] = {{"size", "XL"}, {"size", "L"}};
    fx.events[EV_CUSTOM].common.custom_attributes = MP_LIST(mp_attribute_list, small);
    fx.products[0].custom_attributes = MP_LIST(mp_string_map, pairs);
    /* Above the pairwise threshold: the hash table. */
    attr_set user = make_attrs(60);
    user.items[45].name = user.items[10].name;
    fx.batch.user_attributes = attr_list(&user);
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(3);
    expect_error("events[0].data.custom_attributes.dup", MP_ERR_INVALID,
                 "duplicate key: entries 0 and 2 have the same name");
    expect_error("events[2].data.product_action.products[0].custom_attributes.size",
                 MP_ERR_INVALID, "duplicate key: entries 0 and 1");
    expect_error("user_attributes.a10", MP_ERR_INVALID, "duplicate key: entries 10 and 45");

    /* An absent entry is not sent, so it cannot repeat a key. */
    small[2].value = (mp_value){0};
    pairs[1].value = NULL;
    user.items[45].value = (mp_value){0};
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    free_attrs(&user);
}

static void test_duplicate_names_in_big_maps(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    /* 3000 integration ids: beyond the table on the stack. */
    enum { N = 3000 };
    static const mp_string_pair inner[1] = {{"k", "v"}};
    mp_string_map_entry *ids = calloc(N, sizeof *ids);
    char(*names)[16] = calloc(N, 16);
    assert_non_null(ids);
    assert_non_null(names);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], 16, "%u", (unsigned)(i % 1000000));
        ids[i] = (mp_string_map_entry){names[i], MP_LIST(mp_string_map, inner)};
    }
    fx.batch.integration_attributes = (mp_string_map_map){ids, N};
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);

    ids[2999].name = "17";
    ids[1500].name = "1499";
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("integration_attributes[\"17\"]", MP_ERR_INVALID, "entries 17 and 2999");
    expect_error("integration_attributes[\"1499\"]", MP_ERR_INVALID, "entries 1499 and 1500");
    free(ids);
    free(names);
}

static void test_empty_attribute_name_is_a_warning(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.user_attrs[3].name = "";
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(1);
    expect_warning("user_attributes[\"\"]", MP_ERR_INVALID, "attribute name is empty");
}

/* ------------------------------------------------------------------------ */
/* Rule 5: commerce variants                                                */
/* ------------------------------------------------------------------------ */

static void test_commerce_variants(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_commerce_event_data *c = &fx.events[EV_COMMERCE].commerce_event;
    const mp_product_impression_list impressions =
        MP_LIST(mp_product_impression_list, fx.impressions);

    /* Exactly one of the three: each alone is fine. */
    c->product_action = NULL;
    c->promotion_action = &fx.promotion;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    c->promotion_action = NULL;
    c->product_impressions = impressions;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);

    /* None; null and an empty impression list count as none. */
    c->product_action = MP_NULL_OF(mp_product_action);
    c->promotion_action = NULL;
    c->product_impressions = (mp_product_impression_list){fx.impressions, 0};
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[2].data", MP_ERR_INVALID,
                 "has none of product_action, promotion_action and product_impressions; a "
                 "commerce_event needs exactly one");

    /* Two. */
    c->product_action = &fx.purchase;
    c->product_impressions = impressions;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[2].data", MP_ERR_INVALID,
                 "has both product_action and product_impressions; a commerce_event needs "
                 "exactly one");

    /* Three. */
    c->promotion_action = &fx.promotion;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[2].data", MP_ERR_INVALID,
                 "has all of product_action, promotion_action and product_impressions");
}

/* ------------------------------------------------------------------------ */
/* Rule 6: warnings                                                         */
/* ------------------------------------------------------------------------ */

static void test_output_only_fields_warn(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    mp_source_info source = {.channel = MP_CHANNEL_SERVER_TO_SERVER};
    mp_system_notification_info note = {.type = MP_SYSTEM_NOTIFICATION_GDPR_CHANGE};
    fx.batch.batch_id = MP_INT(5);
    fx.batch.timestamp_unixtime_ms = MP_INT(NOW);
    fx.batch.source_info = &source;
    fx.batch.schema_version = MP_INT(2);
    fx.events[EV_SCREEN].common.event_id = MP_INT_NULL; /* null is sent too */
    fx.events[EV_SCREEN].common.event_system_notification_info = &note;
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(6);
    expect_warning("batch_id", MP_ERR_INVALID, "is set by mParticle; do not send it");
    expect_warning("timestamp_unixtime_ms", MP_ERR_INVALID, "is set by mParticle");
    expect_warning("source_info", MP_ERR_INVALID, "is set by mParticle");
    expect_warning("schema_version", MP_ERR_INVALID,
                   "is set by mParticle; do not send it (output only, docs/api-notes.md §4.2 rule 10); "
                   "the official JSON Schema also rejects the key");
    expect_warning("events[1].data.event_id", MP_ERR_INVALID, "is set by mParticle");
    expect_warning("events[1].data.event_system_notification_info", MP_ERR_INVALID,
                   "is set by mParticle");

    /* Required fields still apply inside an output-only object. */
    source.channel = MP_CHANNEL_UNSET;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_error("source_info.channel", MP_ERR_INVALID, "required field is missing");
}

static void test_non_schema_fields_warn(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.batch.modified = MP_TRUE;
    fx.batch.partner_identities = MP_LIST(mp_string_map, fx.partner_ids);
    fx.partner_ids[0] = (mp_string_pair){"mParticle_mpid", "42"};
    fx.location.country_code = "US";
    fx.app.sideloaded_kits_count = MP_DOUBLE(1);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(4);
    expect_warning("modified", MP_ERR_INVALID, "the official JSON Schema rejects this key");
    expect_warning("partner_identities", MP_ERR_INVALID, "the official JSON Schema rejects this key");
    expect_warning("events[0].data.location.country_code", MP_ERR_INVALID,
                   "the official JSON Schema rejects this key");
    expect_warning("application_info.sideloaded_kits_count", MP_ERR_INVALID,
                   "the official JSON Schema rejects this key");
}

static void test_identity_warning(void **state) {
    (void)state;
    mp_user_identities ids = {.other = ""};
    mp_device_info device = {.platform = MP_PLATFORM_ANDROID, .push_token = "t"};
    mp_batch b = {.environment = MP_ENVIRONMENT_PRODUCTION,
                  .user_identities = &ids,
                  .device_info = &device,
                  .mpid = MP_INT_NULL,
                  .mp_deviceid = MP_STRING_NULL};
    /* Empty strings, null and non-identifying device fields identify no one. */
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(1);
    expect_warning("", MP_ERR_INVALID,
                   "has no user or device identity (user_identities, mpid, mp_deviceid or a "
                   "device_info advertising id)");

    /* Any one of them is enough. */
    ids.phone_number_3 = "+15555550100";
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(0);
    ids.phone_number_3 = NULL;
    device.android_uuid = "a1b2c3";
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(0);
    device.android_uuid = NULL;
    device.microsoft_advertising_id = "ms-1";
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(0);
    device.microsoft_advertising_id = NULL;
    b.mpid = MP_INT(0);
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(0);
    b.mpid = (mp_opt_int64){0};
    b.mp_deviceid = UUID_A;
    assert_int_equal(run(&b, NULL), MP_OK);
    expect_count(0);
}

static void test_session_start_without_session_id_warns(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_SESSION_START].common.session_id = (mp_opt_int64){0};
    fx.events[EV_SESSION_END].common.session_id = (mp_opt_int64){0}; /* optional elsewhere */
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(1);
    expect_warning("events[3].data.session_id", MP_ERR_INVALID,
                   "is missing; the official JSON Schema requires session_id on session_start");
}

/* ------------------------------------------------------------------------ */
/* Rule 7: the serialized size                                              */
/* ------------------------------------------------------------------------ */

static size_t encoded_size(const mp_batch *b) {
    mp_buffer *buf = mp_buffer_new(0);
    assert_non_null(buf);
    assert_int_equal(mp_encode_batch(b, buf, NULL), MP_OK);
    size_t n = mp_buffer_length(buf);
    mp_buffer_free(buf);
    return n;
}

/* The problem reporting the batch size, or NULL. */
static const mp_problem *size_problem(void) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        if (strstr(p->message, "serialized batch"))
            return p;
    }
    return NULL;
}

static void expect_size_error(size_t size) {
    char msg[96];
    snprintf(msg, sizeof msg, "serialized batch is %zu bytes; the limit is 131072 (128 KB)", size);
    const mp_problem *p = size_problem();
    assert_non_null(p);
    assert_int_equal(p->severity, MP_SEVERITY_ERROR);
    assert_int_equal(p->code, MP_ERR_LIMIT);
    assert_string_equal(p->path, "");
    assert_string_equal(p->message, msg);
}

static void test_batch_size_boundary(void **state) {
    (void)state;
    mp_event ev[1] = {{.event_type = MP_EVENT_CRASH_REPORT,
                       .common = {.timestamp_unixtime_ms = MP_INT(NOW)}}};
    mp_batch b = {.events = MP_LIST(mp_event_list, ev),
                  .environment = MP_ENVIRONMENT_PRODUCTION,
                  .mpid = MP_INT(42)};
    ev[0].crash_report.stack_trace = "";
    size_t base = encoded_size(&b);
    char *trace = repeat("a", MP_MAX_BATCH_BYTES - base);
    ev[0].crash_report.stack_trace = trace;
    assert_int_equal(encoded_size(&b), MP_MAX_BATCH_BYTES);
    assert_int_equal(run(&b, &live_opts), MP_OK);
    expect_count(0);
    free(trace);

    trace = repeat("a", MP_MAX_BATCH_BYTES - base + 1);
    ev[0].crash_report.stack_trace = trace;
    assert_int_equal(run(&b, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_size_error(MP_MAX_BATCH_BYTES + 1);

    /* A batch that cannot be encoded is not measured: its other error says why. */
    ev[0].common.lifetime_value_change = MP_DOUBLE(NAN);
    assert_int_equal(run(&b, &live_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[0].data.lifetime_value_change", MP_ERR_NOT_FINITE, "NaN");
    free(trace);
}

/* Builders of batches that grow with n in different ways: the validator
 * skips encoding when its estimate says the batch is small, so each shape
 * checks that the estimate never falls below the real size. */
typedef struct shape {
    mp_event events[1200];
    const char *strings[50000];
    mp_string_map_entry maps[6000];
    char names[6000][8];
    char *text;
    mp_batch batch;
} shape;

static void shape_escapes(shape *s, size_t n) {
    /* Control characters: each byte is written as a 6-byte escape. */
    memset(s->text, 0x01, n);
    s->text[n] = '\0';
    s->events[0] = (mp_event){.event_type = MP_EVENT_CRASH_REPORT};
    s->events[0].crash_report.message = s->text;
    s->batch.events = (mp_event_list){s->events, 1};
}

static void shape_events(shape *s, size_t n) {
    /* Events of numbers only, each as long as they can be. */
    for (size_t i = 0; i < n; i++) {
        s->events[i] = (mp_event){.event_type = MP_EVENT_APPLICATION_STATE_TRANSITION};
        s->events[i].common.timestamp_unixtime_ms = MP_INT(NOW);
        s->events[i].common.session_id = MP_INT(INT64_MIN);
        s->events[i].common.lifetime_value_change = MP_DOUBLE(-1.2345678901234567e-300);
        s->events[i].common.active_time_on_site_ms = MP_DOUBLE(-2.2250738585072014e-308);
        s->events[i].application_state_transition.application_transition_type =
            MP_APPLICATION_TRANSITION_INITIALIZED;
        s->events[i].application_state_transition.is_first_run = MP_FALSE;
    }
    s->batch.events = (mp_event_list){s->events, n};
}

static void shape_strings(shape *s, size_t n) {
    /* Many empty strings in a list: the per-item overhead dominates. */
    for (size_t i = 0; i < n; i++)
        s->strings[i] = "";
    s->batch.deleted_user_attributes = (mp_string_list){s->strings, n};
}

static void shape_maps(shape *s, size_t n) {
    /* Many small nested maps. */
    static const mp_string_pair inner[1] = {{"key", "\"\\\"\\"}};
    for (size_t i = 0; i < n; i++) {
        snprintf(s->names[i], sizeof s->names[i], "%u", (unsigned)(i % 100000));
        s->maps[i] = (mp_string_map_entry){s->names[i], {inner, 1}};
    }
    s->batch.integration_attributes = (mp_string_map_map){s->maps, n};
}

static void check_shape_at_limit(shape *s, void (*build)(shape *, size_t), size_t max_n) {
    /* The smallest n whose batch is over the limit. */
    size_t lo = 1, hi = max_n;
    s->batch = (mp_batch){.environment = MP_ENVIRONMENT_PRODUCTION, .mpid = MP_INT(1)};
    build(s, hi);
    assert_true(encoded_size(&s->batch) > MP_MAX_BATCH_BYTES);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        build(s, mid);
        if (encoded_size(&s->batch) > MP_MAX_BATCH_BYTES)
            hi = mid;
        else
            lo = mid + 1;
    }
    build(s, lo);
    size_t over = encoded_size(&s->batch);
    assert_int_equal(run(&s->batch, &live_opts), MP_ERR_INVALID);
    expect_size_error(over);

    build(s, lo - 1);
    assert_true(encoded_size(&s->batch) <= MP_MAX_BATCH_BYTES);
    run(&s->batch, &live_opts);
    assert_null(size_problem());
}

static void test_batch_size_estimate_never_too_low(void **state) {
    (void)state;
    shape *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->text = malloc(MP_MAX_BATCH_BYTES);
    assert_non_null(s->text);
    check_shape_at_limit(s, shape_escapes, MP_MAX_BATCH_BYTES / 6 + 10);
    check_shape_at_limit(s, shape_events, 1200);
    check_shape_at_limit(s, shape_strings, 50000);
    check_shape_at_limit(s, shape_maps, 6000);
    free(s->text);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Rule 8: timestamps and the historical endpoint                           */
/* ------------------------------------------------------------------------ */

static void set_all_timestamps(fixture *fx, mp_opt_int64 ts) {
    for (int i = 0; i < EV_COUNT; i++)
        fx->events[i].common.timestamp_unixtime_ms = ts;
}

/* mp_diag_keep_warnings(diag, 0): the same verdict and the same errors,
 * and none of the warnings (here one per event, for their age). */
static void test_warnings_left_out(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    set_all_timestamps(&fx, MP_INT(NOW - 40 * DAY_MS));
    fx.batch.environment = MP_ENVIRONMENT_UNSET;
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    size_t errors = mp_diag_error_count(diag);
    assert_true(errors >= 1);
    assert_true(mp_diag_count(diag) >= errors + EV_COUNT);
    mp_diag_keep_warnings(diag, 0);
    mp_error rc = run(&fx.batch, &live_opts);
    mp_diag_keep_warnings(diag, 1);
    assert_int_equal(rc, MP_ERR_INVALID);
    expect_count(errors);
    assert_int_equal(mp_diag_error_count(diag), errors);
    assert_int_equal(mp_diag_dropped(diag), 0);
    expect_error("environment", MP_ERR_INVALID, "required field is missing");
    /* Warnings are kept again. */
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    assert_true(mp_diag_count(diag) >= errors + EV_COUNT);
}

static void test_historical_needs_events(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.batch.events = (mp_event_list){fx.events, 0};
    assert_int_equal(run(&fx.batch, &historical_opts), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events", MP_ERR_INVALID,
                 "a batch for /v2/bulkevents/historical must have at least one event");
    fx.batch.events = (mp_event_list){0};
    assert_int_equal(run(&fx.batch, &historical_opts), MP_ERR_INVALID);
    expect_count(1);
    /* The live endpoints take batches without events. */
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
}

static void test_historical_needs_timestamps(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    set_all_timestamps(&fx, MP_INT(NOW - MP_HISTORICAL_MIN_AGE_MS - DAY_MS));
    assert_int_equal(run(&fx.batch, &historical_opts), MP_OK);
    expect_count(0);

    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = (mp_opt_int64){0};
    fx.events[EV_PUSH].common.timestamp_unixtime_ms = MP_INT_NULL;
    assert_int_equal(run(&fx.batch, &historical_opts), MP_ERR_INVALID);
    expect_count(2);
    expect_error("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                 "required field is missing: /v2/bulkevents/historical does not process a batch "
                 "with an event without timestamp_unixtime_ms");
    expect_error("events[7].data.timestamp_unixtime_ms", MP_ERR_INVALID, "required field is null");
    /* Live endpoints: the server uses its own time. */
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
}

static void test_historical_72_hours(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    set_all_timestamps(&fx, MP_INT(NOW - MP_HISTORICAL_MIN_AGE_MS));
    assert_int_equal(run(&fx.batch, &historical_opts), MP_OK); /* exactly 72 h: old enough */
    expect_count(0);

    fx.events[EV_CUSTOM].common.timestamp_unixtime_ms = MP_INT(NOW - MP_HISTORICAL_MIN_AGE_MS + 1);
    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = MP_INT(NOW - 5 * HOUR_MS - HOUR_MS / 2);
    fx.events[EV_PUSH].common.timestamp_unixtime_ms = MP_INT(NOW + 1500);
    assert_int_equal(run(&fx.batch, &historical_opts), MP_ERR_INVALID);
    expect_count(3);
    expect_error("events[0].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                 "is 71.9 hours old; /v2/bulkevents/historical only accepts events at least 72 "
                 "hours old (docs/api-notes.md §2.4)");
    expect_error("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID, "is 5.5 hours old");
    expect_error("events[7].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                 "is 1500 ms in the future; /v2/bulkevents/historical");
}

static void test_historical_uses_the_clock_when_now_is_zero(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    /* NOW (2023) is more than 72 hours before the real clock... */
    mp_validate_options opts = {.historical = 1};
    assert_int_equal(run(&fx.batch, &opts), MP_OK);
    /* ...and far in its past for the live endpoints. */
    assert_int_equal(run(&fx.batch, NULL), MP_OK);
    expect_count(EV_COUNT);
    expect_warning("events[3].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                   "days old; use /v2/bulkevents/historical for data older than 30 days");
}

static void test_live_30_days(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    set_all_timestamps(&fx, MP_INT(NOW - 30 * DAY_MS));
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(0);
    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = MP_INT(NOW - 30 * DAY_MS - 1);
    fx.events[EV_PUSH].common.timestamp_unixtime_ms = MP_INT(NOW - 45 * DAY_MS - DAY_MS / 2);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(2);
    expect_warning("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                   "is 30.0 days old; use /v2/bulkevents/historical for data older than 30 days "
                   "(docs/api-notes.md §2.4)");
    expect_warning("events[7].data.timestamp_unixtime_ms", MP_ERR_INVALID, "is 45.5 days old");
}

static void test_seconds_instead_of_milliseconds(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = MP_INT(NOW / 1000);
    assert_int_equal(run(&fx.batch, &live_opts), MP_OK);
    expect_count(1);
    expect_warning("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                   "is 1700000000, which looks like seconds since the epoch");
    /* Historical: old enough, but still suspicious. */
    set_all_timestamps(&fx, MP_INT(NOW - 4 * DAY_MS));
    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = MP_INT(NOW / 1000);
    assert_int_equal(run(&fx.batch, &historical_opts), MP_OK);
    expect_count(1);
    expect_warning("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID, "looks like seconds");
}

static void test_extreme_timestamps_do_not_overflow(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.events[EV_CUSTOM].common.timestamp_unixtime_ms = MP_INT(INT64_MIN);
    fx.events[EV_SCREEN].common.timestamp_unixtime_ms = MP_INT(INT64_MAX);
    mp_validate_options far = {.historical = 1, .now_unixtime_ms = INT64_MAX};
    assert_int_equal(run(&fx.batch, &far), MP_ERR_INVALID);
    expect_count(1);
    expect_error("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID, "is 0.0 hours old");
    mp_validate_options before_epoch = {.historical = 1, .now_unixtime_ms = -1};
    assert_int_equal(run(&fx.batch, &before_epoch), MP_ERR_INVALID);
    expect_count(EV_COUNT - 1); /* all but events[0] are in the future */
    expect_error("events[1].data.timestamp_unixtime_ms", MP_ERR_INVALID,
                 "is 9223372036854775807 ms in the future");
    mp_validate_options live_far = {.now_unixtime_ms = INT64_MAX};
    assert_int_equal(run(&fx.batch, &live_far), MP_OK);
    expect_count(EV_COUNT - 1); /* all but events[1] are very old */
}

/* ------------------------------------------------------------------------ */
/* Every problem, not just the first                                        */
/* ------------------------------------------------------------------------ */

static void test_reports_every_problem(void **state) {
    (void)state;
    fixture fx;
    fixture_init(&fx);
    char *long_name = repeat("x", 300);
    fx.batch.environment = MP_ENVIRONMENT_UNSET;                         /* 1: required */
    fx.device.ios_idfv = "nope";                                         /* 2: UUID */
    fx.events[EV_CUSTOM].custom_event.event_name = long_name;            /* 3: length */
    fx.events[EV_COMMERCE].commerce_event.promotion_action = &fx.promotion; /* 4: commerce */
    fx.batch.batch_id = MP_INT(1);                                       /* 5: warning */
    assert_int_equal(run(&fx.batch, &live_opts), MP_ERR_INVALID);
    expect_count(5);
    assert_int_equal(mp_diag_error_count(diag), 4);
    /* In the order of the batch. */
    assert_string_equal(mp_diag_get(diag, 0)->path, "events[0].data.event_name");
    assert_string_equal(mp_diag_get(diag, 0)->message, "is 300 characters; the limit is 256");
    assert_string_equal(mp_diag_get(diag, 1)->path, "events[2].data");
    assert_string_equal(mp_diag_get(diag, 2)->path, "device_info.ios_idfv");
    assert_string_equal(mp_diag_get(diag, 3)->path, "environment");
    assert_string_equal(mp_diag_get(diag, 4)->path, "batch_id");
    assert_int_equal(mp_diag_get(diag, 4)->severity, MP_SEVERITY_WARNING);

    /* A capped diag keeps the first problems, counts the rest, and the
     * return code is the same. */
    mp_diag *small = mp_diag_new();
    assert_non_null(small);
    mp_diag_set_max(small, 2);
    assert_int_equal(mp_validate_batch(&fx.batch, &live_opts, 3, small), MP_ERR_INVALID);
    assert_int_equal(mp_diag_count(small), 2);
    assert_int_equal(mp_diag_dropped(small), 3);
    assert_int_equal(mp_diag_get(small, 1)->batch, 3);
    mp_diag_free(small);
    free(long_name);
}

/* ------------------------------------------------------------------------ */
/* Batches from elsewhere                                                   */
/* ------------------------------------------------------------------------ */

/* The support generator fills every field of every object with values the
 * API accepts (every enum value, full-range integers, awkward strings,
 * nulls): none of that may be an error. */
static void test_generated_batches_have_no_errors(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(20260101);
    for (int nulls = 0; nulls < 2; nulls++) {
        for (int variant = 0; variant < 25; variant++) {
            const mp_batch *b = nulls ? mp_gen_batch_nulls(g, variant) : mp_gen_batch(g, variant);
            if (run(b, &live_opts) != MP_OK) {
                print_message("variant %d%s:\n", variant, nulls ? " with nulls" : "");
                dump_problems();
            }
            assert_int_equal(mp_diag_error_count(diag), 0);
            mp_gen_reset(g);
        }
    }
    mp_gen_free(g);
}

/* The official sample batch (the docs' JSON Schema sample) has no error;
 * its only warnings are the output-only keys it carries. */
static void test_official_sample(void **state) {
    (void)state;
    size_t len;
    char *json = mp_test_read_file(MP_REFERENCE_DIR "/mparticle.inbound.eventsapi.sample.json", &len);
    assert_non_null(json);
    mp_document *doc = NULL;
    assert_int_equal(mp_decode(json, len, &doc, NULL), MP_OK);
    assert_int_equal(mp_document_count(doc), 1);
    /* An hour after its last event. */
    const mp_validate_options opts = {.now_unixtime_ms = 1558388284159LL + HOUR_MS};
    assert_int_equal(run(mp_document_batch(doc, 0), &opts), MP_OK);
    /* 14 events with event_id and event_system_notification_info, plus
     * source_info, timestamp_unixtime_ms and batch_id. */
    expect_count(14 * 2 + 3);
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        assert_int_equal(p->severity, MP_SEVERITY_WARNING);
        assert_non_null(strstr(p->message, "is set by mParticle"));
    }
    expect_warning("batch_id", MP_ERR_INVALID, "is set by mParticle");
    expect_warning("events[13].data.event_system_notification_info", MP_ERR_INVALID,
                   "is set by mParticle");
    mp_document_free(doc);
    free(json);
}

/* Options from a newer header than the library's are refused, not misread. */
static void test_newer_options_refused(void **state) {
    (void)state;
    mp_batch b = {.environment = MP_ENVIRONMENT_DEVELOPMENT, .mpid = MP_INT(1)};
    mp_validate_options current = MP_VALIDATE_OPTIONS_INIT;
    mp_validate_options newer = {.version = MP_VALIDATE_OPTIONS_VERSION + 1};
    mp_validate_options zeroed = {0};
    assert_int_equal(mp_validate_batch(&b, &current, 0, NULL), MP_OK);
    assert_int_equal(mp_validate_batch(&b, &zeroed, 0, NULL), MP_OK);
    assert_int_equal(mp_validate_batch(&b, &newer, 0, NULL), MP_ERR_INVALID_ARGUMENT);
}

int main(int argc, char **argv) {
    /* The official sample is mParticle's file, outside the repository:
     * `test_validate --official` (ctest: test_validate_official) checks it,
     * or says SKIPPED (exit 77) when MP_REFERENCE_DIR lacks it. */
    if (mp_test_official_run(argc, argv)) {
        int skip = mp_test_skip_without_reference();
        if (skip)
            return skip;
        const struct CMUnitTest official_tests[] = {cmocka_unit_test(test_official_sample)};
        return cmocka_run_group_tests(official_tests, group_setup, group_teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_full_batch),
        cmocka_unit_test(test_null_batch),
        cmocka_unit_test(test_newer_options_refused),
        cmocka_unit_test(test_minimal_batch_only_warns_about_identity),
        cmocka_unit_test(test_batch_index_is_stored),
        cmocka_unit_test(test_required_environment),
        cmocka_unit_test(test_environment_unknown_is_a_warning),
        cmocka_unit_test(test_required_string_absent_and_null),
        cmocka_unit_test(test_required_scalars_absent_and_null),
        cmocka_unit_test(test_required_only_inside_present_objects),
        cmocka_unit_test(test_required_object_lists),
        cmocka_unit_test(test_sdk_disagreements_warn_unless_strict),
        cmocka_unit_test(test_user_attribute_change_null_is_a_value),
        cmocka_unit_test(test_user_identity_change_old_null),
        cmocka_unit_test(test_enum_out_of_range),
        cmocka_unit_test(test_enum_documented_extras),
        cmocka_unit_test(test_event_types),
        cmocka_unit_test(test_invalid_utf8_everywhere),
        cmocka_unit_test(test_event_name_length_in_code_points),
        cmocka_unit_test(test_action_identifier_limit),
        cmocka_unit_test(test_uuid_format),
        cmocka_unit_test(test_ip_format),
        cmocka_unit_test(test_non_finite_numbers),
        cmocka_unit_test(test_null_pointers_inside_containers),
        cmocka_unit_test(test_attribute_count_limits),
        cmocka_unit_test(test_attribute_name_limit),
        cmocka_unit_test(test_attribute_value_limit),
        cmocka_unit_test(test_user_attribute_list_limits),
        cmocka_unit_test(test_lists_inside_lists),
        cmocka_unit_test(test_event_attributes_scalars_only),
        cmocka_unit_test(test_screen_view_custom_flags_strings_only),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_duplicate_names_in_big_maps),
        cmocka_unit_test(test_empty_attribute_name_is_a_warning),
        cmocka_unit_test(test_commerce_variants),
        cmocka_unit_test(test_output_only_fields_warn),
        cmocka_unit_test(test_non_schema_fields_warn),
        cmocka_unit_test(test_identity_warning),
        cmocka_unit_test(test_session_start_without_session_id_warns),
        cmocka_unit_test(test_batch_size_boundary),
        cmocka_unit_test(test_batch_size_estimate_never_too_low),
        cmocka_unit_test(test_warnings_left_out),
        cmocka_unit_test(test_historical_needs_events),
        cmocka_unit_test(test_historical_needs_timestamps),
        cmocka_unit_test(test_historical_72_hours),
        cmocka_unit_test(test_historical_uses_the_clock_when_now_is_zero),
        cmocka_unit_test(test_live_30_days),
        cmocka_unit_test(test_seconds_instead_of_milliseconds),
        cmocka_unit_test(test_extreme_timestamps_do_not_overflow),
        cmocka_unit_test(test_reports_every_problem),
        cmocka_unit_test(test_generated_batches_have_no_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
