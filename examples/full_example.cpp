// The Full Example of mParticle's Go SDK documentation, in C++17.
//
// The same batch as full_example.c (identities, a data plan, device
// information, user attributes, a custom event, a screen view and a
// purchase), built the C++ way: structs initialised with {} and filled
// field by field (C++ has no designated initialisers for them), the client
// options from mp_client_options_init(), RAII for the handles. Uploaded to
// POST /v2/events with the SDK's client.
//
// Credentials come from MPARTICLE_API_KEY and MPARTICLE_API_SECRET; the
// destination is MPARTICLE_BASE_URL if set, else the pod of the key's
// prefix. The tests run it against a local `mparticle serve`
// (scripts/full-example.sh).
#include <mparticle.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Owning handles: each frees its object when it goes out of scope.
struct diag_free {
    void operator()(mp_diag *d) const { mp_diag_free(d); }
};
struct client_free {
    void operator()(mp_client *c) const { mp_client_free(c); }
};
using diag_ptr = std::unique_ptr<mp_diag, diag_free>;
using client_ptr = std::unique_ptr<mp_client, client_free>;

// An mp_result released when it goes out of scope.
struct result_holder {
    mp_result r{};
    result_holder() = default;
    result_holder(const result_holder &) = delete;
    result_holder &operator=(const result_holder &) = delete;
    ~result_holder() { mp_result_clear(&r); }
};

void print_problems(const mp_diag *diag) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        std::fprintf(stderr, "%s: %s: %s\n", p->severity == MP_SEVERITY_ERROR ? "error" : "warning",
                     p->path, p->message);
    }
}

} // namespace

int main() {
    const int64_t now = now_ms();

    mp_user_identities identities{};
    identities.customer_id = "go1234";
    identities.email = "go-example@foo.com";

    mp_data_plan_context data_plan{};
    data_plan.plan_id = "freddy_s_plan";
    data_plan.plan_version = MP_INT(1);
    mp_batch_context context{};
    context.data_plan = &data_plan;

    mp_device_info device_info{};
    device_info.ios_advertising_id = "607258d9-c28b-43ad-95ed-e9593025d5a1";

    mp_value foo_array[] = {MP_V_STRING("bar1"), MP_V_STRING("bar2")};
    mp_attribute user_attributes[] = {
        {"foo", MP_V_STRING("bar")},
        {"foo-array", MP_V_LIST(foo_array)},
    };

    mp_attribute custom_attributes[] = {{"foo", MP_V_STRING("bar")}};

    mp_product products[1] = {};
    products[0].total_product_amount = MP_DOUBLE(123.12);
    products[0].id = "product-id";
    products[0].name = "product-name";
    mp_product_action purchase{};
    purchase.action = MP_PRODUCT_ACTION_PURCHASE;
    purchase.total_amount = MP_DOUBLE(123.12);
    purchase.transaction_id = "foo-transaction-id";
    purchase.products = MP_LIST(mp_product_list, products);

    std::vector<mp_event> events(3, mp_event{});
    events[0].event_type = MP_EVENT_CUSTOM_EVENT;
    events[0].common.timestamp_unixtime_ms = MP_INT(now);
    events[0].common.custom_attributes = MP_LIST(mp_attribute_list, custom_attributes);
    events[0].custom_event.event_name = "My Custom Event Name";
    events[0].custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER;
    events[1].event_type = MP_EVENT_SCREEN_VIEW;
    events[1].common.timestamp_unixtime_ms = MP_INT(now);
    events[1].screen_view.screen_name = "My Screen Name";
    events[2].event_type = MP_EVENT_COMMERCE_EVENT;
    events[2].common.timestamp_unixtime_ms = MP_INT(now);
    events[2].commerce_event.product_action = &purchase;

    mp_batch batch{};
    batch.environment = MP_ENVIRONMENT_DEVELOPMENT;
    batch.user_identities = &identities;
    batch.context = &context;
    batch.device_info = &device_info;
    batch.user_attributes = MP_LIST(mp_attribute_list, user_attributes);
    batch.events.items = events.data();
    batch.events.count = events.size();

    mp_client_options options;
    mp_client_options_init(&options, MP_CLIENT_OPTIONS_VERSION);
    diag_ptr diag(mp_diag_new());
    mp_client *raw = nullptr;
    if (!diag || mp_client_new(&options, &raw, diag.get()) != MP_OK) {
        print_problems(diag.get());
        return 1;
    }
    client_ptr client(raw);

    result_holder result;
    const mp_error err = mp_client_upload(client.get(), &batch, &result.r, diag.get());
    if (err == MP_OK && result.r.status == 202) {
        std::printf("Upload successful\nsource_request_id: %s\n", result.r.source_request_id);
        return 0;
    }
    std::fprintf(stderr, "Error while uploading!\nstatus: %d (%s)\n", result.r.status, mp_strerror(err));
    if (result.r.transport_error[0])
        std::fprintf(stderr, "transport: %s\n", result.r.transport_error);
    for (size_t i = 0; i < result.r.error_count; i++)
        std::fprintf(stderr, "%s: %s\n", result.r.errors[i].code, result.r.errors[i].message);
    print_problems(diag.get());
    return 1;
}
