/*
 * The data model's tables: one line per field, in wire order (the GO SDK's
 * key order, docs/api-notes.md §4.6, with the keys GO lacks appended).
 * Sources for every flag and limit: docs/api-notes.md §2.1, §4 and §5, and docs/data-model.md.
 */
#include "schema/schema.h"

#include <assert.h>

/* Every list type must have the layout {const T *items; size_t count}: the
 * walkers read all of them through MP__LIST_ITEMS / MP__LIST_COUNT. */
#define MP__CHECK_LIST(T)                                                    \
    static_assert(offsetof(T, items) == MP__LIST_ITEMS &&                    \
                      offsetof(T, count) == MP__LIST_COUNT,                  \
                  #T " must be {items, count}")
MP__CHECK_LIST(mp_event_list);
MP__CHECK_LIST(mp_attribute_list);
MP__CHECK_LIST(mp_string_list);
MP__CHECK_LIST(mp_string_map);
MP__CHECK_LIST(mp_string_map_map);
MP__CHECK_LIST(mp_gdpr_purpose_list);
MP__CHECK_LIST(mp_product_list);
MP__CHECK_LIST(mp_promotion_list);
MP__CHECK_LIST(mp_product_impression_list);
static_assert(sizeof(mp_environment) == sizeof(int), "enums must be int-sized");
static_assert(sizeof(mp_event) < 65536, "field offsets are 16-bit");

/* ------------------------------------------------------------------------ */
/* Enums                                                                    */
/* ------------------------------------------------------------------------ */

#define N(s) {s, (uint8_t)(sizeof(s) - 1)}
#define ENUM(var, tname, ...)                                                \
    static const mp__enum_name var##_names[] = {{NULL, 0}, __VA_ARGS__};     \
    static const mp__enum var = {tname, var##_names,                         \
                                 (int)(sizeof(var##_names) / sizeof(var##_names[0]))}

ENUM(environment_enum, "environment", N("development"), N("production"), N("unknown"));
ENUM(identity_type_enum, "identity_type", N("other"), N("customer_id"), N("facebook"),
     N("twitter"), N("google"), N("microsoft"), N("yahoo"), N("email"), N("alias"),
     N("facebook_custom_audience_id"), N("other_id_2"), N("other_id_3"), N("other_id_4"),
     N("other_id_5"), N("other_id_6"), N("other_id_7"), N("other_id_8"), N("other_id_9"),
     N("other_id_10"), N("mobile_number"), N("phone_number_2"), N("phone_number_3"));
ENUM(custom_event_type_enum, "custom_event_type", N("navigation"), N("location"), N("search"),
     N("transaction"), N("user_content"), N("user_preference"), N("social"), N("other"),
     N("media"), N("attribution"));
ENUM(commerce_event_type_enum, "commerce custom_event_type", N("add_to_cart"),
     N("remove_from_cart"), N("checkout"), N("checkout_option"), N("click"), N("view_detail"),
     N("purchase"), N("refund"), N("promotion_view"), N("promotion_click"),
     N("add_to_wishlist"), N("remove_from_wishlist"), N("impression"), N("navigation"),
     N("location"), N("search"), N("transaction"), N("user_content"), N("user_preference"),
     N("social"), N("other"), N("media"), N("attribution"), N("consent_granted"),
     N("consent_denied"));
ENUM(product_action_enum, "product action", N("add_to_cart"), N("remove_from_cart"),
     N("checkout"), N("checkout_option"), N("click"), N("view_detail"), N("purchase"),
     N("refund"), N("add_to_wishlist"), N("remove_from_wish_list"));
ENUM(promotion_action_enum, "promotion action", N("view"), N("click"));
ENUM(application_transition_enum, "application_transition_type",
     N("application_initialized"), N("application_exit"), N("application_background"),
     N("application_foreground"));
ENUM(push_message_type_enum, "push_message_type", N("sent"), N("received"), N("action"));
ENUM(application_state_enum, "application_state", N("not_running"), N("background"),
     N("foreground"));
ENUM(push_message_behavior_enum, "push_message_behavior", N("Received"), N("DirectOpen"),
     N("Read"), N("InfluencedOpen"), N("Displayed"));
ENUM(att_status_enum, "att_authorization_status", N("authorized"), N("denied"),
     N("not_determined"), N("restricted"));
ENUM(platform_enum, "platform", N("iOS"), N("Android"), N("web"), N("desktop"), N("tvOS"),
     N("roku"), N("out_of_band"), N("alexa"), N("smart_tv"), N("fire_tv"), N("xbox"));
ENUM(os_enum, "os", N("Unknown"), N("IOS"), N("Android"), N("WindowsPhone"), N("MobileWeb"),
     N("UnityIOS"), N("UnityAndroid"), N("Desktop"), N("TVOS"), N("Roku"), N("OutOfBand"),
     N("Alexa"), N("SmartTV"), N("FireTV"), N("Xbox"));
ENUM(orientation_enum, "orientation", N("portrait"), N("portrait_upside_down"),
     N("landscape"), N("LandscapeLeft"), N("LandscapeRight"), N("FaceUp"), N("FaceDown"),
     N("Square"), N("unknown"), N("square"));
ENUM(profile_event_type_enum, "profile_event_type", N("signup"), N("login"), N("logout"),
     N("update"), N("delete"));
ENUM(channel_enum, "channel", N("native"), N("javascript"), N("pixel"), N("desktop"),
     N("partner"), N("server_to_server"), N("unknown"));
ENUM(system_notification_enum, "event_system_notification_info type", N("gdpr_change"));
ENUM(location_source_enum, "location_source", N("unknown"), N("ip_lookup"), N("lat_long"));
ENUM(media_action_enum, "media action", N("unknown"), N("play"), N("stop"),
     N("update_playback_position"), N("skip"), N("rate"));
ENUM(media_format_enum, "media format", N("unknown"), N("audio"), N("video"));
ENUM(media_quality_enum, "media quality", N("unknown"), N("low"), N("sd"), N("medium"),
     N("hd"), N("ultra_hd"));

static const mp__enum_name event_type_names[] = {
    {NULL, 0}, N("session_start"), N("session_end"), N("screen_view"), N("custom_event"),
    N("crash_report"), N("opt_out"), N("first_run"), N("pre_attribution"),
    N("push_registration"), N("application_state_transition"), N("push_message"),
    N("network_performance"), N("breadcrumb"), N("profile"), N("push_reaction"),
    N("commerce_event"), N("user_attribute_change"), N("user_identity_change"),
    N("uninstall")};
const mp__enum mp__event_type_enum = {
    "event_type", event_type_names,
    (int)(sizeof(event_type_names) / sizeof(event_type_names[0]))};

/* Indexed by mp_enum_kind. */
const mp__enum *const mp__enums[] = {
    &environment_enum,         &identity_type_enum,       &custom_event_type_enum,
    &commerce_event_type_enum, &product_action_enum,      &promotion_action_enum,
    &application_transition_enum, &push_message_type_enum, &application_state_enum,
    &push_message_behavior_enum, &att_status_enum,         &platform_enum,
    &os_enum,                  &orientation_enum,         &profile_event_type_enum,
    &channel_enum,             &system_notification_enum, &location_source_enum,
    &media_action_enum,        &media_format_enum,        &media_quality_enum,
    &mp__event_type_enum};
const int mp__enum_count = (int)(sizeof(mp__enums) / sizeof(mp__enums[0]));
static_assert(sizeof(mp__enums) / sizeof(mp__enums[0]) == MP_ENUM_EVENT_TYPE + 1,
              "mp__enums must list every mp_enum_kind");

/* ------------------------------------------------------------------------ */
/* Field macros. OBJ names the struct of the table being written.           */
/* ------------------------------------------------------------------------ */

/* The start of the presence window of member m (see mp__field.probe_at),
 * and byte i of its mask: 0xFF where byte i of the window is one of the
 * first MP__PROBE_WIDTH(kind) bytes of m. */
#define PROBE_AT(m)                                                          \
    (offsetof(OBJ, m) + 8 <= sizeof(OBJ) ? offsetof(OBJ, m)                  \
     : sizeof(OBJ) >= 8                  ? sizeof(OBJ) - 8                   \
                                         : 0)
#define PROBE_BYTE(m, kind, i)                                               \
    (unsigned char)(PROBE_AT(m) + (i) >= offsetof(OBJ, m) &&                 \
                            PROBE_AT(m) + (i) < offsetof(OBJ, m) + MP__PROBE_WIDTH(kind) \
                        ? 0xFF                                               \
                        : 0)
#define PROBE_MASK(m, kind)                                                  \
    {PROBE_BYTE(m, kind, 0), PROBE_BYTE(m, kind, 1), PROBE_BYTE(m, kind, 2),  \
     PROBE_BYTE(m, kind, 3), PROBE_BYTE(m, kind, 4), PROBE_BYTE(m, kind, 5),  \
     PROBE_BYTE(m, kind, 6), PROBE_BYTE(m, kind, 7)}

#define FIELD(m, json, kind_, flags_, maxc, sub_)                            \
    {.name = json,                                                           \
     .key = "\"" json "\":",                                                 \
     .name_len = (uint8_t)(sizeof(json) - 1),                                \
     .key_len = (uint8_t)(sizeof("\"" json "\":") - 1),                      \
     .kind = kind_,                                                          \
     .flags = (uint16_t)(flags_),                                            \
     .offset = (uint16_t)offsetof(OBJ, m),                                   \
     .max_chars = maxc,                                                      \
     .probe_at = (uint16_t)PROBE_AT(m),                                      \
     .sub = sub_,                                                            \
     .probe_mask = PROBE_MASK(m, kind_)}
#define STR(m, fl) FIELD(m, #m, MP__K_STRING, fl, 0, NULL)
#define STRMAX(m, fl, maxc) FIELD(m, #m, MP__K_STRING, fl, maxc, NULL)
#define INT(m, fl) FIELD(m, #m, MP__K_INT64, fl, 0, NULL)
#define DBL(m, fl) FIELD(m, #m, MP__K_DOUBLE, fl, 0, NULL)
#define BOOL(m, fl) FIELD(m, #m, MP__K_BOOL, fl, 0, NULL)
#define ENUMF(m, fl, e) FIELD(m, #m, MP__K_ENUM, fl, 0, &e)
#define OBJF(m, fl, o) FIELD(m, #m, MP__K_OBJECT, fl, 0, &o)
#define OBJLIST(m, fl, o) FIELD(m, #m, MP__K_OBJECT_LIST, fl, 0, &o)
#define STRLIST(m, fl) FIELD(m, #m, MP__K_STRING_LIST, fl, 0, NULL)
#define ATTRS(m, fl) FIELD(m, #m, MP__K_ATTRIBUTES, fl, 0, NULL)
#define STRMAP(m, fl) FIELD(m, #m, MP__K_STRING_MAP, fl, 0, NULL)
#define STRMAPMAP(m, fl) FIELD(m, #m, MP__K_STRING_MAP_MAP, fl, 0, NULL)

#define OBJECT(var, name, T, fields)                                         \
    const mp__object var = {name, sizeof(T), fields,                         \
                            sizeof(fields) / sizeof(fields[0])}

enum { REQ = MP__F_REQUIRED, UUID = MP__F_UUID, OUT = MP__F_OUTPUT_ONLY,
       NOSCH = MP__F_NOT_IN_SCHEMA };

/* ------------------------------------------------------------------------ */
/* Batch-level objects                                                      */
/* ------------------------------------------------------------------------ */

#define OBJ mp_data_plan_context
static const mp__field data_plan_fields[] = {
    STR(plan_id, REQ | MP__F_DOC_OPTIONAL),
    INT(plan_version, 0),
};
static OBJECT(data_plan_object, "data_plan", OBJ, data_plan_fields);
#undef OBJ

#define OBJ mp_batching_context
static const mp__field batching_fields[] = {
    BOOL(bypass, 0),
    STR(partition_key, 0),
    STRLIST(request_ids, 0),
};
static OBJECT(batching_object, "batching", OBJ, batching_fields);
#undef OBJ

/* GeoLocation (events) and the context location share a struct; the last six
 * keys are DOC-only and rejected by the JSON Schema on events (§4.11). */
#define OBJ mp_location
static const mp__field location_fields[] = {
    DBL(latitude, 0),
    DBL(longitude, 0),
    DBL(accuracy, 0),
    STR(country_code, 0),
    STR(region_code, 0),
    STR(city_name, 0),
    STR(postal_code, 0),
    INT(dma_code, 0),
    ENUMF(location_source, 0, location_source_enum),
};
static OBJECT(context_location_object, "location", OBJ, location_fields);
static const mp__field geo_location_fields[] = {
    DBL(latitude, REQ),
    DBL(longitude, REQ),
    DBL(accuracy, 0),
    STR(country_code, NOSCH),
    STR(region_code, NOSCH),
    STR(city_name, NOSCH),
    STR(postal_code, NOSCH),
    INT(dma_code, NOSCH),
    ENUMF(location_source, NOSCH, location_source_enum),
};
static OBJECT(geo_location_object, "location", OBJ, geo_location_fields);
#undef OBJ

#define OBJ mp_batch_context
static const mp__field context_fields[] = {
    OBJF(data_plan, 0, data_plan_object),
    OBJF(batching, 0, batching_object),
    OBJF(location, 0, context_location_object),
};
static OBJECT(context_object, "context", OBJ, context_fields);
#undef OBJ

#define OBJ mp_user_identities
static const mp__field user_identities_fields[] = {
    STR(other, 0), STR(customer_id, 0), STR(facebook, 0), STR(twitter, 0),
    STR(google, 0), STR(microsoft, 0), STR(yahoo, 0), STR(email, 0), STR(alias, 0),
    STR(facebook_custom_audience_id, 0), STR(other_id_2, 0), STR(other_id_3, 0),
    STR(other_id_4, 0), STR(other_id_5, 0), STR(other_id_6, 0), STR(other_id_7, 0),
    STR(other_id_8, 0), STR(other_id_9, 0), STR(other_id_10, 0),
    STR(mobile_number, 0), STR(phone_number_2, 0), STR(phone_number_3, 0),
};
static OBJECT(user_identities_object, "user_identities", OBJ, user_identities_fields);
#undef OBJ

#define OBJ mp_device_info
static const mp__field device_info_fields[] = {
    STR(brand, 0),
    STR(product, 0),
    STR(device, 0),
    STR(android_uuid, 0),
    STR(device_manufacturer, 0),
    ENUMF(platform, 0, platform_enum),
    STR(os_version, 0),
    STR(device_model, 0),
    INT(screen_height, 0),
    INT(screen_width, 0),
    INT(screen_dpi, 0),
    STR(device_country, 0),
    STR(locale_language, 0),
    STR(locale_country, 0),
    STR(network_country, 0),
    STR(network_carrier, 0),
    STR(network_code, 0),
    STR(network_mobile_country_code, 0),
    INT(timezone_offset, 0),
    STR(build_identifier, 0),
    STR(http_header_user_agent, 0),
    STR(ios_advertising_id, UUID),
    STR(push_token, 0),
    STR(cpu_architecture, 0),
    BOOL(is_tablet, 0),
    BOOL(push_notification_sound_enabled, 0),
    BOOL(push_notification_vibrate_enabled, 0),
    STR(radio_access_technology, 0),
    BOOL(supports_telephony, 0),
    BOOL(has_nfc, 0),
    BOOL(bluetooth_enabled, 0),
    STR(bluetooth_version, 0),
    INT(att_timestamp_unixtime_ms, 0),
    ENUMF(att_authorization_status, 0, att_status_enum),
    STR(ios_idfv, UUID),
    STR(android_advertising_id, UUID),
    STR(build_version_release, 0),
    BOOL(limit_ad_tracking, 0),
    STR(amp_id, 0),
    BOOL(is_dst, 0),
    STR(roku_advertising_id, UUID),
    STR(roku_publisher_id, UUID),
    STR(microsoft_advertising_id, 0),
    STR(microsoft_publisher_id, 0),
    STR(fire_advertising_id, UUID),
};
static OBJECT(device_info_object, "device_info", OBJ, device_info_fields);
#undef OBJ

#define OBJ mp_application_info
static const mp__field application_info_fields[] = {
    STR(application_name, 0),
    STR(application_version, 0),
    STR(application_build_number, 0),
    STR(install_referrer, 0),
    STR(package, 0),
    ENUMF(os, 0, os_enum),
    STRMAPMAP(apple_search_ads_attributes, 0),
    DBL(sideloaded_kits_count, NOSCH),
};
static OBJECT(application_info_object, "application_info", OBJ, application_info_fields);
#undef OBJ

#define OBJ mp_source_info
static const mp__field source_info_fields[] = {
    ENUMF(channel, REQ, channel_enum),
    STR(partner, 0),
    STR(replay_request_id, 0),
    STR(replay_job_id, 0),
    BOOL(is_historical, 0),
};
static OBJECT(source_info_object, "source_info", OBJ, source_info_fields);
#undef OBJ

#define OBJ mp_attribution_info
static const mp__field attribution_info_fields[] = {
    STR(service_provider, REQ),
    STR(publisher, REQ),
    STR(campaign, REQ),
};
static OBJECT(attribution_info_object, "attribution_info", OBJ, attribution_info_fields);
#undef OBJ

/* `regulation` and `purpose` are implied by the map key (DOC); `purpose` is
 * TS-only and rejected by the JSON Schema. */
#define OBJ mp_consent
static const mp__field consent_fields[] = {
    STR(regulation, 0),
    STR(purpose, NOSCH),
    STR(document, 0),
    BOOL(consented, REQ),
    INT(timestamp_unixtime_ms, 0),
    STR(location, 0),
    STR(hardware_id, 0),
};
OBJECT(mp__consent_object, "consent", OBJ, consent_fields);
#undef OBJ

#define OBJ mp_ccpa_consent_state
static const mp__field ccpa_fields[] = {
    OBJF(data_sale_opt_out, 0, mp__consent_object),
};
static OBJECT(ccpa_object, "ccpa", OBJ, ccpa_fields);
#undef OBJ

#define OBJ mp_consent_state
static const mp__field consent_state_fields[] = {
    FIELD(gdpr, "gdpr", MP__K_GDPR, 0, 0, &mp__consent_object),
    OBJF(ccpa, NOSCH, ccpa_object),
};
static OBJECT(consent_state_object, "consent_state", OBJ, consent_state_fields);
#undef OBJ

/* ------------------------------------------------------------------------ */
/* Event sub-objects                                                        */
/* ------------------------------------------------------------------------ */

#define OBJ mp_device_current_state
static const mp__field device_current_state_fields[] = {
    INT(time_since_start_ms, 0),
    DBL(battery_level, 0),
    STR(data_connection_type, 0),
    STR(data_connection_type_detail, 0),
    BOOL(gps_state, 0),
    INT(total_system_memory_usage_bytes, 0),
    INT(disk_space_free_bytes, 0),
    INT(external_disk_space_free_bytes, 0),
    STR(cpu, 0),
    DBL(system_memory_available_bytes, 0),
    BOOL(system_memory_low, 0),
    DBL(system_memory_threshold_bytes, 0),
    DBL(application_memory_available_bytes, 0),
    DBL(application_memory_max_bytes, 0),
    DBL(application_memory_total_bytes, 0),
    ENUMF(device_orientation, 0, orientation_enum),
    ENUMF(status_bar_orientation, 0, orientation_enum),
};
static OBJECT(device_current_state_object, "device_current_state", OBJ,
              device_current_state_fields);
#undef OBJ

#define OBJ mp_system_notification_info
static const mp__field system_notification_fields[] = {
    ENUMF(type, REQ, system_notification_enum),
};
static OBJECT(system_notification_object, "event_system_notification_info", OBJ,
              system_notification_fields);
#undef OBJ

enum { EVATTR = MP__F_EVENT_ATTRIBUTES | MP__F_SCALARS_ONLY };

#define OBJ mp_event_common
static const mp__field event_common_fields[] = {
    INT(timestamp_unixtime_ms, 0),
    INT(event_id, OUT),
    STR(source_message_id, UUID),
    INT(session_id, 0),
    STR(session_uuid, UUID),
    INT(session_start_unixtime_ms, 0),
    INT(event_start_unixtime_ms, 0),
    ATTRS(custom_attributes, EVATTR),
    OBJF(location, 0, geo_location_object),
    OBJF(device_current_state, 0, device_current_state_object),
    BOOL(is_goal_defined, 0),
    DBL(lifetime_value_change, 0),
    STR(lifetime_value_attribute_name, 0),
    STR(data_connection_type, 0),
    INT(event_num, 0),
    STR(view_controller, 0),
    BOOL(is_main_thread, 0),
    STR(canonical_name, 0),
    OBJF(event_system_notification_info, OUT, system_notification_object),
    ATTRS(custom_flags, EVATTR | MP__F_SDK_VALUES),
    STR(page_url, 0),
    DBL(active_time_on_site_ms, 0),
};
OBJECT(mp__event_common_object, "data", OBJ, event_common_fields);
#undef OBJ

#define OBJ mp_media_info
static const mp__field media_info_fields[] = {
    ENUMF(action, 0, media_action_enum),
    STR(channel, 0),
    STR(metadata, 0),
    STR(timed_metadata, 0),
    DBL(playback_position, 0),
    ENUMF(format, 0, media_format_enum),
    ENUMF(quality, 0, media_quality_enum),
    DBL(playback_rate, 0),
};
static OBJECT(media_info_object, "media_info", OBJ, media_info_fields);
#undef OBJ

#define OBJ mp_product
static const mp__field product_fields[] = {
    STR(id, 0),
    STR(name, 0),
    STR(brand, 0),
    STR(category, 0),
    STR(variant, 0),
    INT(position, 0),
    DBL(price, 0),
    DBL(quantity, 0),
    STR(coupon_code, 0),
    INT(added_to_cart_time_ms, 0),
    DBL(total_product_amount, 0),
    STRMAP(custom_attributes, MP__F_EVENT_ATTRIBUTES | MP__F_STRINGS_ONLY),
};
static OBJECT(product_object, "product", OBJ, product_fields);
#undef OBJ

#define OBJ mp_product_action
static const mp__field product_action_fields[] = {
    ENUMF(action, REQ, product_action_enum),
    INT(checkout_step, 0),
    STR(checkout_options, 0),
    STR(product_action_list, 0),
    STR(product_list_source, 0),
    STR(transaction_id, 0),
    STR(affiliation, 0),
    DBL(total_amount, 0),
    DBL(tax_amount, 0),
    DBL(shipping_amount, 0),
    STR(coupon_code, 0),
    OBJLIST(products, 0, product_object),
};
static OBJECT(product_action_object, "product_action", OBJ, product_action_fields);
#undef OBJ

#define OBJ mp_promotion
static const mp__field promotion_fields[] = {
    STR(id, 0),
    STR(name, 0),
    STR(creative, 0),
    STR(position, 0),
};
static OBJECT(promotion_object, "promotion", OBJ, promotion_fields);
#undef OBJ

#define OBJ mp_promotion_action
static const mp__field promotion_action_fields[] = {
    ENUMF(action, REQ, promotion_action_enum),
    OBJLIST(promotions, 0, promotion_object),
};
static OBJECT(promotion_action_object, "promotion_action", OBJ, promotion_action_fields);
#undef OBJ

#define OBJ mp_product_impression
static const mp__field product_impression_fields[] = {
    STR(product_impression_list, REQ | MP__F_DOC_OPTIONAL),
    OBJLIST(products, REQ | MP__F_DOC_OPTIONAL, product_object),
};
static OBJECT(product_impression_object, "product_impression", OBJ,
              product_impression_fields);
#undef OBJ

#define OBJ mp_shopping_cart
static const mp__field shopping_cart_fields[] = {
    OBJLIST(products, REQ, product_object),
};
static OBJECT(shopping_cart_object, "shopping_cart", OBJ, shopping_cart_fields);
#undef OBJ

#define OBJ mp_user_identity
static const mp__field user_identity_fields[] = {
    ENUMF(identity_type, REQ, identity_type_enum),
    STR(identity, REQ),
    INT(timestamp_unixtime_ms, REQ),
    BOOL(created_this_batch, 0),
};
OBJECT(mp__user_identity_object, "user_identity", OBJ, user_identity_fields);
#undef OBJ

/* ------------------------------------------------------------------------ */
/* Event data (offsets relative to mp_event's union)                        */
/* ------------------------------------------------------------------------ */

#define OBJ mp_custom_event_data
static const mp__field custom_event_fields[] = {
    ENUMF(custom_event_type, REQ, custom_event_type_enum),
    STRMAX(event_name, REQ, 256),
    OBJF(media_info, 0, media_info_object),
};
static OBJECT(custom_event_object, "custom_event", OBJ, custom_event_fields);
#undef OBJ

#define OBJ mp_screen_view_data
static const mp__field screen_view_fields[] = {
    STRMAX(screen_name, REQ | MP__F_DOC_OPTIONAL, 256),
    STR(activity_type, 0),
};
static OBJECT(screen_view_object, "screen_view", OBJ, screen_view_fields);
#undef OBJ

#define OBJ mp_commerce_event_data
static const mp__field commerce_event_fields[] = {
    OBJF(product_action, 0, product_action_object),
    OBJF(promotion_action, 0, promotion_action_object),
    OBJLIST(product_impressions, 0, product_impression_object),
    OBJF(shopping_cart, 0, shopping_cart_object),
    STR(currency_code, 0),
    STR(screen_name, 0),
    BOOL(is_non_interactive, 0),
    STRMAX(event_name, 0, 256),
    ENUMF(custom_event_type, 0, commerce_event_type_enum),
};
static OBJECT(commerce_event_object, "commerce_event", OBJ, commerce_event_fields);
#undef OBJ

#define OBJ mp_session_end_data
static const mp__field session_end_fields[] = {
    INT(session_duration_ms, REQ | MP__F_DOC_OPTIONAL),
};
static OBJECT(session_end_object, "session_end", OBJ, session_end_fields);
#undef OBJ

#define OBJ mp_crash_report_data
static const mp__field crash_report_fields[] = {
    STRLIST(breadcrumbs, 0),
    STR(class_name, 0),
    STR(severity, 0),
    STR(message, 0),
    STR(stack_trace, 0),
    BOOL(exception_handled, 0),
    STR(topmost_context, 0),
    STR(pl_crash_report_file_base64, 0),
    INT(ios_image_base_address, 0),
    INT(ios_image_size, 0),
    INT(session_number, 0),
};
static OBJECT(crash_report_object, "crash_report", OBJ, crash_report_fields);
#undef OBJ

#define OBJ mp_opt_out_data
static const mp__field opt_out_fields[] = {
    BOOL(is_opted_out, REQ),
};
static OBJECT(opt_out_object, "opt_out", OBJ, opt_out_fields);
#undef OBJ

#define OBJ mp_push_registration_data
static const mp__field push_registration_fields[] = {
    FIELD(register_, "register", MP__K_BOOL, REQ, 0, NULL),
    STR(registration_token, REQ),
};
static OBJECT(push_registration_object, "push_registration", OBJ, push_registration_fields);
#undef OBJ

#define OBJ mp_application_state_transition_data
static const mp__field application_state_transition_fields[] = {
    BOOL(successfully_closed, 0),
    BOOL(is_first_run, 0),
    BOOL(is_upgrade, 0),
    STR(push_notification_payload, 0),
    STR(launch_referral, 0),
    ENUMF(application_transition_type, REQ, application_transition_enum),
};
static OBJECT(application_state_transition_object, "application_state_transition", OBJ,
              application_state_transition_fields);
#undef OBJ

#define OBJ mp_push_message_data
static const mp__field push_message_fields[] = {
    STR(push_message_token, REQ | MP__F_DOC_OPTIONAL),
    ENUMF(push_message_type, REQ, push_message_type_enum),
    STR(message, 0),
    STR(network, 0),
    STR(push_notification_payload, REQ),
    ENUMF(application_state, 0, application_state_enum),
    STRMAX(action_identifier, 0, 100),
    ENUMF(push_message_behavior, 0, push_message_behavior_enum),
};
static OBJECT(push_message_object, "push_message", OBJ, push_message_fields);
#undef OBJ

#define OBJ mp_network_performance_data
static const mp__field network_performance_fields[] = {
    STR(http_verb, 0),
    STR(url, REQ | MP__F_DOC_OPTIONAL),
    INT(time_elapsed, 0),
    INT(bytes_in, 0),
    INT(bytes_out, 0),
    INT(response_code, REQ | MP__F_DOC_OPTIONAL),
    STR(data, 0),
};
static OBJECT(network_performance_object, "network_performance", OBJ,
              network_performance_fields);
#undef OBJ

#define OBJ mp_breadcrumb_data
static const mp__field breadcrumb_fields[] = {
    INT(session_number, 0),
    STR(label, REQ),
};
static OBJECT(breadcrumb_object, "breadcrumb", OBJ, breadcrumb_fields);
#undef OBJ

#define OBJ mp_profile_data
static const mp__field profile_fields[] = {
    INT(previous_mpid, REQ),
    INT(current_mpid, REQ),
    ENUMF(profile_event_type, REQ, profile_event_type_enum),
    STR(profile_name, NOSCH),
    STR(previous_profile_name, NOSCH),
};
static OBJECT(profile_object, "profile", OBJ, profile_fields);
#undef OBJ

#define OBJ mp_user_attribute_change_data
static const mp__field user_attribute_change_fields[] = {
    STR(user_attribute_name, REQ),
    FIELD(new_, "new", MP__K_VALUE, REQ | MP__F_NULL_OK, 0, NULL),
    FIELD(old, "old", MP__K_VALUE, REQ | MP__F_NULL_OK, 0, NULL),
    BOOL(deleted, 0),
    BOOL(is_new_attribute, 0),
};
static OBJECT(user_attribute_change_object, "user_attribute_change", OBJ,
              user_attribute_change_fields);
#undef OBJ

#define OBJ mp_user_identity_change_data
static const mp__field user_identity_change_fields[] = {
    FIELD(new_, "new", MP__K_OBJECT, REQ, 0, &mp__user_identity_object),
    FIELD(old, "old", MP__K_OBJECT, REQ | MP__F_NULL_OK, 0, &mp__user_identity_object),
};
static OBJECT(user_identity_change_object, "user_identity_change", OBJ,
              user_identity_change_fields);
#undef OBJ

/* Indexed by mp_event_type. */
const mp__event_desc mp__event_descs[] = {
    {{NULL, 0}, NULL},
    {N("session_start"), NULL},
    {N("session_end"), &session_end_object},
    {N("screen_view"), &screen_view_object},
    {N("custom_event"), &custom_event_object},
    {N("crash_report"), &crash_report_object},
    {N("opt_out"), &opt_out_object},
    {N("first_run"), NULL},
    {N("pre_attribution"), NULL},
    {N("push_registration"), &push_registration_object},
    {N("application_state_transition"), &application_state_transition_object},
    {N("push_message"), &push_message_object},
    {N("network_performance"), &network_performance_object},
    {N("breadcrumb"), &breadcrumb_object},
    {N("profile"), &profile_object},
    {N("push_reaction"), NULL},
    {N("commerce_event"), &commerce_event_object},
    {N("user_attribute_change"), &user_attribute_change_object},
    {N("user_identity_change"), &user_identity_change_object},
    {N("uninstall"), NULL},
};
const int mp__event_desc_count = (int)(sizeof(mp__event_descs) / sizeof(mp__event_descs[0]));
static_assert(sizeof(mp__event_descs) / sizeof(mp__event_descs[0]) == MP_EVENT_UNINSTALL + 1,
              "mp__event_descs must list every mp_event_type");

/* ------------------------------------------------------------------------ */
/* The batch                                                                */
/* ------------------------------------------------------------------------ */

#define OBJ mp_batch
static const mp__field batch_fields[] = {
    STR(source_request_id, 0),
    OBJF(context, 0, context_object),
    FIELD(events, "events", MP__K_EVENT_LIST, 0, 0, NULL),
    OBJF(device_info, 0, device_info_object),
    OBJF(application_info, 0, application_info_object),
    ATTRS(user_attributes, MP__F_USER_ATTRIBUTES),
    STRLIST(deleted_user_attributes, 0),
    OBJF(user_identities, 0, user_identities_object),
    ENUMF(environment, REQ, environment_enum),
    STR(api_key, 0),
    STRLIST(api_keys, 0),
    STR(ip, MP__F_IP),
    STRMAPMAP(integration_attributes, 0),
    STR(partner_identity, 0),
    STRMAP(partner_identities, NOSCH),
    OBJF(source_info, OUT, source_info_object),
    STR(mp_deviceid, UUID),
    OBJF(attribution_info, 0, attribution_info_object),
    INT(timestamp_unixtime_ms, OUT),
    INT(batch_id, OUT),
    INT(mpid, 0),
    STR(sdk_version, 0),
    OBJF(consent_state, 0, consent_state_object),
    STR(job_id, 0),
    INT(origin_mpid, 0),
    INT(schema_version, OUT | NOSCH),
    BOOL(modified, NOSCH),
};
OBJECT(mp__batch_object, "batch", OBJ, batch_fields);
#undef OBJ

const mp__object *const mp__all_objects[] = {
    &mp__batch_object, &context_object, &data_plan_object, &batching_object,
    &context_location_object, &geo_location_object, &user_identities_object,
    &device_info_object, &application_info_object, &source_info_object,
    &attribution_info_object, &consent_state_object, &mp__consent_object, &ccpa_object,
    &device_current_state_object, &system_notification_object, &mp__event_common_object,
    &media_info_object, &product_object, &product_action_object, &promotion_object,
    &promotion_action_object, &product_impression_object, &shopping_cart_object,
    &mp__user_identity_object, &custom_event_object, &screen_view_object,
    &commerce_event_object, &session_end_object, &crash_report_object, &opt_out_object,
    &push_registration_object, &application_state_transition_object, &push_message_object,
    &network_performance_object, &breadcrumb_object, &profile_object,
    &user_attribute_change_object, &user_identity_change_object,
};
const size_t mp__all_objects_count = sizeof(mp__all_objects) / sizeof(mp__all_objects[0]);

/* ------------------------------------------------------------------------ */
/* Look-ups                                                                 */
/* ------------------------------------------------------------------------ */

const mp__field *mp__object_find(const mp__object *obj, const char *name, size_t len) {
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        if (f->name_len == len && memcmp(f->name, name, len) == 0)
            return f;
    }
    return NULL;
}

int mp__enum_find(const mp__enum *e, const char *name, size_t len) {
    for (int i = 1; i < e->count; i++) {
        if (e->names[i].len == len && memcmp(e->names[i].name, name, len) == 0)
            return i;
    }
    return 0;
}

int mp__event_type_find(const char *name, size_t len) {
    return mp__enum_find(&mp__event_type_enum, name, len);
}

const char *mp_enum_name(mp_enum_kind kind, int value) {
    if ((int)kind < 0 || (int)kind >= mp__enum_count)
        return NULL;
    const mp__enum *e = mp__enums[kind];
    if (value <= 0 || value >= e->count)
        return NULL;
    return e->names[value].name;
}

int mp_enum_parse(mp_enum_kind kind, const char *name) {
    if ((int)kind < 0 || (int)kind >= mp__enum_count || name == NULL)
        return 0;
    return mp__enum_find(mp__enums[kind], name, strlen(name));
}
