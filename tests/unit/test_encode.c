/*
 * Encoder tests against exact JSON written by hand from docs/api-notes.md and
 * docs/data-model.md (key
 * order = the schema tables' wire order), never produced by the code under
 * test. Batches are built with designated initializers the way a user
 * would. Covered: every object of model.h, all 19 event envelopes and
 * their own fields, presence (absent / value / null / empty), int64 and
 * double edge cases, string escaping, errors with their JSON paths (and the
 * buffer left as it was), the bulk form, mp_encode_batch_to and mp_buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mparticle.h"

#define UUID_A "607258d9-c28b-43ad-95ed-e9593025d5a1"

/* Non-NULL items with count 0: present but empty ([] or {}). */
static const mp_attribute no_attributes[1];
static const char *const no_strings[1];
static const mp_string_pair no_pairs[1];
static const mp_string_map_entry no_maps[1];
static const mp_gdpr_purpose no_purposes[1];
static const mp_value no_values[1];

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void print_problems(const mp_diag *d) {
    for (size_t i = 0; i < mp_diag_count(d); i++) {
        const mp_problem *p = mp_diag_get(d, i);
        print_message("%s at \"%s\": %s\n", mp_error_name(p->code), p->path, p->message);
    }
}

/* Encodes b with mp_encode_batch and with mp_encode_batch_to (into roomy
 * caller memory; the exact-fit contract has its own test) and checks both
 * give `expected`. */
static void expect_batch(const mp_batch *b, const char *expected) {
    mp_buffer *buf = mp_buffer_new(0);
    mp_diag *d = mp_diag_new();
    mp_error err = mp_encode_batch(b, buf, d);
    if (err != MP_OK)
        print_problems(d);
    assert_int_equal(err, MP_OK);
    assert_int_equal(mp_diag_count(d), 0);
    assert_string_equal(mp_buffer_data(buf), expected);
    assert_int_equal(mp_buffer_length(buf), strlen(expected));

    size_t n = strlen(expected), len = 0, cap = 8 * n + 64;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(mp_encode_batch_to(b, out, cap, &len, d), MP_OK);
    assert_int_equal(len, n);
    assert_string_equal(out, expected);
    free(out);
    mp_diag_free(d);
    mp_buffer_free(buf);
}

/* A batch holding only `events`: {"events":[<expected_events>]}. */
static void expect_events(const mp_event *events, size_t count, const char *expected_events) {
    mp_batch b = {.events = {events, count}};
    size_t n = strlen(expected_events) + 32;
    char *expected = malloc(n);
    assert_non_null(expected);
    snprintf(expected, n, "{\"events\":[%s]}", expected_events);
    expect_batch(&b, expected);
    free(expected);
}

static void expect_event(const mp_event *ev, const char *expected_event) {
    expect_events(ev, 1, expected_event);
}

/* Encoding b fails with `code`, one problem at `path`, and the buffer keeps
 * what it held before the call. */
static void expect_error(const mp_batch *b, mp_error code, const char *path) {
    mp_buffer *buf = mp_buffer_new(0);
    mp_diag *d = mp_diag_new();
    assert_int_equal(mp_buffer_append(buf, "KEEP", 4), MP_OK);
    assert_int_equal(mp_encode_batch(b, buf, d), code);
    assert_int_equal(mp_diag_count(d), 1);
    const mp_problem *p = mp_diag_get(d, 0);
    assert_int_equal(p->code, code);
    assert_int_equal(p->severity, MP_SEVERITY_ERROR);
    assert_int_equal(p->batch, 0);
    assert_string_equal(p->path, path);
    assert_true(p->message[0] != '\0');
    assert_int_equal(mp_buffer_length(buf), 4);
    assert_string_equal(mp_buffer_data(buf), "KEEP");
    mp_diag_free(d);
    mp_buffer_free(buf);
}

/* ------------------------------------------------------------------------ */
/* The batch and its objects                                                */
/* ------------------------------------------------------------------------ */

static void test_empty_batch(void **state) {
    (void)state;
    mp_batch b = {0};
    expect_batch(&b, "{}");
}

/* Every top-level key, in wire order. */
static void test_batch_top_level_fields(void **state) {
    (void)state;
    mp_attribute user_attributes[] = {{"plan", MP_V_STRING("pro")}};
    const char *const deleted[] = {"old_attr"};
    const char *const keys[] = {"key-a", "key-b"};
    mp_string_pair appsflyer[] = {{"appsflyer_id", "123-abc"}};
    mp_string_map_entry integrations[] = {{"92", MP_LIST(mp_string_map, appsflyer)}};
    mp_string_pair partners[] = {{"mParticle_mpid", "42"}};
    mp_gdpr_purpose gdpr[] = {{"location_collection", {.consented = MP_TRUE}}};
    mp_event events[] = {
        {.event_type = MP_EVENT_SESSION_START, .common = {.session_id = MP_INT(1)}}};
    mp_batch b = {
        .source_request_id = "req-1",
        .context = &(mp_batch_context){.data_plan = &(mp_data_plan_context){.plan_id = "plan"}},
        .events = MP_LIST(mp_event_list, events),
        .device_info = &(mp_device_info){.brand = "Acme"},
        .application_info = &(mp_application_info){.application_name = "app"},
        .user_attributes = MP_LIST(mp_attribute_list, user_attributes),
        .deleted_user_attributes = MP_LIST(mp_string_list, deleted),
        .user_identities = &(mp_user_identities){.email = "a@example.com"},
        .environment = MP_ENVIRONMENT_PRODUCTION,
        .api_key = "k",
        .api_keys = MP_LIST(mp_string_list, keys),
        .ip = "203.0.113.7",
        .integration_attributes = MP_LIST(mp_string_map_map, integrations),
        .partner_identity = "partner",
        .partner_identities = MP_LIST(mp_string_map, partners),
        .source_info = &(mp_source_info){.channel = MP_CHANNEL_SERVER_TO_SERVER},
        .mp_deviceid = "3fb44a79-df2d-446d-acf1-e87eda854ae1",
        .attribution_info =
            &(mp_attribution_info){.service_provider = "sp", .publisher = "pub",
                                   .campaign = "camp"},
        .timestamp_unixtime_ms = MP_INT(1700000000000),
        .batch_id = MP_INT(INT64_C(-8602161397754364000)),
        .mpid = MP_INT(INT64_C(7346244611012968789)),
        .sdk_version = "1.2.3",
        .consent_state = &(mp_consent_state){.gdpr = MP_LIST(mp_gdpr_purpose_list, gdpr)},
        .job_id = "job",
        .origin_mpid = MP_INT(5),
        .schema_version = MP_INT(2),
        .modified = MP_TRUE,
    };
    expect_batch(&b,
                 "{\"source_request_id\":\"req-1\","
                 "\"context\":{\"data_plan\":{\"plan_id\":\"plan\"}},"
                 "\"events\":[{\"data\":{\"session_id\":1},\"event_type\":\"session_start\"}],"
                 "\"device_info\":{\"brand\":\"Acme\"},"
                 "\"application_info\":{\"application_name\":\"app\"},"
                 "\"user_attributes\":{\"plan\":\"pro\"},"
                 "\"deleted_user_attributes\":[\"old_attr\"],"
                 "\"user_identities\":{\"email\":\"a@example.com\"},"
                 "\"environment\":\"production\","
                 "\"api_key\":\"k\","
                 "\"api_keys\":[\"key-a\",\"key-b\"],"
                 "\"ip\":\"203.0.113.7\","
                 "\"integration_attributes\":{\"92\":{\"appsflyer_id\":\"123-abc\"}},"
                 "\"partner_identity\":\"partner\","
                 "\"partner_identities\":{\"mParticle_mpid\":\"42\"},"
                 "\"source_info\":{\"channel\":\"server_to_server\"},"
                 "\"mp_deviceid\":\"3fb44a79-df2d-446d-acf1-e87eda854ae1\","
                 "\"attribution_info\":{\"service_provider\":\"sp\",\"publisher\":\"pub\","
                 "\"campaign\":\"camp\"},"
                 "\"timestamp_unixtime_ms\":1700000000000,"
                 "\"batch_id\":-8602161397754364000,"
                 "\"mpid\":7346244611012968789,"
                 "\"sdk_version\":\"1.2.3\","
                 "\"consent_state\":{\"gdpr\":{\"location_collection\":{\"consented\":true}}},"
                 "\"job_id\":\"job\","
                 "\"origin_mpid\":5,"
                 "\"schema_version\":2,"
                 "\"modified\":true}");
}

/* The Go SDK's "Full Example" (go-sdk-docs.md), as a C user writes it. */
static void test_go_sdk_full_example(void **state) {
    (void)state;
    mp_value foo_array[] = {MP_V_STRING("bar1"), MP_V_STRING("bar2")};
    mp_attribute user_attributes[] = {{"foo", MP_V_STRING("bar")},
                                      {"foo-array", MP_V_LIST(foo_array)}};
    mp_attribute custom_attributes[] = {{"foo", MP_V_STRING("bar")}};
    mp_product products[] = {
        {.id = "product-id", .name = "product-name", .total_product_amount = MP_DOUBLE(123.12)}};
    mp_product_action purchase = {.action = MP_PRODUCT_ACTION_PURCHASE,
                                  .total_amount = MP_DOUBLE(123.12),
                                  .transaction_id = "foo-transaction-id",
                                  .products = MP_LIST(mp_product_list, products)};
    mp_event events[] = {
        {.event_type = MP_EVENT_CUSTOM_EVENT,
         .common = {.custom_attributes = MP_LIST(mp_attribute_list, custom_attributes)},
         .custom_event = {.event_name = "My Custom Event Name",
                          .custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER}},
        {.event_type = MP_EVENT_SCREEN_VIEW, .screen_view = {.screen_name = "My Screen Name"}},
        {.event_type = MP_EVENT_COMMERCE_EVENT, .commerce_event = {.product_action = &purchase}},
    };
    mp_batch batch = {
        .environment = MP_ENVIRONMENT_DEVELOPMENT,
        .user_identities = &(mp_user_identities){.customer_id = "go1234",
                                                 .email = "go-example@foo.com"},
        .context = &(mp_batch_context){.data_plan = &(mp_data_plan_context){
                                           .plan_id = "freddy_s_plan", .plan_version = MP_INT(1)}},
        .device_info = &(mp_device_info){.ios_advertising_id = UUID_A},
        .user_attributes = MP_LIST(mp_attribute_list, user_attributes),
        .events = MP_LIST(mp_event_list, events),
    };
    expect_batch(
        &batch,
        "{\"context\":{\"data_plan\":{\"plan_id\":\"freddy_s_plan\",\"plan_version\":1}},"
        "\"events\":["
        "{\"data\":{\"custom_attributes\":{\"foo\":\"bar\"},\"custom_event_type\":\"other\","
        "\"event_name\":\"My Custom Event Name\"},\"event_type\":\"custom_event\"},"
        "{\"data\":{\"screen_name\":\"My Screen Name\"},\"event_type\":\"screen_view\"},"
        "{\"data\":{\"product_action\":{\"action\":\"purchase\",\"transaction_id\":"
        "\"foo-transaction-id\",\"total_amount\":123.12,\"products\":[{\"id\":\"product-id\","
        "\"name\":\"product-name\",\"total_product_amount\":123.12}]}},"
        "\"event_type\":\"commerce_event\"}],"
        "\"device_info\":{\"ios_advertising_id\":\"" UUID_A "\"},"
        "\"user_attributes\":{\"foo\":\"bar\",\"foo-array\":[\"bar1\",\"bar2\"]},"
        "\"user_identities\":{\"customer_id\":\"go1234\",\"email\":\"go-example@foo.com\"},"
        "\"environment\":\"development\"}");
}

static void test_context(void **state) {
    (void)state;
    const char *const ids[] = {"r1", "r2"};
    mp_batch b = {
        .context = &(mp_batch_context){
            .data_plan = &(mp_data_plan_context){.plan_id = "freddy_s_plan",
                                                 .plan_version = MP_INT(1)},
            .batching = &(mp_batching_context){.bypass = MP_FALSE, .partition_key = "user-42",
                                               .request_ids = MP_LIST(mp_string_list, ids)},
            .location = &(mp_location){.latitude = MP_DOUBLE(40.7128),
                                       .longitude = MP_DOUBLE(-74.006),
                                       .accuracy = MP_DOUBLE(12.5),
                                       .country_code = "US",
                                       .region_code = "NY",
                                       .city_name = "New York",
                                       .postal_code = "10001",
                                       .dma_code = MP_INT(501),
                                       .location_source = MP_LOCATION_SOURCE_IP_LOOKUP},
        },
    };
    expect_batch(&b, "{\"context\":{"
                     "\"data_plan\":{\"plan_id\":\"freddy_s_plan\",\"plan_version\":1},"
                     "\"batching\":{\"bypass\":false,\"partition_key\":\"user-42\","
                     "\"request_ids\":[\"r1\",\"r2\"]},"
                     "\"location\":{\"latitude\":40.7128,\"longitude\":-74.006,\"accuracy\":12.5,"
                     "\"country_code\":\"US\",\"region_code\":\"NY\",\"city_name\":\"New York\","
                     "\"postal_code\":\"10001\",\"dma_code\":501,\"location_source\":\"ip_lookup\"}"
                     "}}");
}

static void test_user_identities_all_22(void **state) {
    (void)state;
    mp_batch b = {
        .user_identities = &(mp_user_identities){
            .other = "o",
            .customer_id = "123456",
            .facebook = "fb",
            .twitter = "tw",
            .google = "gg",
            .microsoft = "ms",
            .yahoo = "yh",
            .email = "a@example.com",
            .alias = "al",
            .facebook_custom_audience_id = "fca",
            .other_id_2 = "o2",
            .other_id_3 = "o3",
            .other_id_4 = "o4",
            .other_id_5 = "o5",
            .other_id_6 = "o6",
            .other_id_7 = "o7",
            .other_id_8 = "o8",
            .other_id_9 = "o9",
            .other_id_10 = "o10",
            .mobile_number = "+15550100",
            .phone_number_2 = "+15550102",
            .phone_number_3 = "+15550103",
        },
    };
    expect_batch(&b, "{\"user_identities\":{\"other\":\"o\",\"customer_id\":\"123456\","
                     "\"facebook\":\"fb\",\"twitter\":\"tw\",\"google\":\"gg\","
                     "\"microsoft\":\"ms\",\"yahoo\":\"yh\",\"email\":\"a@example.com\","
                     "\"alias\":\"al\",\"facebook_custom_audience_id\":\"fca\","
                     "\"other_id_2\":\"o2\",\"other_id_3\":\"o3\",\"other_id_4\":\"o4\","
                     "\"other_id_5\":\"o5\",\"other_id_6\":\"o6\",\"other_id_7\":\"o7\","
                     "\"other_id_8\":\"o8\",\"other_id_9\":\"o9\",\"other_id_10\":\"o10\","
                     "\"mobile_number\":\"+15550100\",\"phone_number_2\":\"+15550102\","
                     "\"phone_number_3\":\"+15550103\"}}");
}

static void test_device_info(void **state) {
    (void)state;
    mp_batch b = {
        .device_info = &(mp_device_info){
            .brand = "Apple",
            .platform = MP_PLATFORM_IOS,
            .screen_height = MP_INT(2732),
            .timezone_offset = MP_INT(-4),
            .ios_advertising_id = UUID_A,
            .is_tablet = MP_TRUE,
            .att_timestamp_unixtime_ms = MP_INT(1614187122051),
            .att_authorization_status = MP_ATT_STATUS_NOT_DETERMINED,
            .limit_ad_tracking = MP_FALSE,
            .microsoft_publisher_id = "ms",
            .fire_advertising_id = "00000000-0000-0000-0000-000000000000",
        },
    };
    expect_batch(&b, "{\"device_info\":{\"brand\":\"Apple\",\"platform\":\"iOS\","
                     "\"screen_height\":2732,\"timezone_offset\":-4,"
                     "\"ios_advertising_id\":\"" UUID_A "\",\"is_tablet\":true,"
                     "\"att_timestamp_unixtime_ms\":1614187122051,"
                     "\"att_authorization_status\":\"not_determined\","
                     "\"limit_ad_tracking\":false,\"microsoft_publisher_id\":\"ms\","
                     "\"fire_advertising_id\":\"00000000-0000-0000-0000-000000000000\"}}");
}

static void test_application_info(void **state) {
    (void)state;
    mp_string_pair v31[] = {{"iad-keyword", "Keyword"}, {"iad-org-name", MP_STRING_NULL}};
    mp_string_map_entry ads[] = {{"version3.1", MP_LIST(mp_string_map, v31)},
                                 {"empty", {no_pairs, 0}}};
    mp_batch b = {
        .application_info = &(mp_application_info){
            .application_name = "SDK Canary",
            .application_version = "0.9.5",
            .application_build_number = "1",
            .install_referrer = "utm_source=x",
            .package = "com.example",
            .os = MP_OS_IOS,
            .apple_search_ads_attributes = MP_LIST(mp_string_map_map, ads),
            .sideloaded_kits_count = MP_DOUBLE(2),
        },
    };
    expect_batch(&b, "{\"application_info\":{\"application_name\":\"SDK Canary\","
                     "\"application_version\":\"0.9.5\",\"application_build_number\":\"1\","
                     "\"install_referrer\":\"utm_source=x\",\"package\":\"com.example\","
                     "\"os\":\"IOS\",\"apple_search_ads_attributes\":{\"version3.1\":"
                     "{\"iad-keyword\":\"Keyword\",\"iad-org-name\":null},\"empty\":{}},"
                     "\"sideloaded_kits_count\":2}}");
}

static void test_source_and_attribution_info(void **state) {
    (void)state;
    mp_batch b = {
        .source_info = &(mp_source_info){.channel = MP_CHANNEL_NATIVE,
                                         .partner = "p",
                                         .replay_request_id = "rr",
                                         .replay_job_id = "rj",
                                         .is_historical = MP_FALSE},
        .attribution_info = &(mp_attribution_info){.service_provider = "Kochava",
                                                   .publisher = "Facebook",
                                                   .campaign = "Spring"},
    };
    expect_batch(&b, "{\"source_info\":{\"channel\":\"native\",\"partner\":\"p\","
                     "\"replay_request_id\":\"rr\",\"replay_job_id\":\"rj\","
                     "\"is_historical\":false},"
                     "\"attribution_info\":{\"service_provider\":\"Kochava\","
                     "\"publisher\":\"Facebook\",\"campaign\":\"Spring\"}}");
}

/* The DOC's consent_state example: a map of GDPR purposes (one with
 * consented false, which the Go SDK long could not send) and CCPA. */
static void test_consent_state(void **state) {
    (void)state;
    mp_gdpr_purpose gdpr[] = {
        {"location_collection",
         {.consented = MP_TRUE,
          .document = "location_collection_agreement_v4",
          .timestamp_unixtime_ms = MP_INT(1523039002083),
          .location = "17 Cherry Tree Lane",
          .hardware_id = "IDFA:a5d934n0-232f-4afc-2e9a-3832d95zc702"}},
        {"parental",
         {.regulation = "gdpr",
          .purpose = "parental",
          .consented = MP_FALSE,
          .document = "parental_consent_agreement_v2",
          .timestamp_unixtime_ms = MP_INT(1523039002083)}},
    };
    mp_batch b = {
        .consent_state = &(mp_consent_state){
            .gdpr = MP_LIST(mp_gdpr_purpose_list, gdpr),
            .ccpa = &(mp_ccpa_consent_state){.data_sale_opt_out = &(mp_consent){
                                                 .consented = MP_TRUE,
                                                 .document = MP_STRING_NULL,
                                                 .timestamp_unixtime_ms = MP_INT(1523039002083),
                                                 .location = MP_STRING_NULL,
                                                 .hardware_id = MP_STRING_NULL}},
        },
    };
    expect_batch(&b, "{\"consent_state\":{\"gdpr\":{"
                     "\"location_collection\":{\"document\":\"location_collection_agreement_v4\","
                     "\"consented\":true,\"timestamp_unixtime_ms\":1523039002083,"
                     "\"location\":\"17 Cherry Tree Lane\","
                     "\"hardware_id\":\"IDFA:a5d934n0-232f-4afc-2e9a-3832d95zc702\"},"
                     "\"parental\":{\"regulation\":\"gdpr\",\"purpose\":\"parental\","
                     "\"document\":\"parental_consent_agreement_v2\",\"consented\":false,"
                     "\"timestamp_unixtime_ms\":1523039002083}},"
                     "\"ccpa\":{\"data_sale_opt_out\":{\"document\":null,\"consented\":true,"
                     "\"timestamp_unixtime_ms\":1523039002083,\"location\":null,"
                     "\"hardware_id\":null}}}}");
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

/* The 22 common keys, in order, on an event with no fields of its own. */
static void test_event_common_fields(void **state) {
    (void)state;
    mp_attribute custom_attributes[] = {{"Transaction Id", MP_V_STRING("foo")},
                                        {"count", MP_V_INT(3)}};
    mp_attribute custom_flags[] = {{"Google.Value", MP_V_STRING("123")}};
    mp_event ev = {
        .event_type = MP_EVENT_FIRST_RUN,
        .common = {
            .timestamp_unixtime_ms = MP_INT(1558342827953),
            .event_id = MP_INT(INT64_C(-6518616552181726857)),
            .source_message_id = "3DBFC52E-164F-405E-885E-2B448B301F83",
            .session_id = MP_INT(INT64_C(-2271448330363288817)),
            .session_uuid = "84E1B361-A282-4ADF-8A6D-1D31E6DD5A9E",
            .session_start_unixtime_ms = MP_INT(1558342828195),
            .event_start_unixtime_ms = MP_INT(0),
            .custom_attributes = MP_LIST(mp_attribute_list, custom_attributes),
            .location = &(mp_location){.latitude = MP_DOUBLE(51.5),
                                       .longitude = MP_DOUBLE(-0.125),
                                       .accuracy = MP_DOUBLE(5)},
            .device_current_state = &(mp_device_current_state){.battery_level = MP_DOUBLE(1)},
            .is_goal_defined = MP_FALSE,
            .lifetime_value_change = MP_DOUBLE(123),
            .lifetime_value_attribute_name = "ltv",
            .data_connection_type = "offline",
            .event_num = MP_INT(3),
            .view_controller = "off_thread",
            .is_main_thread = MP_TRUE,
            .canonical_name = "com.example.Main",
            .event_system_notification_info =
                &(mp_system_notification_info){.type = MP_SYSTEM_NOTIFICATION_GDPR_CHANGE},
            .custom_flags = MP_LIST(mp_attribute_list, custom_flags),
            .page_url = "https://example.com/a?b=c",
            .active_time_on_site_ms = MP_DOUBLE(1234.5),
        },
    };
    expect_event(&ev, "{\"data\":{\"timestamp_unixtime_ms\":1558342827953,"
                      "\"event_id\":-6518616552181726857,"
                      "\"source_message_id\":\"3DBFC52E-164F-405E-885E-2B448B301F83\","
                      "\"session_id\":-2271448330363288817,"
                      "\"session_uuid\":\"84E1B361-A282-4ADF-8A6D-1D31E6DD5A9E\","
                      "\"session_start_unixtime_ms\":1558342828195,"
                      "\"event_start_unixtime_ms\":0,"
                      "\"custom_attributes\":{\"Transaction Id\":\"foo\",\"count\":3},"
                      "\"location\":{\"latitude\":51.5,\"longitude\":-0.125,\"accuracy\":5},"
                      "\"device_current_state\":{\"battery_level\":1},"
                      "\"is_goal_defined\":false,\"lifetime_value_change\":123,"
                      "\"lifetime_value_attribute_name\":\"ltv\","
                      "\"data_connection_type\":\"offline\",\"event_num\":3,"
                      "\"view_controller\":\"off_thread\",\"is_main_thread\":true,"
                      "\"canonical_name\":\"com.example.Main\","
                      "\"event_system_notification_info\":{\"type\":\"gdpr_change\"},"
                      "\"custom_flags\":{\"Google.Value\":\"123\"},"
                      "\"page_url\":\"https://example.com/a?b=c\","
                      "\"active_time_on_site_ms\":1234.5},\"event_type\":\"first_run\"}");
}

static void test_device_current_state(void **state) {
    (void)state;
    mp_event ev = {
        .event_type = MP_EVENT_SESSION_START,
        .common.device_current_state = &(mp_device_current_state){
            .time_since_start_ms = MP_INT(1259),
            .battery_level = MP_DOUBLE(0.95),
            .data_connection_type = "wifi",
            .data_connection_type_detail = "hdspa",
            .gps_state = MP_FALSE,
            .total_system_memory_usage_bytes = MP_INT(31917297664),
            .disk_space_free_bytes = MP_INT(139796897792),
            .external_disk_space_free_bytes = MP_INT(0),
            .cpu = "106",
            .system_memory_available_bytes = MP_DOUBLE(72327168),
            .system_memory_low = MP_TRUE,
            .system_memory_threshold_bytes = MP_DOUBLE(150994944.5),
            .application_memory_available_bytes = MP_DOUBLE(0),
            .application_memory_max_bytes = MP_DOUBLE(402653184),
            .application_memory_total_bytes = MP_DOUBLE(1.5e9),
            .device_orientation = MP_ORIENTATION_LANDSCAPE_LEFT,
            .status_bar_orientation = MP_ORIENTATION_SQUARE_LOWERCASE,
        },
    };
    expect_event(&ev, "{\"data\":{\"device_current_state\":{\"time_since_start_ms\":1259,"
                      "\"battery_level\":0.95,\"data_connection_type\":\"wifi\","
                      "\"data_connection_type_detail\":\"hdspa\",\"gps_state\":false,"
                      "\"total_system_memory_usage_bytes\":31917297664,"
                      "\"disk_space_free_bytes\":139796897792,"
                      "\"external_disk_space_free_bytes\":0,\"cpu\":\"106\","
                      "\"system_memory_available_bytes\":72327168,\"system_memory_low\":true,"
                      "\"system_memory_threshold_bytes\":150994944.5,"
                      "\"application_memory_available_bytes\":0,"
                      "\"application_memory_max_bytes\":402653184,"
                      "\"application_memory_total_bytes\":1500000000,"
                      "\"device_orientation\":\"LandscapeLeft\","
                      "\"status_bar_orientation\":\"square\"}},"
                      "\"event_type\":\"session_start\"}");
}

/* All 19 event types with their minimal data: each envelope on its own,
 * then all of them in one batch. */
static void test_event_envelopes(void **state) {
    (void)state;
    static const mp_user_identity email = {.identity_type = MP_IDENTITY_EMAIL,
                                           .identity = "a@b.c",
                                           .timestamp_unixtime_ms = {MP_PRESENT, 1}};
    const struct {
        mp_event ev;
        const char *json;
    } cases[] = {
        {{.event_type = MP_EVENT_SESSION_START, .common = {.session_id = MP_INT(1)}},
         "{\"data\":{\"session_id\":1},\"event_type\":\"session_start\"}"},
        {{.event_type = MP_EVENT_SESSION_END, .session_end = {.session_duration_ms = MP_INT(421)}},
         "{\"data\":{\"session_duration_ms\":421},\"event_type\":\"session_end\"}"},
        {{.event_type = MP_EVENT_SCREEN_VIEW, .screen_view = {.screen_name = "Home"}},
         "{\"data\":{\"screen_name\":\"Home\"},\"event_type\":\"screen_view\"}"},
        {{.event_type = MP_EVENT_CUSTOM_EVENT,
          .custom_event = {.custom_event_type = MP_CUSTOM_EVENT_TYPE_NAVIGATION,
                           .event_name = "Tap"}},
         "{\"data\":{\"custom_event_type\":\"navigation\",\"event_name\":\"Tap\"},"
         "\"event_type\":\"custom_event\"}"},
        {{.event_type = MP_EVENT_CRASH_REPORT, .crash_report = {.message = "boom"}},
         "{\"data\":{\"message\":\"boom\"},\"event_type\":\"crash_report\"}"},
        {{.event_type = MP_EVENT_OPT_OUT, .opt_out = {.is_opted_out = MP_FALSE}},
         "{\"data\":{\"is_opted_out\":false},\"event_type\":\"opt_out\"}"},
        {{.event_type = MP_EVENT_FIRST_RUN}, "{\"data\":{},\"event_type\":\"first_run\"}"},
        {{.event_type = MP_EVENT_PRE_ATTRIBUTION},
         "{\"data\":{},\"event_type\":\"pre_attribution\"}"},
        {{.event_type = MP_EVENT_PUSH_REGISTRATION,
          .push_registration = {.register_ = MP_FALSE, .registration_token = "tok"}},
         "{\"data\":{\"register\":false,\"registration_token\":\"tok\"},"
         "\"event_type\":\"push_registration\"}"},
        {{.event_type = MP_EVENT_APPLICATION_STATE_TRANSITION,
          .application_state_transition = {.application_transition_type =
                                               MP_APPLICATION_TRANSITION_BACKGROUND}},
         "{\"data\":{\"application_transition_type\":\"application_background\"},"
         "\"event_type\":\"application_state_transition\"}"},
        {{.event_type = MP_EVENT_PUSH_MESSAGE,
          .push_message = {.push_message_token = "t",
                           .push_message_type = MP_PUSH_MESSAGE_TYPE_RECEIVED,
                           .push_notification_payload = "{}"}},
         "{\"data\":{\"push_message_token\":\"t\",\"push_message_type\":\"received\","
         "\"push_notification_payload\":\"{}\"},\"event_type\":\"push_message\"}"},
        {{.event_type = MP_EVENT_NETWORK_PERFORMANCE,
          .network_performance = {.url = "https://x", .response_code = MP_INT(200)}},
         "{\"data\":{\"url\":\"https://x\",\"response_code\":200},"
         "\"event_type\":\"network_performance\"}"},
        {{.event_type = MP_EVENT_BREADCRUMB, .breadcrumb = {.label = "step"}},
         "{\"data\":{\"label\":\"step\"},\"event_type\":\"breadcrumb\"}"},
        {{.event_type = MP_EVENT_PROFILE,
          .profile = {.previous_mpid = MP_INT(0),
                      .current_mpid = MP_INT(-42),
                      .profile_event_type = MP_PROFILE_EVENT_LOGIN}},
         "{\"data\":{\"previous_mpid\":0,\"current_mpid\":-42,\"profile_event_type\":\"login\"},"
         "\"event_type\":\"profile\"}"},
        {{.event_type = MP_EVENT_PUSH_REACTION}, "{\"data\":{},\"event_type\":\"push_reaction\"}"},
        {{.event_type = MP_EVENT_COMMERCE_EVENT, .commerce_event = {.currency_code = "USD"}},
         "{\"data\":{\"currency_code\":\"USD\"},\"event_type\":\"commerce_event\"}"},
        {{.event_type = MP_EVENT_USER_ATTRIBUTE_CHANGE,
          .user_attribute_change = {.user_attribute_name = "tier",
                                    .new_ = MP_V_STRING("gold"),
                                    .old = MP_V_NULL}},
         "{\"data\":{\"user_attribute_name\":\"tier\",\"new\":\"gold\",\"old\":null},"
         "\"event_type\":\"user_attribute_change\"}"},
        {{.event_type = MP_EVENT_USER_IDENTITY_CHANGE,
          .user_identity_change = {.new_ = &email, .old = MP_NULL_OF(mp_user_identity)}},
         "{\"data\":{\"new\":{\"identity_type\":\"email\",\"identity\":\"a@b.c\","
         "\"timestamp_unixtime_ms\":1},\"old\":null},\"event_type\":\"user_identity_change\"}"},
        {{.event_type = MP_EVENT_UNINSTALL}, "{\"data\":{},\"event_type\":\"uninstall\"}"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    assert_int_equal(N, 19);

    mp_event all[N];
    char joined[4096] = "";
    for (size_t i = 0; i < N; i++) {
        expect_event(&cases[i].ev, cases[i].json);
        all[i] = cases[i].ev;
        if (i)
            strcat(joined, ",");
        strcat(joined, cases[i].json);
    }
    expect_events(all, N, joined);
}

static void test_custom_event_with_media_info(void **state) {
    (void)state;
    mp_event ev = {
        .event_type = MP_EVENT_CUSTOM_EVENT,
        .custom_event = {
            .custom_event_type = MP_CUSTOM_EVENT_TYPE_ATTRIBUTION,
            .event_name = "attribution",
            .media_info = &(mp_media_info){.action = MP_MEDIA_ACTION_UPDATE_PLAYBACK_POSITION,
                                           .channel = "ch",
                                           .metadata = "{\"a\":1}",
                                           .timed_metadata = "tm",
                                           .playback_position = MP_DOUBLE(12.25),
                                           .format = MP_MEDIA_FORMAT_VIDEO,
                                           .quality = MP_MEDIA_QUALITY_ULTRA_HD,
                                           .playback_rate = MP_DOUBLE(1.5)},
        },
    };
    expect_event(&ev, "{\"data\":{\"custom_event_type\":\"attribution\","
                      "\"event_name\":\"attribution\",\"media_info\":{"
                      "\"action\":\"update_playback_position\",\"channel\":\"ch\","
                      "\"metadata\":\"{\\\"a\\\":1}\",\"timed_metadata\":\"tm\","
                      "\"playback_position\":12.25,\"format\":\"video\","
                      "\"quality\":\"ultra_hd\",\"playback_rate\":1.5}},"
                      "\"event_type\":\"custom_event\"}");
}

/* Common fields come first: screen_view's custom_flags precede screen_name. */
static void test_screen_view(void **state) {
    (void)state;
    mp_attribute flags[] = {{"flag", MP_V_STRING("on")}};
    mp_event ev = {
        .event_type = MP_EVENT_SCREEN_VIEW,
        .common = {.custom_flags = MP_LIST(mp_attribute_list, flags)},
        .screen_view = {.screen_name = "Home", .activity_type = "activity_started"},
    };
    expect_event(&ev, "{\"data\":{\"custom_flags\":{\"flag\":\"on\"},\"screen_name\":\"Home\","
                      "\"activity_type\":\"activity_started\"},\"event_type\":\"screen_view\"}");
}

#define PRODUCT_JSON                                                                          \
    "{\"id\":\"SKU-1\",\"name\":\"Widget\",\"brand\":\"Acme\",\"category\":\"Tools\","        \
    "\"variant\":\"blue\",\"position\":1,\"price\":19.99,\"quantity\":1.5,"                   \
    "\"coupon_code\":\"P10\",\"added_to_cart_time_ms\":1558388284150,"                        \
    "\"total_product_amount\":29.985,\"custom_attributes\":{\"color\":\"blue\"}}"

/* Every field of product, product_action and shopping_cart, and every
 * commerce_event field around them. */
static void test_commerce_product_action(void **state) {
    (void)state;
    mp_string_pair product_attributes[] = {{"color", "blue"}};
    mp_product products[] = {{
        .id = "SKU-1",
        .name = "Widget",
        .brand = "Acme",
        .category = "Tools",
        .variant = "blue",
        .position = MP_INT(1),
        .price = MP_DOUBLE(19.99),
        .quantity = MP_DOUBLE(1.5),
        .coupon_code = "P10",
        .added_to_cart_time_ms = MP_INT(1558388284150),
        .total_product_amount = MP_DOUBLE(29.985),
        .custom_attributes = MP_LIST(mp_string_map, product_attributes),
    }};
    mp_product_action action = {
        .action = MP_PRODUCT_ACTION_REMOVE_FROM_WISHLIST,
        .checkout_step = MP_INT(2),
        .checkout_options = "express",
        .product_action_list = "search results",
        .product_list_source = "home",
        .transaction_id = "T-1",
        .affiliation = "store",
        .total_amount = MP_DOUBLE(123.12),
        .tax_amount = MP_DOUBLE(0),
        .shipping_amount = MP_DOUBLE(4.99),
        .coupon_code = "SAVE",
        .products = MP_LIST(mp_product_list, products),
    };
    mp_event ev = {
        .event_type = MP_EVENT_COMMERCE_EVENT,
        .commerce_event = {
            .product_action = &action,
            .shopping_cart = &(mp_shopping_cart){.products = MP_LIST(mp_product_list, products)},
            .currency_code = "USD",
            .screen_name = "Cart",
            .is_non_interactive = MP_FALSE,
            .event_name = "eCommerce - Purchase",
            .custom_event_type = MP_COMMERCE_EVENT_TYPE_REMOVE_FROM_WISHLIST,
        },
    };
    expect_event(&ev, "{\"data\":{\"product_action\":{\"action\":\"remove_from_wish_list\","
                      "\"checkout_step\":2,\"checkout_options\":\"express\","
                      "\"product_action_list\":\"search results\","
                      "\"product_list_source\":\"home\",\"transaction_id\":\"T-1\","
                      "\"affiliation\":\"store\",\"total_amount\":123.12,\"tax_amount\":0,"
                      "\"shipping_amount\":4.99,\"coupon_code\":\"SAVE\","
                      "\"products\":[" PRODUCT_JSON "]},"
                      "\"shopping_cart\":{\"products\":[" PRODUCT_JSON "]},"
                      "\"currency_code\":\"USD\",\"screen_name\":\"Cart\","
                      "\"is_non_interactive\":false,\"event_name\":\"eCommerce - Purchase\","
                      "\"custom_event_type\":\"remove_from_wishlist\"},"
                      "\"event_type\":\"commerce_event\"}");
}

static void test_commerce_promotion_and_impressions(void **state) {
    (void)state;
    mp_promotion promotions[] = {
        {.id = "PROMO-1", .name = "Spring", .creative = "banner", .position = "top"},
        {.id = "PROMO-2"},
    };
    mp_product seen[] = {{.id = "A"}, {.id = "B", .position = MP_INT(2)}};
    mp_product_impression impressions[] = {
        {.product_impression_list = "Search", .products = MP_LIST(mp_product_list, seen)},
        {.product_impression_list = "Empty", .products = {seen, 0}},
    };
    mp_event events[] = {
        {.event_type = MP_EVENT_COMMERCE_EVENT,
         .commerce_event = {.promotion_action = &(mp_promotion_action){
                                .action = MP_PROMOTION_ACTION_CLICK,
                                .promotions = MP_LIST(mp_promotion_list, promotions)}}},
        {.event_type = MP_EVENT_COMMERCE_EVENT,
         .commerce_event = {.product_impressions =
                                MP_LIST(mp_product_impression_list, impressions)}},
    };
    expect_events(events, 2,
                  "{\"data\":{\"promotion_action\":{\"action\":\"click\",\"promotions\":["
                  "{\"id\":\"PROMO-1\",\"name\":\"Spring\",\"creative\":\"banner\","
                  "\"position\":\"top\"},{\"id\":\"PROMO-2\"}]}},"
                  "\"event_type\":\"commerce_event\"},"
                  "{\"data\":{\"product_impressions\":["
                  "{\"product_impression_list\":\"Search\","
                  "\"products\":[{\"id\":\"A\"},{\"id\":\"B\",\"position\":2}]},"
                  "{\"product_impression_list\":\"Empty\",\"products\":[]}]},"
                  "\"event_type\":\"commerce_event\"}");
}

static void test_other_event_fields(void **state) {
    (void)state;
    const char *const crumbs[] = {"opened app", "tapped buy"};
    mp_event events[] = {
        {.event_type = MP_EVENT_CRASH_REPORT,
         .crash_report = {.breadcrumbs = MP_LIST(mp_string_list, crumbs),
                          .class_name = "NSInvalidArgumentException",
                          .severity = "fatal",
                          .message = "boom",
                          .stack_trace = "at main()\n",
                          .exception_handled = MP_FALSE,
                          .topmost_context = "ctx",
                          .pl_crash_report_file_base64 = "AAEC",
                          .ios_image_base_address = MP_INT(4295507968),
                          .ios_image_size = MP_INT(0),
                          .session_number = MP_INT(2)}},
        {.event_type = MP_EVENT_APPLICATION_STATE_TRANSITION,
         .application_state_transition = {.successfully_closed = MP_TRUE,
                                          .is_first_run = MP_FALSE,
                                          .is_upgrade = MP_TRUE,
                                          .push_notification_payload = "{\"aps\":{}}",
                                          .launch_referral = "https://ref",
                                          .application_transition_type =
                                              MP_APPLICATION_TRANSITION_INITIALIZED}},
        {.event_type = MP_EVENT_PUSH_MESSAGE,
         .push_message = {.push_message_token = "tok",
                          .push_message_type = MP_PUSH_MESSAGE_TYPE_ACTION,
                          .message = "Hi",
                          .network = "apn",
                          .push_notification_payload = "{}",
                          .application_state = MP_APPLICATION_STATE_NOT_RUNNING,
                          .action_identifier = "open",
                          .push_message_behavior = MP_PUSH_MESSAGE_BEHAVIOR_DIRECT_OPEN}},
        {.event_type = MP_EVENT_NETWORK_PERFORMANCE,
         .network_performance = {.http_verb = "GET",
                                 .url = "http://www.example.com",
                                 .time_elapsed = MP_INT(1000),
                                 .bytes_in = MP_INT(1234),
                                 .bytes_out = MP_INT(0),
                                 .response_code = MP_INT(404),
                                 .data = "aGk="}},
        {.event_type = MP_EVENT_BREADCRUMB,
         .breadcrumb = {.session_number = MP_INT(2), .label = "Example breadcrumb"}},
        {.event_type = MP_EVENT_PROFILE,
         .profile = {.previous_mpid = MP_INT(INT64_C(-7636538281262557000)),
                     .current_mpid = MP_INT(INT64_C(7346244611012968789)),
                     .profile_event_type = MP_PROFILE_EVENT_DELETE,
                     .profile_name = "main",
                     .previous_profile_name = "guest"}},
        {.event_type = MP_EVENT_PUSH_REGISTRATION,
         .push_registration = {.register_ = MP_TRUE, .registration_token = "foo instance id"}},
        {.event_type = MP_EVENT_OPT_OUT, .opt_out = {.is_opted_out = MP_TRUE}},
        {.event_type = MP_EVENT_SESSION_END, .session_end = {.session_duration_ms = MP_INT(0)}},
    };
    expect_events(events, sizeof events / sizeof events[0],
                  "{\"data\":{\"breadcrumbs\":[\"opened app\",\"tapped buy\"],"
                  "\"class_name\":\"NSInvalidArgumentException\",\"severity\":\"fatal\","
                  "\"message\":\"boom\",\"stack_trace\":\"at main()\\n\","
                  "\"exception_handled\":false,\"topmost_context\":\"ctx\","
                  "\"pl_crash_report_file_base64\":\"AAEC\","
                  "\"ios_image_base_address\":4295507968,\"ios_image_size\":0,"
                  "\"session_number\":2},\"event_type\":\"crash_report\"},"
                  "{\"data\":{\"successfully_closed\":true,\"is_first_run\":false,"
                  "\"is_upgrade\":true,\"push_notification_payload\":\"{\\\"aps\\\":{}}\","
                  "\"launch_referral\":\"https://ref\","
                  "\"application_transition_type\":\"application_initialized\"},"
                  "\"event_type\":\"application_state_transition\"},"
                  "{\"data\":{\"push_message_token\":\"tok\",\"push_message_type\":\"action\","
                  "\"message\":\"Hi\",\"network\":\"apn\",\"push_notification_payload\":\"{}\","
                  "\"application_state\":\"not_running\",\"action_identifier\":\"open\","
                  "\"push_message_behavior\":\"DirectOpen\"},\"event_type\":\"push_message\"},"
                  "{\"data\":{\"http_verb\":\"GET\",\"url\":\"http://www.example.com\","
                  "\"time_elapsed\":1000,\"bytes_in\":1234,\"bytes_out\":0,"
                  "\"response_code\":404,\"data\":\"aGk=\"},"
                  "\"event_type\":\"network_performance\"},"
                  "{\"data\":{\"session_number\":2,\"label\":\"Example breadcrumb\"},"
                  "\"event_type\":\"breadcrumb\"},"
                  "{\"data\":{\"previous_mpid\":-7636538281262557000,"
                  "\"current_mpid\":7346244611012968789,\"profile_event_type\":\"delete\","
                  "\"profile_name\":\"main\",\"previous_profile_name\":\"guest\"},"
                  "\"event_type\":\"profile\"},"
                  "{\"data\":{\"register\":true,\"registration_token\":\"foo instance id\"},"
                  "\"event_type\":\"push_registration\"},"
                  "{\"data\":{\"is_opted_out\":true},\"event_type\":\"opt_out\"},"
                  "{\"data\":{\"session_duration_ms\":0},\"event_type\":\"session_end\"}");
}

/* new and old as a string, a list, an empty list and null. */
static void test_user_attribute_change(void **state) {
    (void)state;
    mp_value tags[] = {MP_V_STRING("a"), MP_V_STRING("b")};
    mp_event events[] = {
        {.event_type = MP_EVENT_USER_ATTRIBUTE_CHANGE,
         .user_attribute_change = {.user_attribute_name = "Test attribute",
                                   .new_ = MP_V_STRING("Test value"),
                                   .old = MP_V_NULL,
                                   .deleted = MP_FALSE,
                                   .is_new_attribute = MP_TRUE}},
        {.event_type = MP_EVENT_USER_ATTRIBUTE_CHANGE,
         .user_attribute_change = {.user_attribute_name = "tags",
                                   .new_ = MP_V_LIST(tags),
                                   .old = MP_V_STRING("a")}},
        {.event_type = MP_EVENT_USER_ATTRIBUTE_CHANGE,
         .user_attribute_change = {.user_attribute_name = "tags",
                                   .new_ = MP_V_NULL,
                                   .old = {MP_VALUE_LIST, {.list = {no_values, 0}}},
                                   .deleted = MP_TRUE}},
    };
    expect_events(events, 3,
                  "{\"data\":{\"user_attribute_name\":\"Test attribute\",\"new\":\"Test value\","
                  "\"old\":null,\"deleted\":false,\"is_new_attribute\":true},"
                  "\"event_type\":\"user_attribute_change\"},"
                  "{\"data\":{\"user_attribute_name\":\"tags\",\"new\":[\"a\",\"b\"],"
                  "\"old\":\"a\"},\"event_type\":\"user_attribute_change\"},"
                  "{\"data\":{\"user_attribute_name\":\"tags\",\"new\":null,\"old\":[],"
                  "\"deleted\":true},\"event_type\":\"user_attribute_change\"}");
}

static void test_user_identity_change(void **state) {
    (void)state;
    mp_user_identity added = {.identity_type = MP_IDENTITY_OTHER_ID_10,
                              .identity = "x",
                              .timestamp_unixtime_ms = MP_INT(1558342828608),
                              .created_this_batch = MP_TRUE};
    mp_user_identity new_phone = {.identity_type = MP_IDENTITY_PHONE_NUMBER_3,
                                  .identity = "+15551234567",
                                  .timestamp_unixtime_ms = MP_INT(2)};
    mp_user_identity old_customer = {.identity_type = MP_IDENTITY_CUSTOMER_ID,
                                     .identity = "123456",
                                     .timestamp_unixtime_ms = MP_INT(1),
                                     .created_this_batch = MP_FALSE};
    mp_event events[] = {
        {.event_type = MP_EVENT_USER_IDENTITY_CHANGE,
         .user_identity_change = {.new_ = &added, .old = MP_NULL_OF(mp_user_identity)}},
        {.event_type = MP_EVENT_USER_IDENTITY_CHANGE,
         .user_identity_change = {.new_ = &new_phone, .old = &old_customer}},
    };
    expect_events(events, 2,
                  "{\"data\":{\"new\":{\"identity_type\":\"other_id_10\",\"identity\":\"x\","
                  "\"timestamp_unixtime_ms\":1558342828608,\"created_this_batch\":true},"
                  "\"old\":null},\"event_type\":\"user_identity_change\"},"
                  "{\"data\":{\"new\":{\"identity_type\":\"phone_number_3\","
                  "\"identity\":\"+15551234567\",\"timestamp_unixtime_ms\":2},"
                  "\"old\":{\"identity_type\":\"customer_id\",\"identity\":\"123456\","
                  "\"timestamp_unixtime_ms\":1,\"created_this_batch\":false}},"
                  "\"event_type\":\"user_identity_change\"}");
}

/* ------------------------------------------------------------------------ */
/* Presence, numbers and strings                                            */
/* ------------------------------------------------------------------------ */

/* Absent is omitted; 0 and false are written; every kind of null is null;
 * present-but-empty lists and maps are [] and {}. */
static void test_presence(void **state) {
    (void)state;
    mp_batch b = {
        .source_request_id = MP_STRING_NULL,
        .context = &(mp_batch_context){0},
        .events = {MP_NULL_OF(mp_event), 0},
        .device_info = MP_NULL_OF(mp_device_info),
        .application_info = &(mp_application_info){.apple_search_ads_attributes = {no_maps, 0},
                                                   .sideloaded_kits_count = MP_DOUBLE_NULL},
        .user_attributes = {no_attributes, 0},
        .deleted_user_attributes = {MP_NULL_OF(char *const), 0},
        .api_keys = {no_strings, 0},
        .integration_attributes = {MP_NULL_OF(mp_string_map_entry), 0},
        .partner_identities = {no_pairs, 0},
        .source_info = &(mp_source_info){.is_historical = MP_BOOL_NULL},
        .mpid = MP_INT(0),
        .consent_state = &(mp_consent_state){.gdpr = {no_purposes, 0}},
        .origin_mpid = MP_INT_NULL,
        .modified = MP_FALSE,
    };
    expect_batch(&b, "{\"source_request_id\":null,\"context\":{},\"events\":null,"
                     "\"device_info\":null,\"application_info\":{"
                     "\"apple_search_ads_attributes\":{},\"sideloaded_kits_count\":null},"
                     "\"user_attributes\":{},\"deleted_user_attributes\":null,\"api_keys\":[],"
                     "\"integration_attributes\":null,\"partner_identities\":{},"
                     "\"source_info\":{\"is_historical\":null},\"mpid\":0,"
                     "\"consent_state\":{\"gdpr\":{}},\"origin_mpid\":null,\"modified\":false}");
}

/* Nulls inside events: attributes map, list, object, enum-less event data. */
static void test_presence_in_events(void **state) {
    (void)state;
    mp_attribute attributes[] = {{"tag", MP_V_NULL}, {"zero", MP_V_INT(0)}, {"no", MP_V_BOOL(0)}};
    mp_event events[] = {
        {.event_type = MP_EVENT_CUSTOM_EVENT,
         .common = {.custom_attributes = MP_LIST(mp_attribute_list, attributes),
                    .location = MP_NULL_OF(mp_location),
                    .custom_flags = {MP_NULL_OF(mp_attribute), 0},
                    .lifetime_value_change = MP_DOUBLE(0)},
         .custom_event = {.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER,
                          .event_name = "",
                          .media_info = MP_NULL_OF(mp_media_info)}},
        {.event_type = MP_EVENT_CRASH_REPORT,
         .crash_report = {.breadcrumbs = {MP_NULL_OF(char *const), 0},
                          .class_name = MP_STRING_NULL,
                          .session_number = MP_INT_NULL}},
    };
    expect_events(events, 2,
                  "{\"data\":{\"custom_attributes\":{\"tag\":null,\"zero\":0,\"no\":false},"
                  "\"location\":null,\"lifetime_value_change\":0,\"custom_flags\":null,"
                  "\"custom_event_type\":\"other\",\"event_name\":\"\",\"media_info\":null},"
                  "\"event_type\":\"custom_event\"},"
                  "{\"data\":{\"breadcrumbs\":null,\"class_name\":null,\"session_number\":null},"
                  "\"event_type\":\"crash_report\"}");
}

static void test_int64_extremes(void **state) {
    (void)state;
    mp_attribute attributes[] = {{"min", MP_V_INT(INT64_MIN)}, {"max", MP_V_INT(INT64_MAX)},
                                 {"minus_one", MP_V_INT(-1)}};
    mp_batch b = {
        .user_attributes = MP_LIST(mp_attribute_list, attributes),
        .timestamp_unixtime_ms = MP_INT(-1),
        .batch_id = MP_INT(0),
        .mpid = MP_INT(INT64_MIN),
        .origin_mpid = MP_INT(INT64_MAX),
        .schema_version = MP_INT(INT64_C(9007199254740993)),
    };
    expect_batch(&b, "{\"user_attributes\":{\"min\":-9223372036854775808,"
                     "\"max\":9223372036854775807,\"minus_one\":-1},"
                     "\"timestamp_unixtime_ms\":-1,\"batch_id\":0,"
                     "\"mpid\":-9223372036854775808,\"origin_mpid\":9223372036854775807,"
                     "\"schema_version\":9007199254740993}");
}

/* Shortest round-trip doubles in the Go/JavaScript layout. */
static void test_doubles(void **state) {
    (void)state;
    mp_attribute values[] = {
        {"a", MP_V_DOUBLE(19.99)},  {"b", MP_V_DOUBLE(123.12)}, {"c", MP_V_DOUBLE(1e21)},
        {"d", MP_V_DOUBLE(1e-7)},   {"e", MP_V_DOUBLE(0.1)},    {"f", MP_V_DOUBLE(-0.0)},
        {"g", MP_V_DOUBLE(1e20)},   {"h", MP_V_DOUBLE(5e-324)}, {"i", MP_V_DOUBLE(1e-6)},
        {"j", MP_V_DOUBLE(1.7976931348623157e308)},              {"k", MP_V_DOUBLE(-1.5e-10)},
        {"l", MP_V_DOUBLE(100.0)},  {"m", MP_V_DOUBLE(0.30000000000000004)},
        {"n", MP_V_DOUBLE(1.0 / 3.0)},
    };
    mp_event events[] = {{.event_type = MP_EVENT_FIRST_RUN,
                          .common = {.lifetime_value_change = MP_DOUBLE(-123.45),
                                     .active_time_on_site_ms = MP_DOUBLE(2.5e-8)}}};
    mp_batch b = {.events = MP_LIST(mp_event_list, events),
                  .user_attributes = MP_LIST(mp_attribute_list, values)};
    expect_batch(&b, "{\"events\":[{\"data\":{\"lifetime_value_change\":-123.45,"
                     "\"active_time_on_site_ms\":2.5e-8},\"event_type\":\"first_run\"}],"
                     "\"user_attributes\":{\"a\":19.99,\"b\":123.12,\"c\":1e+21,\"d\":1e-7,"
                     "\"e\":0.1,\"f\":-0,\"g\":100000000000000000000,\"h\":5e-324,"
                     "\"i\":0.000001,\"j\":1.7976931348623157e+308,\"k\":-1.5e-10,\"l\":100,"
                     "\"m\":0.30000000000000004,\"n\":0.3333333333333333}}");
}

/* Quote, backslash and control characters are escaped (the short forms
 * where JSON has one, else \u00XX); "/", DEL, é, emoji and U+2028 go raw. */
static void test_string_escaping(void **state) {
    (void)state;
    mp_attribute attributes[] = {
        {"Account \"type\"", MP_V_STRING("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f"
                                         "\xc3\xa9"          /* é */
                                         "\xf0\x9f\x98\x80"  /* U+1F600 */
                                         "\xe2\x80\xa8")},   /* U+2028 */
        {"caf\xc3\xa9", MP_V_STRING("")},
    };
    mp_batch b = {.source_request_id = "tab\there",
                  .user_attributes = MP_LIST(mp_attribute_list, attributes)};
    expect_batch(&b, "{\"source_request_id\":\"tab\\there\",\"user_attributes\":{"
                     "\"Account \\\"type\\\"\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"
                     "\xc3\xa9"
                     "\xf0\x9f\x98\x80"
                     "\xe2\x80\xa8\","
                     "\"caf\xc3\xa9\":\"\"}}");
}

/* Every mp_value type in an attribute map, lists of mixed scalars, and an
 * attribute without a value (MP_VALUE_ABSENT), which is skipped. */
static void test_attribute_values(void **state) {
    (void)state;
    mp_value mixed[] = {MP_V_STRING("x"), MP_V_INT(-7), MP_V_DOUBLE(2.5), MP_V_BOOL(1),
                        MP_V_NULL};
    mp_attribute attributes[] = {
        {"s", MP_V_STRING("v")},
        {"i", MP_V_INT(42)},
        {"d", MP_V_DOUBLE(0.5)},
        {"t", MP_V_BOOL(1)},
        {"f", MP_V_BOOL(0)},
        {"n", MP_V_NULL},
        {"skipped", {0}},
        {"l", MP_V_LIST(mixed)},
        {"e", {MP_VALUE_LIST, {.list = {no_values, 0}}}},
    };
    mp_batch b = {.user_attributes = MP_LIST(mp_attribute_list, attributes)};
    expect_batch(&b, "{\"user_attributes\":{\"s\":\"v\",\"i\":42,\"d\":0.5,\"t\":true,"
                     "\"f\":false,\"n\":null,\"l\":[\"x\",-7,2.5,true,null],\"e\":[]}}");
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static void test_invalid_utf8_names_the_path(void **state) {
    (void)state;
    mp_attribute attributes[] = {{"ok", MP_V_STRING("fine")}, {"foo", MP_V_STRING("ab\xff")}};
    mp_event custom[] = {{.event_type = MP_EVENT_CUSTOM_EVENT,
                          .common = {.custom_attributes = MP_LIST(mp_attribute_list, attributes)},
                          .custom_event = {.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER,
                                           .event_name = "e"}}};
    mp_batch b = {.environment = MP_ENVIRONMENT_PRODUCTION,
                  .events = MP_LIST(mp_event_list, custom)};
    expect_error(&b, MP_ERR_INVALID_UTF8, "events[0].data.custom_attributes.foo");

    /* A truncated 3-byte sequence deep in a product, and a surrogate (CESU-8) in a list. */
    mp_product products[] = {{.id = "a"}, {.id = "b", .name = "x\xe2\x82"}};
    mp_product_action action = {.action = MP_PRODUCT_ACTION_PURCHASE,
                                .products = MP_LIST(mp_product_list, products)};
    mp_event commerce[] = {{.event_type = MP_EVENT_SESSION_START},
                           {.event_type = MP_EVENT_COMMERCE_EVENT,
                            .commerce_event = {.product_action = &action}}};
    mp_batch c = {.events = MP_LIST(mp_event_list, commerce)};
    expect_error(&c, MP_ERR_INVALID_UTF8, "events[1].data.product_action.products[1].name");

    const char *const deleted[] = {"fine", "\xed\xa0\x80"};
    mp_batch d = {.deleted_user_attributes = MP_LIST(mp_string_list, deleted)};
    expect_error(&d, MP_ERR_INVALID_UTF8, "deleted_user_attributes[1]");

    mp_batch e = {.user_identities = &(mp_user_identities){.email = "\xc0\xaf"}};
    expect_error(&e, MP_ERR_INVALID_UTF8, "user_identities.email");
}

static void test_nan_and_infinity(void **state) {
    (void)state;
    mp_event ltv[] = {{.event_type = MP_EVENT_CUSTOM_EVENT,
                       .common = {.lifetime_value_change = MP_DOUBLE(NAN)}}};
    mp_batch a = {.events = MP_LIST(mp_event_list, ltv)};
    expect_error(&a, MP_ERR_NOT_FINITE, "events[0].data.lifetime_value_change");

    mp_product products[] = {{.id = "p", .price = MP_DOUBLE(INFINITY)}};
    mp_product_action action = {.action = MP_PRODUCT_ACTION_PURCHASE,
                                .products = MP_LIST(mp_product_list, products)};
    mp_event commerce[] = {{.event_type = MP_EVENT_COMMERCE_EVENT,
                            .commerce_event = {.product_action = &action}}};
    mp_batch b = {.events = MP_LIST(mp_event_list, commerce)};
    expect_error(&b, MP_ERR_NOT_FINITE, "events[0].data.product_action.products[0].price");

    mp_value list[] = {MP_V_DOUBLE(1), MP_V_DOUBLE(-INFINITY)};
    mp_attribute attributes[] = {{"score", MP_V_DOUBLE(-INFINITY)}};
    mp_batch c = {.user_attributes = MP_LIST(mp_attribute_list, attributes)};
    expect_error(&c, MP_ERR_NOT_FINITE, "user_attributes.score");
    mp_attribute listed[] = {{"scores", MP_V_LIST(list)}};
    mp_batch d = {.user_attributes = MP_LIST(mp_attribute_list, listed)};
    expect_error(&d, MP_ERR_NOT_FINITE, "user_attributes.scores[1]");

    mp_batch e = {.context = &(mp_batch_context){
                      .location = &(mp_location){.latitude = MP_DOUBLE(-NAN)}}};
    expect_error(&e, MP_ERR_NOT_FINITE, "context.location.latitude");
}

static void test_enum_out_of_range(void **state) {
    (void)state;
    mp_batch a = {.device_info = &(mp_device_info){.platform = (mp_platform)99}};
    expect_error(&a, MP_ERR_ENUM, "device_info.platform");
    mp_batch b = {.device_info = &(mp_device_info){.platform = (mp_platform)-1}};
    expect_error(&b, MP_ERR_ENUM, "device_info.platform");
    mp_batch c = {.environment = (mp_environment)(MP_ENVIRONMENT_UNKNOWN + 1)};
    expect_error(&c, MP_ERR_ENUM, "environment");

    /* One past the last product action. */
    mp_product_action action = {
        .action = (mp_product_action_type)(MP_PRODUCT_ACTION_REMOVE_FROM_WISHLIST + 1)};
    mp_event commerce[] = {{.event_type = MP_EVENT_COMMERCE_EVENT,
                            .commerce_event = {.product_action = &action}}};
    mp_batch d = {.events = MP_LIST(mp_event_list, commerce)};
    expect_error(&d, MP_ERR_ENUM, "events[0].data.product_action.action");
}

static void test_event_type_missing_or_unknown(void **state) {
    (void)state;
    mp_event events[] = {{.event_type = MP_EVENT_SESSION_START}, {.screen_view = {"Home", NULL}}};
    mp_batch a = {.events = MP_LIST(mp_event_list, events)};
    expect_error(&a, MP_ERR_INVALID_ARGUMENT, "events[1].event_type");
    events[1].event_type = (mp_event_type)(MP_EVENT_UNINSTALL + 1);
    expect_error(&a, MP_ERR_ENUM, "events[1].event_type");
}

static void test_null_pointers_in_maps_and_lists(void **state) {
    (void)state;
    mp_attribute unnamed[] = {{"a", MP_V_INT(1)}, {NULL, MP_V_INT(2)}};
    mp_batch a = {.user_attributes = MP_LIST(mp_attribute_list, unnamed)};
    expect_error(&a, MP_ERR_INVALID_ARGUMENT, "user_attributes[1]");

    const char *const holes[] = {"a", NULL};
    mp_batch b = {.api_keys = MP_LIST(mp_string_list, holes)};
    expect_error(&b, MP_ERR_INVALID_ARGUMENT, "api_keys[1]");

    mp_gdpr_purpose gdpr[] = {{NULL, {.consented = MP_TRUE}}};
    mp_batch c = {
        .consent_state = &(mp_consent_state){.gdpr = MP_LIST(mp_gdpr_purpose_list, gdpr)}};
    expect_error(&c, MP_ERR_INVALID_ARGUMENT, "consent_state.gdpr[0]");

    mp_buffer *buf = mp_buffer_new(0);
    mp_batch empty = {0};
    assert_int_equal(mp_encode_batch(NULL, buf, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_encode_batch(&empty, NULL, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_encode_batches(NULL, 1, buf, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_buffer_length(buf), 0);
    mp_buffer_free(buf);
}

/* ------------------------------------------------------------------------ */
/* The bulk form and caller memory                                          */
/* ------------------------------------------------------------------------ */

static void test_encode_batches(void **state) {
    (void)state;
    mp_buffer *buf = mp_buffer_new(0);
    mp_diag *d = mp_diag_new();
    assert_int_equal(mp_encode_batches(NULL, 0, buf, d), MP_OK);
    assert_string_equal(mp_buffer_data(buf), "[]");

    mp_batch batches[3] = {{.environment = MP_ENVIRONMENT_DEVELOPMENT},
                           {.mpid = MP_INT(1)},
                           {0}};
    mp_buffer_clear(buf);
    assert_int_equal(mp_encode_batches(batches, 3, buf, d), MP_OK);
    assert_string_equal(mp_buffer_data(buf), "[{\"environment\":\"development\"},{\"mpid\":1},{}]");
    assert_int_equal(mp_diag_count(d), 0);

    /* An error in the third batch names that batch; the buffer keeps what
     * it held before the call. */
    batches[2].ip = "\xff";
    assert_int_equal(mp_encode_batches(batches, 3, buf, d), MP_ERR_INVALID_UTF8);
    assert_string_equal(mp_buffer_data(buf), "[{\"environment\":\"development\"},{\"mpid\":1},{}]");
    assert_int_equal(mp_diag_count(d), 1);
    assert_int_equal(mp_diag_get(d, 0)->batch, 2);
    assert_string_equal(mp_diag_get(d, 0)->path, "ip");
    mp_diag_free(d);
    mp_buffer_free(buf);
}

static void test_encode_batch_to(void **state) {
    (void)state;
    static const char expected[] = "{\"environment\":\"production\",\"mpid\":42}";
    const size_t n = sizeof expected - 1;
    mp_batch b = {.environment = MP_ENVIRONMENT_PRODUCTION, .mpid = MP_INT(42)};
    char out[64];
    size_t len = 0;

    /* Exact fit: the JSON and its NUL, nothing written past cap. */
    memset(out, 'Z', sizeof out);
    assert_int_equal(mp_encode_batch_to(&b, out, n + 1, &len, NULL), MP_OK);
    assert_int_equal(len, n);
    assert_string_equal(out, expected);
    for (size_t i = n + 1; i < sizeof out; i++)
        assert_int_equal(out[i], 'Z');

    /* One byte short (no room for the NUL): too small, and *len says how
     * much is needed. */
    memset(out, 'Z', sizeof out);
    len = 0;
    assert_int_equal(mp_encode_batch_to(&b, out, n, &len, NULL), MP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, n);
    for (size_t i = n; i < sizeof out; i++)
        assert_int_equal(out[i], 'Z');

    /* Measuring: no buffer at all. */
    len = 0;
    assert_int_equal(mp_encode_batch_to(&b, NULL, 0, &len, NULL), MP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, n);

    /* The snprintf idiom: measure, allocate exactly len + 1, encode. */
    mp_attribute attributes[] = {{"name", MP_V_STRING("a \"quoted\" value")},
                                 {"n", MP_V_INT(INT64_MIN)}};
    mp_batch big = {.source_request_id = "req",
                    .user_attributes = MP_LIST(mp_attribute_list, attributes),
                    .mpid = MP_INT(INT64_MAX)};
    static const char big_json[] =
        "{\"source_request_id\":\"req\",\"user_attributes\":{\"name\":"
        "\"a \\\"quoted\\\" value\",\"n\":-9223372036854775808},\"mpid\":9223372036854775807}";
    len = 0;
    assert_int_equal(mp_encode_batch_to(&big, NULL, 0, &len, NULL), MP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, sizeof big_json - 1);
    char *exact = malloc(len + 1);
    assert_non_null(exact);
    assert_int_equal(mp_encode_batch_to(&big, exact, len + 1, &len, NULL), MP_OK);
    assert_string_equal(exact, big_json);
    free(exact);

    assert_int_equal(mp_encode_batch_to(&b, NULL, 5, &len, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_encode_batch_to(&b, out, sizeof out, NULL, NULL),
                     MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_encode_batch_to(NULL, out, sizeof out, &len, NULL),
                     MP_ERR_INVALID_ARGUMENT);

    /* An encoding error is reported as itself, with its path, big buffer or not. */
    mp_diag *d = mp_diag_new();
    mp_batch bad = {.context = &(mp_batch_context){
                        .location = &(mp_location){.accuracy = MP_DOUBLE(NAN)}}};
    assert_int_equal(mp_encode_batch_to(&bad, out, sizeof out, &len, d), MP_ERR_NOT_FINITE);
    assert_int_equal(mp_encode_batch_to(&bad, out, 2, &len, d), MP_ERR_NOT_FINITE);
    assert_int_equal(mp_diag_count(d), 2);
    assert_string_equal(mp_diag_get(d, 0)->path, "context.location.accuracy");
    mp_diag_free(d);
}

/* Encoding appends: what the buffer held stays in front. */
static void test_encode_appends(void **state) {
    (void)state;
    mp_buffer *buf = mp_buffer_new(1);
    mp_batch a = {.mpid = MP_INT(1)}, b = {.mpid = MP_INT(2)};
    assert_int_equal(mp_encode_batch(&a, buf, NULL), MP_OK);
    assert_int_equal(mp_buffer_append(buf, "\n", 1), MP_OK);
    assert_int_equal(mp_encode_batch(&b, buf, NULL), MP_OK);
    assert_string_equal(mp_buffer_data(buf), "{\"mpid\":1}\n{\"mpid\":2}");
    mp_buffer_free(buf);
}

static void test_buffer(void **state) {
    (void)state;
    mp_buffer *buf = mp_buffer_new(0);
    assert_non_null(buf);
    assert_int_equal(mp_buffer_length(buf), 0);
    assert_string_equal(mp_buffer_data(buf), "");

    assert_int_equal(mp_buffer_append(buf, "abc", 3), MP_OK);
    assert_int_equal(mp_buffer_append(buf, NULL, 0), MP_OK);
    assert_int_equal(mp_buffer_append(buf, "", 0), MP_OK);
    assert_int_equal(mp_buffer_append(buf, NULL, 1), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_buffer_append(NULL, "x", 1), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_buffer_length(buf), 3);
    assert_string_equal(mp_buffer_data(buf), "abc");

    /* Growth well past the initial capacity keeps every byte. */
    char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(mp_buffer_append(buf, big, sizeof big), MP_OK);
    assert_int_equal(mp_buffer_length(buf), 3 + sizeof big);
    assert_memory_equal(mp_buffer_data(buf) + 3, big, sizeof big);
    assert_int_equal(mp_buffer_data(buf)[3 + sizeof big], '\0');

    mp_buffer_clear(buf);
    assert_int_equal(mp_buffer_length(buf), 0);
    assert_string_equal(mp_buffer_data(buf), "");
    assert_int_equal(mp_buffer_append(buf, "xyz", 3), MP_OK);

    size_t len = 0;
    char *taken = mp_buffer_detach(buf, &len);
    assert_non_null(taken);
    assert_int_equal(len, 3);
    assert_string_equal(taken, "xyz");
    mp_free(taken);
    /* Empty with no memory: nothing to detach, but still usable. */
    assert_int_equal(mp_buffer_length(buf), 0);
    assert_string_equal(mp_buffer_data(buf), "");
    assert_null(mp_buffer_detach(buf, &len));
    assert_int_equal(mp_buffer_append(buf, "again", 5), MP_OK);
    assert_string_equal(mp_buffer_data(buf), "again");
    mp_buffer_free(buf);
    mp_buffer_free(NULL);
    mp_buffer_clear(NULL);
    assert_int_equal(mp_buffer_length(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_batch_top_level_fields),
        cmocka_unit_test(test_go_sdk_full_example),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_user_identities_all_22),
        cmocka_unit_test(test_device_info),
        cmocka_unit_test(test_application_info),
        cmocka_unit_test(test_source_and_attribution_info),
        cmocka_unit_test(test_consent_state),
        cmocka_unit_test(test_event_common_fields),
        cmocka_unit_test(test_device_current_state),
        cmocka_unit_test(test_event_envelopes),
        cmocka_unit_test(test_custom_event_with_media_info),
        cmocka_unit_test(test_screen_view),
        cmocka_unit_test(test_commerce_product_action),
        cmocka_unit_test(test_commerce_promotion_and_impressions),
        cmocka_unit_test(test_other_event_fields),
        cmocka_unit_test(test_user_attribute_change),
        cmocka_unit_test(test_user_identity_change),
        cmocka_unit_test(test_presence),
        cmocka_unit_test(test_presence_in_events),
        cmocka_unit_test(test_int64_extremes),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_attribute_values),
        cmocka_unit_test(test_invalid_utf8_names_the_path),
        cmocka_unit_test(test_nan_and_infinity),
        cmocka_unit_test(test_enum_out_of_range),
        cmocka_unit_test(test_event_type_missing_or_unknown),
        cmocka_unit_test(test_null_pointers_in_maps_and_lists),
        cmocka_unit_test(test_encode_batches),
        cmocka_unit_test(test_encode_batch_to),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
