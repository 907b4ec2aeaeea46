/*
 * Workload W1 (bench/gen_workload.py) built directly as the SDK's C structs,
 * the way an application fills them: one user with identities, device info,
 * 2 user attributes and a data-plan context; 10 events: a session start, 5
 * custom events with 3 attributes, 3 screen views and a purchase of 2
 * products; the same shape and string lengths as the generator, its own
 * pseudo-random numbers. Shared by bench_codec (encoding W1 "built as C
 * structs") and the uploader's tests (producers on many threads): batch i
 * depends on i alone, and everything it points to is in one w1_batch, so a
 * thread builds it on its stack and reuses it.
 */
#ifndef MP_BENCH_W1_STRUCTS_H
#define MP_BENCH_W1_STRUCTS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mparticle.h>

static inline uint64_t w1_mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Everything batch i points to, in one block. */
typedef struct w1_batch {
    mp_batch batch;
    mp_event events[10];
    mp_attribute custom_attrs[5][3];
    mp_attribute screen_attrs[3][1];
    mp_product products[2];
    mp_product_action action;
    mp_user_identities identities;
    mp_device_info device;
    mp_data_plan_context plan;
    mp_batch_context context;
    mp_value list[2];
    mp_attribute user_attrs[2];
    char custom_names[5][24], foo[5][16], category[5][16], note[5][32];
    char screen_names[3][16], txn[24], sku[2][16], product_names[2][24];
    char customer_id[24], email[40], idfa[40];
} w1_batch;

/* Batch number i of W1's shape (user "cust-i"); the same i gives the same batch. */
static inline void w1_build(w1_batch *w, int i) {
    static const mp_custom_event_type types[] = {
        MP_CUSTOM_EVENT_TYPE_OTHER, MP_CUSTOM_EVENT_TYPE_NAVIGATION, MP_CUSTOM_EVENT_TYPE_SEARCH,
        MP_CUSTOM_EVENT_TYPE_TRANSACTION};
    uint64_t r = w1_mix((uint64_t)i);
    int64_t t0 = 1700000000000LL + (int64_t)i * 1000;
    memset(w, 0, sizeof *w);
    int e = 0;
    w->events[e++] = (mp_event){.event_type = MP_EVENT_SESSION_START,
                                .common = {.session_id = MP_INT(1000000 + i),
                                           .timestamp_unixtime_ms = MP_INT(t0)}};
    for (int k = 0; k < 5; k++) {
        r = w1_mix(r);
        snprintf(w->custom_names[k], sizeof w->custom_names[k], "Custom Event %d", k);
        snprintf(w->foo[k], sizeof w->foo[k], "bar%u", (unsigned)(r % 1000));
        snprintf(w->category[k], sizeof w->category[k], "cat-%u", (unsigned)(r >> 20) % 50);
        snprintf(w->note[k], sizeof w->note[k], "caf\xc3\xa9 \"quoted\" %d", k);
        w->custom_attrs[k][0] = (mp_attribute){"foo", MP_V_STRING(w->foo[k])};
        w->custom_attrs[k][1] = (mp_attribute){"category", MP_V_STRING(w->category[k])};
        w->custom_attrs[k][2] = (mp_attribute){"note", MP_V_STRING(w->note[k])};
        w->events[e++] = (mp_event){
            .event_type = MP_EVENT_CUSTOM_EVENT,
            .common = {.timestamp_unixtime_ms = MP_INT(t0 + 10 + k),
                       .custom_attributes = MP_LIST(mp_attribute_list, w->custom_attrs[k])},
            .custom_event = {.event_name = w->custom_names[k],
                             .custom_event_type = types[(r >> 40) % 4]}};
    }
    for (int k = 0; k < 3; k++) {
        r = w1_mix(r);
        snprintf(w->screen_names[k], sizeof w->screen_names[k], "Screen %u", (unsigned)(r % 20));
        w->screen_attrs[k][0] = (mp_attribute){"referrer", MP_V_STRING("home")};
        w->events[e++] = (mp_event){
            .event_type = MP_EVENT_SCREEN_VIEW,
            .common = {.timestamp_unixtime_ms = MP_INT(t0 + 20 + k),
                       .custom_attributes = MP_LIST(mp_attribute_list, w->screen_attrs[k])},
            .screen_view = {.screen_name = w->screen_names[k]}};
    }
    static const double price[2] = {19.99, 83.14}, total[2] = {39.98, 83.14};
    static const int qty[2] = {2, 1};
    for (int k = 0; k < 2; k++) {
        r = w1_mix(r);
        snprintf(w->sku[k], sizeof w->sku[k], "sku-%u", (unsigned)(r % 500));
        snprintf(w->product_names[k], sizeof w->product_names[k], "product %u",
                 (unsigned)(r >> 32) % 500);
        w->products[k] = (mp_product){.id = w->sku[k], .name = w->product_names[k],
                                      .price = MP_DOUBLE(price[k]), .quantity = MP_DOUBLE(qty[k]),
                                      .total_product_amount = MP_DOUBLE(total[k])};
    }
    snprintf(w->txn, sizeof w->txn, "txn-%d", i);
    w->action = (mp_product_action){.action = MP_PRODUCT_ACTION_PURCHASE, .transaction_id = w->txn,
                                    .total_amount = MP_DOUBLE(123.12), .tax_amount = MP_DOUBLE(1.5),
                                    .products = MP_LIST(mp_product_list, w->products)};
    w->events[e++] = (mp_event){.event_type = MP_EVENT_COMMERCE_EVENT,
                                .common = {.timestamp_unixtime_ms = MP_INT(t0 + 30)},
                                .commerce_event = {.currency_code = "USD",
                                                   .product_action = &w->action}};
    snprintf(w->customer_id, sizeof w->customer_id, "cust-%d", i);
    snprintf(w->email, sizeof w->email, "user%d@example.com", i);
    snprintf(w->idfa, sizeof w->idfa, "607258d9-c28b-43ad-95ed-%012d", i);
    w->identities = (mp_user_identities){.customer_id = w->customer_id, .email = w->email};
    w->device = (mp_device_info){.ios_advertising_id = w->idfa};
    w->plan = (mp_data_plan_context){.plan_id = "freddy_s_plan", .plan_version = MP_INT(1)};
    w->context = (mp_batch_context){.data_plan = &w->plan};
    w->list[0] = (mp_value)MP_V_STRING("bar1");
    w->list[1] = (mp_value)MP_V_STRING("bar2");
    w->user_attrs[0] = (mp_attribute){"Account type", MP_V_STRING((r & 1) ? "paid" : "trial")};
    w->user_attrs[1] = (mp_attribute){"foo-array", MP_V_LIST(w->list)};
    w->batch = (mp_batch){.environment = MP_ENVIRONMENT_DEVELOPMENT,
                          .user_identities = &w->identities,
                          .device_info = &w->device,
                          .user_attributes = MP_LIST(mp_attribute_list, w->user_attrs),
                          .context = &w->context,
                          .events = MP_LIST(mp_event_list, w->events)};
}

#endif
