// The installed SDK from C++17: value helpers, {} initialisation, the
// options' init functions, and a batch encoded to the expected JSON.
#include <mparticle.h>

#include <cstdio>
#include <string>

int main() {
    if (mp_version() != MP_VERSION_NUM) {
        std::fprintf(stderr, "header %s, library %s\n", MP_VERSION_STRING, mp_version_string());
        return 1;
    }
    mp_value tags[] = {MP_V_STRING("a"), MP_V_INT(2)};
    mp_attribute attrs[] = {{"n", MP_V_INT(7)},     {"d", MP_V_DOUBLE(0.5)},
                            {"b", MP_V_BOOL(true)}, {"l", MP_V_LIST(tags)}};
    mp_batch batch{};
    batch.environment = MP_ENVIRONMENT_PRODUCTION;
    batch.mpid = MP_INT(-5);
    batch.user_attributes = MP_LIST(mp_attribute_list, attrs);
    char out[256];
    size_t len = 0;
    if (mp_encode_batch_to(&batch, out, sizeof out, &len, nullptr) != MP_OK)
        return 1;
    const std::string want = "{\"user_attributes\":{\"n\":7,\"d\":0.5,\"b\":true,\"l\":[\"a\",2]},"
                             "\"environment\":\"production\",\"mpid\":-5}";
    if (want != out) {
        std::fprintf(stderr, "got %s\n", out);
        return 1;
    }
    std::puts(out);
    return 0;
}
