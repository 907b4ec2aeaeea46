// The public headers must compile and be usable as C++11: a batch built in
// C++ encodes like one built in C.
#include <mparticle.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

int main() {
    mp_user_identities ids = {};
    ids.customer_id = "cpp1234";
    mp_event events[1] = {};
    events[0].event_type = MP_EVENT_SCREEN_VIEW;
    events[0].screen_view.screen_name = "Home";
    events[0].common.timestamp_unixtime_ms = MP_INT(1700000000000LL);
    mp_batch batch = {};
    batch.environment = MP_ENVIRONMENT_PRODUCTION;
    batch.user_identities = &ids;
    batch.events = MP_LIST(mp_event_list, events);
    batch.ip = MP_STRING_NULL;

    mp_buffer *buf = mp_buffer_new(0);
    mp_error err = mp_encode_batch(&batch, buf, NULL);
    const char *want =
        "{\"events\":[{\"data\":{\"timestamp_unixtime_ms\":1700000000000,\"screen_name\":\"Home\"},"
        "\"event_type\":\"screen_view\"}],\"user_identities\":{\"customer_id\":\"cpp1234\"},"
        "\"environment\":\"production\",\"ip\":null}";
    int ok = err == MP_OK && std::strcmp(mp_buffer_data(buf), want) == 0;
    if (!ok)
        std::fprintf(stderr, "got %s\nwant %s\n", mp_buffer_data(buf), want);
    mp_buffer_free(buf);
    if (!ok)
        return 1;

    // The value helpers, which are designated initialisers in C and inline
    // functions here, give the same values.
    mp_value caps[] = {MP_V_STRING("foo"), MP_V_INT(-3), MP_V_DOUBLE(19.99), MP_V_BOOL(false),
                       MP_V_NULL};
    mp_attribute attrs[] = {{"s", MP_V_STRING("x")},   {"i", MP_V_INT(INT64_MAX)},
                            {"d", MP_V_DOUBLE(1e-7)},  {"b", MP_V_BOOL(1)},
                            {"n", MP_V_NULL},          {"l", MP_V_LIST(caps)}};
    mp_batch attributes = {};
    attributes.environment = MP_ENVIRONMENT_DEVELOPMENT;
    attributes.user_attributes = MP_LIST(mp_attribute_list, attrs);
    char out[512];
    size_t len = 0;
    err = mp_encode_batch_to(&attributes, out, sizeof out, &len, NULL);
    const char *want_attrs = "{\"user_attributes\":{\"s\":\"x\",\"i\":9223372036854775807,"
                             "\"d\":1e-7,\"b\":true,\"n\":null,"
                             "\"l\":[\"foo\",-3,19.99,false,null]},\"environment\":\"development\"}";
    if (err != MP_OK || std::strcmp(out, want_attrs) != 0) {
        std::fprintf(stderr, "got %s\nwant %s\n", out, want_attrs);
        return 1;
    }

    // C++ initialises with {} (every field 0: absent, NULL, version 0 =
    // the first) and the options with mp_client_options_init().
    mp_result r{};
    mp_client_options o;
    if (mp_client_options_init(&o, MP_CLIENT_OPTIONS_VERSION) != MP_OK || r.status != 0 ||
        o.version != MP_CLIENT_OPTIONS_VERSION || o.base_url != NULL)
        return 1;
    mp_result_clear(&r);

    // The _INIT macros compile in C++ too, without a missing-initializer
    // warning (this file is built with -Wextra -Werror), and set the version.
    mp_client_options co = MP_CLIENT_OPTIONS_INIT;
    mp_result cr = MP_RESULT_INIT;
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    mp_uploader_stats us = MP_UPLOADER_STATS_INIT;
    mp_spool_info si = MP_SPOOL_INFO_INIT;
    mp_validate_options vo = MP_VALIDATE_OPTIONS_INIT;
    mp_curl_options cu = MP_CURL_OPTIONS_INIT;
    if (co.version != MP_CLIENT_OPTIONS_VERSION || co.api_key != NULL ||
        cr.version != MP_RESULT_VERSION || cr.status != 0 ||
        uo.version != MP_UPLOADER_OPTIONS_VERSION || uo.spool_dir != NULL ||
        us.version != MP_UPLOADER_STATS_VERSION || si.version != MP_SPOOL_INFO_VERSION ||
        vo.version != MP_VALIDATE_OPTIONS_VERSION || vo.strict != 0 ||
        cu.version != MP_CURL_OPTIONS_VERSION || cu.proxy != NULL)
        return 1;
    return 0;
}
