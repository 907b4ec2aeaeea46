// The public headers must compile and be usable as C++11: a batch built in
// C++ encodes like one built in C.
#include <mparticle.h>

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
    return ok ? 0 : 1;
}
