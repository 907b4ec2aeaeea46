/*
 * The Full Example of mParticle's Go SDK documentation, in C.
 *
 * One batch for one user: identities, a data plan, device information, user
 * attributes, a custom event, a screen view and a purchase, uploaded to
 * POST /v2/events with the SDK's client.
 *
 * Credentials come from MPARTICLE_API_KEY and MPARTICLE_API_SECRET; the
 * destination is MPARTICLE_BASE_URL if set (scripts/example.sh points it at
 * a local `mparticle serve`), else the pod named by the key's prefix.
 * With --print the JSON body is printed instead of sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mparticle.h>

static int64_t now_ms(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_problems(const mp_diag *diag) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        fprintf(stderr, "%s: %s: %s\n", p->severity == MP_SEVERITY_ERROR ? "error" : "warning",
                p->path, p->message);
    }
}

/* Sends the batch with the client; returns 0 when mParticle accepted it. */
static int upload(const mp_batch *batch) {
    mp_client_options options = {.base_url = getenv("MPARTICLE_BASE_URL")};
    mp_client *client = NULL;
    mp_diag *diag = mp_diag_new();
    mp_result result = {0};
    int status = 1;
    if (!diag || mp_client_new(&options, &client, diag) != MP_OK) {
        print_problems(diag);
        goto out;
    }
    mp_error err = mp_client_upload(client, batch, &result, diag);
    if (err == MP_OK && result.status == 202) {
        printf("Upload successful\n");
        printf("source_request_id: %s\n", result.source_request_id);
        status = 0;
    } else {
        fprintf(stderr, "Error while uploading!\nstatus: %d (%s)\n", result.status, mp_strerror(err));
        if (result.transport_error[0])
            fprintf(stderr, "transport: %s\n", result.transport_error);
        for (size_t i = 0; i < result.error_count; i++)
            fprintf(stderr, "%s: %s\n", result.errors[i].code, result.errors[i].message);
        print_problems(diag);
    }
out:
    mp_result_clear(&result);
    mp_client_free(client);
    mp_diag_free(diag);
    return status;
}

int main(int argc, char **argv) {
    int print_only = argc > 1 && strcmp(argv[1], "--print") == 0;
    int64_t now = now_ms();

    /* Set user identities. */
    mp_user_identities identities = {
        .customer_id = "go1234",
        .email = "go-example@foo.com",
    };

    /* Set context: configure the data plan. */
    mp_data_plan_context data_plan = {.plan_id = "freddy_s_plan", .plan_version = MP_INT(1)};
    mp_batch_context context = {.data_plan = &data_plan};

    /* Set device identities. */
    mp_device_info device_info = {.ios_advertising_id = "607258d9-c28b-43ad-95ed-e9593025d5a1"};

    /* Set user attributes: a string and a list. */
    mp_value foo_array[] = {MP_V_STRING("bar1"), MP_V_STRING("bar2")};
    mp_attribute user_attributes[] = {
        {"foo", MP_V_STRING("bar")},
        {"foo-array", MP_V_LIST(foo_array)},
    };

    /* A custom event with a free-form attribute. */
    mp_attribute custom_attributes[] = {{"foo", MP_V_STRING("bar")}};

    /* A purchase of one product. */
    mp_product products[] = {{
        .total_product_amount = MP_DOUBLE(123.12),
        .id = "product-id",
        .name = "product-name",
    }};
    mp_product_action purchase = {
        .action = MP_PRODUCT_ACTION_PURCHASE,
        .total_amount = MP_DOUBLE(123.12),
        .transaction_id = "foo-transaction-id",
        .products = MP_LIST(mp_product_list, products),
    };

    mp_event events[] = {
        {
            .event_type = MP_EVENT_CUSTOM_EVENT,
            .common = {.timestamp_unixtime_ms = MP_INT(now),
                       .custom_attributes = MP_LIST(mp_attribute_list, custom_attributes)},
            .custom_event = {.event_name = "My Custom Event Name",
                             .custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER},
        },
        {
            .event_type = MP_EVENT_SCREEN_VIEW,
            .common = {.timestamp_unixtime_ms = MP_INT(now)},
            .screen_view = {.screen_name = "My Screen Name"},
        },
        {
            .event_type = MP_EVENT_COMMERCE_EVENT,
            .common = {.timestamp_unixtime_ms = MP_INT(now)},
            .commerce_event = {.product_action = &purchase},
        },
    };

    mp_batch batch = {
        .environment = MP_ENVIRONMENT_DEVELOPMENT, /* or MP_ENVIRONMENT_PRODUCTION */
        .user_identities = &identities,
        .context = &context,
        .device_info = &device_info,
        .user_attributes = MP_LIST(mp_attribute_list, user_attributes),
        .events = MP_LIST(mp_event_list, events),
    };

    if (!print_only)
        return upload(&batch);

    int status = 1;
    mp_diag *diag = mp_diag_new();
    mp_buffer *json = mp_buffer_new(0);
    if (!diag || !json) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    if (mp_validate_batch(&batch, NULL, 0, diag) != MP_OK) {
        print_problems(diag);
        goto out;
    }
    mp_error err = mp_encode_batch(&batch, json, diag);
    if (err != MP_OK) {
        fprintf(stderr, "encoding failed: %s\n", mp_strerror(err));
        print_problems(diag);
        goto out;
    }
    printf("%s\n", mp_buffer_data(json));
    status = 0;
out:
    mp_buffer_free(json);
    mp_diag_free(diag);
    return status;
}
