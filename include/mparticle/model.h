/*
 * libmparticle: the mParticle Events API batch format as plain C structs.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 *
 * Conventions, for every struct in this file:
 *
 *  - Plain data, filled by the caller (designated initializers read like the
 *    Go SDK's models) or by the decoder. Zero-initialised means "nothing set":
 *    a `{0}` struct encodes as `{}`.
 *  - Strings are borrowed `const char *`, NUL-terminated UTF-8. NULL means
 *    absent (the key is not written). MP_STRING_NULL means an explicit JSON
 *    null. The library never keeps a caller's pointer after a call returns.
 *  - Numbers and booleans that may be absent are mp_opt_int64, mp_opt_double
 *    and mp_opt_bool: absent, a value (0 and false included) or null. Every
 *    millisecond time and every id is 64-bit.
 *  - Nested objects are `const T *`: NULL is absent, MP_NULL_OF(T) is null.
 *  - Lists and maps are {items, count} pairs: items == NULL is absent, a
 *    non-NULL items with count 0 is `[]` or `{}`, MP_NULL_OF(T) items is null.
 *    Map entries keep the caller's order on the wire.
 *  - Enums: 0 is "absent"; every other constant is one exact JSON string
 *    (mp_enum_name() gives it).
 *
 * ABI policy: within a major version, fields are only appended at the end of
 * a struct and enum constants only appended at the end of an enum. Anything
 * else bumps the SONAME. Always zero-initialise (`= {0}` or designated
 * initializers) so that fields added later start absent.
 */
#ifndef MPARTICLE_MODEL_H
#define MPARTICLE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Presence: absent, a value, or null                                        */
/* ------------------------------------------------------------------------ */

/** State of an optional scalar. */
typedef enum mp_state {
    MP_ABSENT = 0,  /**< not set: the key is not written */
    MP_PRESENT = 1, /**< set: `value` is written, even when it is 0 or false */
    MP_NULLED = 2   /**< set to JSON null */
} mp_state;

/** Optional 64-bit integer. */
typedef struct mp_opt_int64 {
    unsigned char state; /**< mp_state */
    int64_t value; /**< the value when state is MP_PRESENT */
} mp_opt_int64;

/** Optional double. NaN and infinities cannot be encoded (MP_ERR_NOT_FINITE). */
typedef struct mp_opt_double {
    unsigned char state; /**< mp_state */
    double value; /**< the value when state is MP_PRESENT */
} mp_opt_double;

/** Optional boolean. */
typedef struct mp_opt_bool {
    unsigned char state; /**< mp_state */
    unsigned char value; /**< 0 or 1 */
} mp_opt_bool;

/** Storage of the null sentinel; compare addresses, never read it. */
typedef union mp_null_t {
    char bytes[16]; /**< room for any pointer target */
    void *pointer; /**< aligns it for pointers */
    double number; /**< aligns it for doubles */
} mp_null_t;
MP_API extern const mp_null_t mp_null;

#ifdef __cplusplus
#  define MP__LIT(T) T
#else
#  define MP__LIT(T) (T)
#endif

/** A present integer: `.mpid = MP_INT(-42)`. */
#define MP_INT(v) (MP__LIT(mp_opt_int64){MP_PRESENT, (int64_t)(v)})
/** A present double: `.price = MP_DOUBLE(19.99)`. */
#define MP_DOUBLE(v) (MP__LIT(mp_opt_double){MP_PRESENT, (double)(v)})
/** A present boolean: `.consented = MP_BOOL(0)` sends false. */
#define MP_BOOL(v) (MP__LIT(mp_opt_bool){MP_PRESENT, (unsigned char)((v) ? 1 : 0)})
#define MP_TRUE MP_BOOL(1)
#define MP_FALSE MP_BOOL(0)
/** Explicit JSON null for an optional scalar. */
#define MP_INT_NULL (MP__LIT(mp_opt_int64){MP_NULLED, 0})
#define MP_DOUBLE_NULL (MP__LIT(mp_opt_double){MP_NULLED, 0.0})
#define MP_BOOL_NULL (MP__LIT(mp_opt_bool){MP_NULLED, 0})
/** Explicit JSON null for a string field. Reads as "" if printed. */
#define MP_STRING_NULL ((const char *)&mp_null)
/** Explicit JSON null for an object pointer or a list's items: MP_NULL_OF(mp_location). */
#define MP_NULL_OF(T) ((const T *)(const void *)&mp_null)
/** True when a string, object or items pointer is the JSON-null sentinel. */
#define MP_IS_NULL(p) ((const void *)(p) == (const void *)&mp_null)
/** A list from a C array: `.events = MP_LIST(mp_event_list, events)`. */
#define MP_LIST(T, array) (MP__LIT(T){(array), sizeof(array) / sizeof((array)[0])})

/* ------------------------------------------------------------------------ */
/* Enums (docs/api-notes.md §4.5). 0 is always "absent". The JSON strings   */
/* are in comments and come from mp_enum_name().                           */
/* ------------------------------------------------------------------------ */

/** Batch `environment`. */
typedef enum mp_environment {
    MP_ENVIRONMENT_UNSET = 0,
    MP_ENVIRONMENT_DEVELOPMENT, /**< "development" */
    MP_ENVIRONMENT_PRODUCTION,  /**< "production" */
    MP_ENVIRONMENT_UNKNOWN      /**< "unknown" (JAVA/NET/OAS; the JSON Schema rejects it) */
} mp_environment;

/** IdentityType: `user_identity_change` identity_type values. */
typedef enum mp_identity_type {
    MP_IDENTITY_UNSET = 0,
    MP_IDENTITY_OTHER,                       /**< "other" */
    MP_IDENTITY_CUSTOMER_ID,                 /**< "customer_id" */
    MP_IDENTITY_FACEBOOK,                    /**< "facebook" */
    MP_IDENTITY_TWITTER,                     /**< "twitter" */
    MP_IDENTITY_GOOGLE,                      /**< "google" */
    MP_IDENTITY_MICROSOFT,                   /**< "microsoft" */
    MP_IDENTITY_YAHOO,                       /**< "yahoo" */
    MP_IDENTITY_EMAIL,                       /**< "email" */
    MP_IDENTITY_ALIAS,                       /**< "alias" */
    MP_IDENTITY_FACEBOOK_CUSTOM_AUDIENCE_ID, /**< "facebook_custom_audience_id" */
    MP_IDENTITY_OTHER_ID_2,                  /**< "other_id_2" */
    MP_IDENTITY_OTHER_ID_3,                  /**< "other_id_3" */
    MP_IDENTITY_OTHER_ID_4,                  /**< "other_id_4" */
    MP_IDENTITY_OTHER_ID_5,                  /**< "other_id_5" */
    MP_IDENTITY_OTHER_ID_6,                  /**< "other_id_6" */
    MP_IDENTITY_OTHER_ID_7,                  /**< "other_id_7" */
    MP_IDENTITY_OTHER_ID_8,                  /**< "other_id_8" */
    MP_IDENTITY_OTHER_ID_9,                  /**< "other_id_9" */
    MP_IDENTITY_OTHER_ID_10,                 /**< "other_id_10" */
    MP_IDENTITY_MOBILE_NUMBER,               /**< "mobile_number" */
    MP_IDENTITY_PHONE_NUMBER_2,              /**< "phone_number_2" */
    MP_IDENTITY_PHONE_NUMBER_3               /**< "phone_number_3" */
} mp_identity_type;

/** `custom_event.custom_event_type`. */
typedef enum mp_custom_event_type {
    MP_CUSTOM_EVENT_TYPE_UNSET = 0,
    MP_CUSTOM_EVENT_TYPE_NAVIGATION,      /**< "navigation" */
    MP_CUSTOM_EVENT_TYPE_LOCATION,        /**< "location" */
    MP_CUSTOM_EVENT_TYPE_SEARCH,          /**< "search" */
    MP_CUSTOM_EVENT_TYPE_TRANSACTION,     /**< "transaction" */
    MP_CUSTOM_EVENT_TYPE_USER_CONTENT,    /**< "user_content" */
    MP_CUSTOM_EVENT_TYPE_USER_PREFERENCE, /**< "user_preference" */
    MP_CUSTOM_EVENT_TYPE_SOCIAL,          /**< "social" */
    MP_CUSTOM_EVENT_TYPE_OTHER,           /**< "other" */
    MP_CUSTOM_EVENT_TYPE_MEDIA,           /**< "media" */
    MP_CUSTOM_EVENT_TYPE_ATTRIBUTION      /**< "attribution" (DOC, GO; the JSON Schema lacks it) */
} mp_custom_event_type;

/** `commerce_event.custom_event_type`: derived by the server, rarely sent. */
typedef enum mp_commerce_event_type {
    MP_COMMERCE_EVENT_TYPE_UNSET = 0,
    MP_COMMERCE_EVENT_TYPE_ADD_TO_CART,          /**< "add_to_cart" */
    MP_COMMERCE_EVENT_TYPE_REMOVE_FROM_CART,     /**< "remove_from_cart" */
    MP_COMMERCE_EVENT_TYPE_CHECKOUT,             /**< "checkout" */
    MP_COMMERCE_EVENT_TYPE_CHECKOUT_OPTION,      /**< "checkout_option" */
    MP_COMMERCE_EVENT_TYPE_CLICK,                /**< "click" */
    MP_COMMERCE_EVENT_TYPE_VIEW_DETAIL,          /**< "view_detail" */
    MP_COMMERCE_EVENT_TYPE_PURCHASE,             /**< "purchase" */
    MP_COMMERCE_EVENT_TYPE_REFUND,               /**< "refund" */
    MP_COMMERCE_EVENT_TYPE_PROMOTION_VIEW,       /**< "promotion_view" */
    MP_COMMERCE_EVENT_TYPE_PROMOTION_CLICK,      /**< "promotion_click" */
    MP_COMMERCE_EVENT_TYPE_ADD_TO_WISHLIST,      /**< "add_to_wishlist" */
    MP_COMMERCE_EVENT_TYPE_REMOVE_FROM_WISHLIST, /**< "remove_from_wishlist" (no underscore in wishlist) */
    MP_COMMERCE_EVENT_TYPE_IMPRESSION,           /**< "impression" */
    MP_COMMERCE_EVENT_TYPE_NAVIGATION,           /**< "navigation" */
    MP_COMMERCE_EVENT_TYPE_LOCATION,             /**< "location" */
    MP_COMMERCE_EVENT_TYPE_SEARCH,               /**< "search" */
    MP_COMMERCE_EVENT_TYPE_TRANSACTION,          /**< "transaction" */
    MP_COMMERCE_EVENT_TYPE_USER_CONTENT,         /**< "user_content" */
    MP_COMMERCE_EVENT_TYPE_USER_PREFERENCE,      /**< "user_preference" */
    MP_COMMERCE_EVENT_TYPE_SOCIAL,               /**< "social" */
    MP_COMMERCE_EVENT_TYPE_OTHER,                /**< "other" */
    MP_COMMERCE_EVENT_TYPE_MEDIA,                /**< "media" */
    MP_COMMERCE_EVENT_TYPE_ATTRIBUTION,          /**< "attribution" */
    MP_COMMERCE_EVENT_TYPE_CONSENT_GRANTED,      /**< "consent_granted" */
    MP_COMMERCE_EVENT_TYPE_CONSENT_DENIED        /**< "consent_denied" */
} mp_commerce_event_type;

/** `product_action.action`. */
typedef enum mp_product_action_type {
    MP_PRODUCT_ACTION_UNSET = 0,
    MP_PRODUCT_ACTION_ADD_TO_CART,          /**< "add_to_cart" */
    MP_PRODUCT_ACTION_REMOVE_FROM_CART,     /**< "remove_from_cart" */
    MP_PRODUCT_ACTION_CHECKOUT,             /**< "checkout" */
    MP_PRODUCT_ACTION_CHECKOUT_OPTION,      /**< "checkout_option" */
    MP_PRODUCT_ACTION_CLICK,                /**< "click" */
    MP_PRODUCT_ACTION_VIEW_DETAIL,          /**< "view_detail" */
    MP_PRODUCT_ACTION_PURCHASE,             /**< "purchase" */
    MP_PRODUCT_ACTION_REFUND,               /**< "refund" */
    MP_PRODUCT_ACTION_ADD_TO_WISHLIST,      /**< "add_to_wishlist" */
    MP_PRODUCT_ACTION_REMOVE_FROM_WISHLIST  /**< "remove_from_wish_list" (underscore: the API's spelling) */
} mp_product_action_type;

/** `promotion_action.action`. */
typedef enum mp_promotion_action_type {
    MP_PROMOTION_ACTION_UNSET = 0,
    MP_PROMOTION_ACTION_VIEW, /**< "view" */
    MP_PROMOTION_ACTION_CLICK /**< "click" */
} mp_promotion_action_type;

/** `application_transition_type`. */
typedef enum mp_application_transition_type {
    MP_APPLICATION_TRANSITION_UNSET = 0,
    MP_APPLICATION_TRANSITION_INITIALIZED, /**< "application_initialized" */
    MP_APPLICATION_TRANSITION_EXIT,        /**< "application_exit" */
    MP_APPLICATION_TRANSITION_BACKGROUND,  /**< "application_background" */
    MP_APPLICATION_TRANSITION_FOREGROUND   /**< "application_foreground" */
} mp_application_transition_type;

/** `push_message.push_message_type`. */
typedef enum mp_push_message_type {
    MP_PUSH_MESSAGE_TYPE_UNSET = 0,
    MP_PUSH_MESSAGE_TYPE_SENT,     /**< "sent" */
    MP_PUSH_MESSAGE_TYPE_RECEIVED, /**< "received" */
    MP_PUSH_MESSAGE_TYPE_ACTION    /**< "action" */
} mp_push_message_type;

/** `push_message.application_state`. */
typedef enum mp_application_state {
    MP_APPLICATION_STATE_UNSET = 0,
    MP_APPLICATION_STATE_NOT_RUNNING, /**< "not_running" */
    MP_APPLICATION_STATE_BACKGROUND,  /**< "background" */
    MP_APPLICATION_STATE_FOREGROUND   /**< "foreground" */
} mp_application_state;

/** `push_message.push_message_behavior` (the string form of SCH/OAS/JAVA/NET/TS). */
typedef enum mp_push_message_behavior {
    MP_PUSH_MESSAGE_BEHAVIOR_UNSET = 0,
    MP_PUSH_MESSAGE_BEHAVIOR_RECEIVED,        /**< "Received" */
    MP_PUSH_MESSAGE_BEHAVIOR_DIRECT_OPEN,     /**< "DirectOpen" */
    MP_PUSH_MESSAGE_BEHAVIOR_READ,            /**< "Read" */
    MP_PUSH_MESSAGE_BEHAVIOR_INFLUENCED_OPEN, /**< "InfluencedOpen" */
    MP_PUSH_MESSAGE_BEHAVIOR_DISPLAYED        /**< "Displayed" */
} mp_push_message_behavior;

/** `device_info.att_authorization_status`. */
typedef enum mp_att_status {
    MP_ATT_STATUS_UNSET = 0,
    MP_ATT_STATUS_AUTHORIZED,     /**< "authorized" */
    MP_ATT_STATUS_DENIED,         /**< "denied" */
    MP_ATT_STATUS_NOT_DETERMINED, /**< "not_determined" */
    MP_ATT_STATUS_RESTRICTED      /**< "restricted" */
} mp_att_status;

/** `device_info.platform`. Note "iOS" here but "IOS" in mp_os. */
typedef enum mp_platform {
    MP_PLATFORM_UNSET = 0,
    MP_PLATFORM_IOS,         /**< "iOS" */
    MP_PLATFORM_ANDROID,     /**< "Android" */
    MP_PLATFORM_WEB,         /**< "web" */
    MP_PLATFORM_DESKTOP,     /**< "desktop" (OAS/JAVA/NET/TS; the JSON Schema rejects it) */
    MP_PLATFORM_TVOS,        /**< "tvOS" */
    MP_PLATFORM_ROKU,        /**< "roku" */
    MP_PLATFORM_OUT_OF_BAND, /**< "out_of_band" */
    MP_PLATFORM_ALEXA,       /**< "alexa" */
    MP_PLATFORM_SMART_TV,    /**< "smart_tv" */
    MP_PLATFORM_FIRE_TV,     /**< "fire_tv" (not JAVA 2.7's "FireTV", which the schema rejects) */
    MP_PLATFORM_XBOX         /**< "xbox" */
} mp_platform;

/** `application_info.os` (PascalCase). */
typedef enum mp_os {
    MP_OS_UNSET = 0,
    MP_OS_UNKNOWN,       /**< "Unknown" */
    MP_OS_IOS,           /**< "IOS" */
    MP_OS_ANDROID,       /**< "Android" */
    MP_OS_WINDOWS_PHONE, /**< "WindowsPhone" */
    MP_OS_MOBILE_WEB,    /**< "MobileWeb" */
    MP_OS_UNITY_IOS,     /**< "UnityIOS" */
    MP_OS_UNITY_ANDROID, /**< "UnityAndroid" */
    MP_OS_DESKTOP,       /**< "Desktop" */
    MP_OS_TVOS,          /**< "TVOS" */
    MP_OS_ROKU,          /**< "Roku" */
    MP_OS_OUT_OF_BAND,   /**< "OutOfBand" */
    MP_OS_ALEXA,         /**< "Alexa" */
    MP_OS_SMART_TV,      /**< "SmartTV" */
    MP_OS_FIRE_TV,       /**< "FireTV" */
    MP_OS_XBOX           /**< "Xbox" */
} mp_os;

/** `device_orientation` and `status_bar_orientation`. */
typedef enum mp_orientation {
    MP_ORIENTATION_UNSET = 0,
    MP_ORIENTATION_PORTRAIT,             /**< "portrait" */
    MP_ORIENTATION_PORTRAIT_UPSIDE_DOWN, /**< "portrait_upside_down" */
    MP_ORIENTATION_LANDSCAPE,            /**< "landscape" */
    MP_ORIENTATION_LANDSCAPE_LEFT,       /**< "LandscapeLeft" */
    MP_ORIENTATION_LANDSCAPE_RIGHT,      /**< "LandscapeRight" */
    MP_ORIENTATION_FACE_UP,              /**< "FaceUp" */
    MP_ORIENTATION_FACE_DOWN,            /**< "FaceDown" */
    MP_ORIENTATION_SQUARE,               /**< "Square" */
    MP_ORIENTATION_UNKNOWN,              /**< "unknown" (PY/NODE/RB; in the official sample) */
    MP_ORIENTATION_SQUARE_LOWERCASE      /**< "square" (DOC's spelling) */
} mp_orientation;

/** `profile.profile_event_type`. */
typedef enum mp_profile_event_type {
    MP_PROFILE_EVENT_UNSET = 0,
    MP_PROFILE_EVENT_SIGNUP, /**< "signup" */
    MP_PROFILE_EVENT_LOGIN,  /**< "login" */
    MP_PROFILE_EVENT_LOGOUT, /**< "logout" */
    MP_PROFILE_EVENT_UPDATE, /**< "update" */
    MP_PROFILE_EVENT_DELETE  /**< "delete" */
} mp_profile_event_type;

/** `source_info.channel`. */
typedef enum mp_channel {
    MP_CHANNEL_UNSET = 0,
    MP_CHANNEL_NATIVE,           /**< "native" */
    MP_CHANNEL_JAVASCRIPT,       /**< "javascript" */
    MP_CHANNEL_PIXEL,            /**< "pixel" */
    MP_CHANNEL_DESKTOP,          /**< "desktop" */
    MP_CHANNEL_PARTNER,          /**< "partner" */
    MP_CHANNEL_SERVER_TO_SERVER, /**< "server_to_server" */
    MP_CHANNEL_UNKNOWN           /**< "unknown" (DOC) */
} mp_channel;

/** `event_system_notification_info.type`. */
typedef enum mp_system_notification_type {
    MP_SYSTEM_NOTIFICATION_UNSET = 0,
    MP_SYSTEM_NOTIFICATION_GDPR_CHANGE /**< "gdpr_change" */
} mp_system_notification_type;

/** `context.location.location_source` (DOC only). */
typedef enum mp_location_source {
    MP_LOCATION_SOURCE_UNSET = 0,
    MP_LOCATION_SOURCE_UNKNOWN,   /**< "unknown" */
    MP_LOCATION_SOURCE_IP_LOOKUP, /**< "ip_lookup" */
    MP_LOCATION_SOURCE_LAT_LONG   /**< "lat_long" */
} mp_location_source;

/** `media_info.action` (PY/NODE/RB). */
typedef enum mp_media_action {
    MP_MEDIA_ACTION_UNSET = 0,
    MP_MEDIA_ACTION_UNKNOWN,                  /**< "unknown" */
    MP_MEDIA_ACTION_PLAY,                     /**< "play" */
    MP_MEDIA_ACTION_STOP,                     /**< "stop" */
    MP_MEDIA_ACTION_UPDATE_PLAYBACK_POSITION, /**< "update_playback_position" */
    MP_MEDIA_ACTION_SKIP,                     /**< "skip" */
    MP_MEDIA_ACTION_RATE                      /**< "rate" */
} mp_media_action;

/** `media_info.format`. */
typedef enum mp_media_format {
    MP_MEDIA_FORMAT_UNSET = 0,
    MP_MEDIA_FORMAT_UNKNOWN, /**< "unknown" */
    MP_MEDIA_FORMAT_AUDIO,   /**< "audio" */
    MP_MEDIA_FORMAT_VIDEO    /**< "video" */
} mp_media_format;

/** `media_info.quality`. */
typedef enum mp_media_quality {
    MP_MEDIA_QUALITY_UNSET = 0,
    MP_MEDIA_QUALITY_UNKNOWN,  /**< "unknown" */
    MP_MEDIA_QUALITY_LOW,      /**< "low" */
    MP_MEDIA_QUALITY_SD,       /**< "sd" */
    MP_MEDIA_QUALITY_MEDIUM,   /**< "medium" */
    MP_MEDIA_QUALITY_HD,       /**< "hd" */
    MP_MEDIA_QUALITY_ULTRA_HD  /**< "ultra_hd" */
} mp_media_quality;

/** `event_type`: the 19 values of GO, NET, SCH and OAS. */
typedef enum mp_event_type {
    MP_EVENT_UNSET = 0,
    MP_EVENT_SESSION_START,                /**< "session_start" */
    MP_EVENT_SESSION_END,                  /**< "session_end" */
    MP_EVENT_SCREEN_VIEW,                  /**< "screen_view" */
    MP_EVENT_CUSTOM_EVENT,                 /**< "custom_event" */
    MP_EVENT_CRASH_REPORT,                 /**< "crash_report" */
    MP_EVENT_OPT_OUT,                      /**< "opt_out" */
    MP_EVENT_FIRST_RUN,                    /**< "first_run" */
    MP_EVENT_PRE_ATTRIBUTION,              /**< "pre_attribution" (no inbound data model; validation rejects it) */
    MP_EVENT_PUSH_REGISTRATION,            /**< "push_registration" */
    MP_EVENT_APPLICATION_STATE_TRANSITION, /**< "application_state_transition" */
    MP_EVENT_PUSH_MESSAGE,                 /**< "push_message" */
    MP_EVENT_NETWORK_PERFORMANCE,          /**< "network_performance" */
    MP_EVENT_BREADCRUMB,                   /**< "breadcrumb" */
    MP_EVENT_PROFILE,                      /**< "profile" */
    MP_EVENT_PUSH_REACTION,                /**< "push_reaction" (no inbound data model; validation rejects it) */
    MP_EVENT_COMMERCE_EVENT,               /**< "commerce_event" */
    MP_EVENT_USER_ATTRIBUTE_CHANGE,        /**< "user_attribute_change" */
    MP_EVENT_USER_IDENTITY_CHANGE,         /**< "user_identity_change" */
    MP_EVENT_UNINSTALL                     /**< "uninstall" */
} mp_event_type;

/** Identifies an enum type for mp_enum_name() / mp_enum_parse(). */
typedef enum mp_enum_kind {
    MP_ENUM_ENVIRONMENT,
    MP_ENUM_IDENTITY_TYPE,
    MP_ENUM_CUSTOM_EVENT_TYPE,
    MP_ENUM_COMMERCE_EVENT_TYPE,
    MP_ENUM_PRODUCT_ACTION,
    MP_ENUM_PROMOTION_ACTION,
    MP_ENUM_APPLICATION_TRANSITION,
    MP_ENUM_PUSH_MESSAGE_TYPE,
    MP_ENUM_APPLICATION_STATE,
    MP_ENUM_PUSH_MESSAGE_BEHAVIOR,
    MP_ENUM_ATT_STATUS,
    MP_ENUM_PLATFORM,
    MP_ENUM_OS,
    MP_ENUM_ORIENTATION,
    MP_ENUM_PROFILE_EVENT_TYPE,
    MP_ENUM_CHANNEL,
    MP_ENUM_SYSTEM_NOTIFICATION,
    MP_ENUM_LOCATION_SOURCE,
    MP_ENUM_MEDIA_ACTION,
    MP_ENUM_MEDIA_FORMAT,
    MP_ENUM_MEDIA_QUALITY,
    MP_ENUM_EVENT_TYPE
} mp_enum_kind;

/** The exact JSON string of an enum value, or NULL for 0 (absent) and out-of-range values. Any thread. */
MP_API const char *mp_enum_name(mp_enum_kind kind, int value);
/** The enum value whose JSON string is `name` (exact, case-sensitive), or 0 if none. Any thread. */
MP_API int mp_enum_parse(mp_enum_kind kind, const char *name);

/* ------------------------------------------------------------------------ */
/* Values, attributes and maps                                              */
/* ------------------------------------------------------------------------ */

/** Type of an mp_value. */
typedef enum mp_value_type {
    MP_VALUE_ABSENT = 0,
    MP_VALUE_NULL,   /**< JSON null (a "tag" user attribute) */
    MP_VALUE_STRING, /**< u.string */
    MP_VALUE_INT,    /**< u.integer, exact 64-bit */
    MP_VALUE_DOUBLE, /**< u.number */
    MP_VALUE_BOOL,   /**< u.boolean */
    MP_VALUE_LIST    /**< u.list: scalars only (user attributes, user_attribute_change) */
} mp_value_type;

/** An attribute value: a scalar, null, or a list of scalars. */
typedef struct mp_value {
    mp_value_type type; /**< which member of u holds the value */
    union {
        const char *string;
        int64_t integer;
        double number;
        int boolean;
        struct {
            const struct mp_value *items;
            size_t count;
        } list;
    } u; /**< the value */
} mp_value;

/**
 * @name Attribute values
 * Initialisers of an mp_value, in C and in C++ alike:
 * `mp_value v[] = {MP_V_STRING("a"), MP_V_INT(2), MP_V_LIST(other)};`.
 * In C they are designated initialisers; C++ has no designated initialiser
 * for a union member other than the first, so there they call the inline
 * functions below (mp_cxx_value_int() and so on), which give the same value.
 * @{
 */
/** A string value (borrowed). */
#define MP_V_STRING(s) {MP_VALUE_STRING, {(s)}}
#ifndef __cplusplus
/** A 64-bit integer value. */
#  define MP_V_INT(i) {MP_VALUE_INT, {.integer = (int64_t)(i)}}
/** A double value; NaN and infinities cannot be encoded. */
#  define MP_V_DOUBLE(d) {MP_VALUE_DOUBLE, {.number = (double)(d)}}
/** A boolean value: any non-zero is true. */
#  define MP_V_BOOL(b) {MP_VALUE_BOOL, {.boolean = (b) ? 1 : 0}}
/** A list of scalars from a C array of mp_value (its length from sizeof). */
#  define MP_V_LIST(array) {MP_VALUE_LIST, {.list = {(array), sizeof(array) / sizeof((array)[0])}}}
#else
#  define MP_V_INT(i) mp_cxx_value_int((int64_t)(i))
#  define MP_V_DOUBLE(d) mp_cxx_value_double((double)(d))
#  define MP_V_BOOL(b) mp_cxx_value_bool((b) ? true : false)
#  define MP_V_LIST(array) mp_cxx_value_list(array)
#endif
/** JSON null (a "tag" in user_attributes). */
#define MP_V_NULL {MP_VALUE_NULL, {0}}
/** @} */

/** A named attribute: `{"Account type", MP_V_STRING("trial")}`. */
typedef struct mp_attribute {
    const char *name; /**< the attribute's name (at most 256 characters) */
    mp_value value; /**< its value: a scalar, null, or (user attributes only) a list */
} mp_attribute;

/** Ordered map of attributes (custom_attributes, custom_flags, user_attributes). */
typedef struct mp_attribute_list {
    /** the attributes, in wire order; MP_NULL_OF(mp_attribute) sends null */
    const mp_attribute *items;
    size_t count; /**< the number of items */
} mp_attribute_list;

/** A list of strings. */
typedef struct mp_string_list {
    const char *const *items; /**< the strings, in order; MP_NULL_OF(const char *) sends null */
    size_t count; /**< the number of strings */
} mp_string_list;

/** A string-to-string entry. */
typedef struct mp_string_pair {
    const char *name; /**< the key */
    const char *value; /**< its string value */
} mp_string_pair;

/** Ordered string-to-string map. */
typedef struct mp_string_map {
    const mp_string_pair *items; /**< the entries, in wire order */
    size_t count; /**< the number of entries */
} mp_string_map;

/** A named string map: one entry of a map of maps. */
typedef struct mp_string_map_entry {
    const char *name; /**< the entry's key */
    mp_string_map value; /**< its map */
} mp_string_map_entry;

/** Ordered map of string maps (integration_attributes, apple_search_ads_attributes). */
typedef struct mp_string_map_map {
    const mp_string_map_entry *items; /**< the entries, in wire order */
    size_t count; /**< the number of entries */
} mp_string_map_map;

/* ------------------------------------------------------------------------ */
/* Batch-level objects                                                      */
/* ------------------------------------------------------------------------ */

/** `context.data_plan`. */
typedef struct mp_data_plan_context {
    const char *plan_id;       /**< required */
    mp_opt_int64 plan_version; /**< omitted = the plan's latest version */
} mp_data_plan_context;

/** `context.batching` (GO only, undocumented). */
typedef struct mp_batching_context {
    mp_opt_bool bypass; /**< bypass batching */
    const char *partition_key; /**< the partition key */
    mp_string_list request_ids; /**< the ids of the requests batched together */
} mp_batching_context;

/**
 * A location: `events[].data.location` (GeoLocation, ) and
 * `context.location`. The last six fields are documented only for the
 * batch-level context location; the JSON Schema rejects them on events.
 */
typedef struct mp_location {
    mp_opt_double latitude;  /**< required on events */
    mp_opt_double longitude; /**< required on events */
    mp_opt_double accuracy;  /**< metres */
    const char *country_code; /**< ISO 3166-1 alpha-2 */
    const char *region_code; /**< the region's code (docs only) */
    const char *city_name; /**< the city (docs only) */
    const char *postal_code; /**< the postal code (docs only) */
    mp_opt_int64 dma_code; /**< the designated market area (docs only) */
    mp_location_source location_source; /**< how the location was found (docs only) */
} mp_location;

/** `context`. */
typedef struct mp_batch_context {
    const mp_data_plan_context *data_plan; /**< the data plan the batch conforms to */
    const mp_batching_context *batching; /**< batching hints (Go SDK only, undocumented) */
    const mp_location *location; /**< the batch's location (documented only by mParticle's docs) */
} mp_batch_context;

/** `user_identities`: all 22 identity types, each a string. */
typedef struct mp_user_identities {
    const char *other; /**< `other`: any other identity */
    const char *customer_id; /**< `customer_id`: your own id of the user (never `customerid`) */
    const char *facebook; /**< `facebook`: a Facebook id */
    const char *twitter; /**< `twitter`: a Twitter handle */
    const char *google; /**< `google`: a Google id */
    const char *microsoft; /**< `microsoft`: a Microsoft id */
    const char *yahoo; /**< `yahoo`: a Yahoo id */
    const char *email; /**< `email`: the user's email address */
    const char *alias; /**< `alias`: an alias */
    const char *facebook_custom_audience_id; /**< `facebook_custom_audience_id` */
    const char *other_id_2; /**< `other_id_2`: a further identity of your choice */
    const char *other_id_3; /**< `other_id_3` */
    const char *other_id_4; /**< `other_id_4` */
    /** `other_id_5` (not in the JSON Schema; in the docs and newer SDKs) */
    const char *other_id_5;
    const char *other_id_6; /**< `other_id_6` */
    const char *other_id_7; /**< `other_id_7` */
    const char *other_id_8; /**< `other_id_8` */
    const char *other_id_9; /**< `other_id_9` */
    const char *other_id_10; /**< `other_id_10` */
    const char *mobile_number; /**< `mobile_number` */
    const char *phone_number_2; /**< `phone_number_2` */
    const char *phone_number_3; /**< `phone_number_3` */
} mp_user_identities;

/** `device_info`, in the GO SDK's key order. */
typedef struct mp_device_info {
    const char *brand; /**< the device's brand (Android Build.BRAND) */
    const char *product; /**< the product name (Android Build.PRODUCT) */
    const char *device; /**< the device name (Android Build.DEVICE) */
    const char *android_uuid; /**< the Android ID */
    const char *device_manufacturer; /**< the manufacturer */
    mp_platform platform; /**< the platform: iOS, Android, web, roku, ... */
    const char *os_version; /**< the operating system's version */
    const char *device_model; /**< the model, e.g. "iPhone14,2" */
    mp_opt_int64 screen_height; /**< pixels */
    mp_opt_int64 screen_width;  /**< pixels */
    mp_opt_int64 screen_dpi; /**< the screen's density, dots per inch */
    const char *device_country; /**< the device's country setting */
    const char *locale_language; /**< the locale's language, e.g. "en" */
    const char *locale_country; /**< the locale's country, e.g. "US" */
    const char *network_country; /**< the mobile network's country */
    const char *network_carrier; /**< the mobile carrier's name */
    const char *network_code; /**< the mobile network code (MNC) */
    const char *network_mobile_country_code; /**< the mobile country code (MCC) */
    mp_opt_int64 timezone_offset; /**< hours from UTC */
    const char *build_identifier; /**< the OS build identifier */
    /** the device's HTTP User-Agent (mParticle fills it from the request's when absent) */
    const char *http_header_user_agent;
    const char *ios_advertising_id; /**< IDFA, a UUID */
    const char *push_token; /**< the push notification token */
    const char *cpu_architecture; /**< the CPU architecture, e.g. "arm64" */
    mp_opt_bool is_tablet; /**< whether the device is a tablet */
    mp_opt_bool push_notification_sound_enabled; /**< whether push notifications may play sounds */
    mp_opt_bool push_notification_vibrate_enabled; /**< whether push notifications may vibrate */
    const char *radio_access_technology; /**< the radio technology, e.g. "LTE" */
    mp_opt_bool supports_telephony; /**< whether the device can make calls */
    mp_opt_bool has_nfc; /**< whether the device has NFC */
    mp_opt_bool bluetooth_enabled; /**< whether Bluetooth is on */
    const char *bluetooth_version; /**< the Bluetooth version */
    /** when the App Tracking Transparency status was set, ms since the epoch */
    mp_opt_int64 att_timestamp_unixtime_ms;
    mp_att_status att_authorization_status; /**< the App Tracking Transparency status (iOS) */
    const char *ios_idfv;               /**< a UUID */
    const char *android_advertising_id; /**< GAID, a UUID */
    const char *build_version_release; /**< the OS release (Android Build.VERSION.RELEASE) */
    mp_opt_bool limit_ad_tracking; /**< whether the user limits ad tracking */
    const char *amp_id; /**< the Google AMP client id */
    mp_opt_bool is_dst; /**< whether daylight saving time is in effect */
    const char *roku_advertising_id; /**< a UUID */
    const char *roku_publisher_id;   /**< a UUID */
    const char *microsoft_advertising_id; /**< the Microsoft advertising id */
    const char *microsoft_publisher_id; /**< the Microsoft publisher id */
    const char *fire_advertising_id; /**< a UUID */
} mp_device_info;

/** `application_info`. */
typedef struct mp_application_info {
    const char *application_name; /**< the app's name */
    const char *application_version; /**< the app's version string, e.g. "2.3.1" */
    const char *application_build_number; /**< the app's build number */
    const char *install_referrer; /**< the referrer of the install (Android) */
    const char *package; /**< the app's package or bundle identifier */
    mp_os os; /**< the operating system, in application_info's PascalCase vocabulary */
    /** Apple Search Ads attribution: campaign name -> (attribute -> value) */
    mp_string_map_map apple_search_ads_attributes;
    mp_opt_double sideloaded_kits_count; /**< web SDK only; the JSON Schema rejects it */
} mp_application_info;

/** `source_info`: set by the server; rarely sent. */
typedef struct mp_source_info {
    mp_channel channel; /**< required when source_info is sent */
    const char *partner; /**< the partner that sent the batch */
    const char *replay_request_id; /**< the replay request that resent it */
    const char *replay_job_id; /**< the replay job that resent it */
    mp_opt_bool is_historical; /**< whether it came through /v2/bulkevents/historical */
} mp_source_info;

/** `attribution_info`. All three fields are required when it is sent. */
typedef struct mp_attribution_info {
    const char *service_provider; /**< the attribution provider */
    const char *publisher; /**< the publisher credited with the install */
    const char *campaign; /**< the campaign credited with the install */
} mp_attribution_info;

/** A consent purpose's state: a GDPR purpose or CCPA data_sale_opt_out. */
typedef struct mp_consent {
    const char *regulation; /**< the regulation (e.g. "gdpr"; Go, Java, .NET, the JSON Schema) */
    /** the purpose, inside the object (the web SDK's models; the JSON Schema rejects it) */
    const char *purpose;
    const char *document; /**< the consent document agreed to, e.g. "document_agreement.v2" */
    mp_opt_bool consented;              /**< required; MP_FALSE is sent as false */
    mp_opt_int64 timestamp_unixtime_ms; /**< required by the docs for HTTP input */
    const char *location; /**< where consent was given, e.g. a URL or "dtmgamesbymail" */
    const char *hardware_id; /**< the device on which consent was given */
} mp_consent;

/** One GDPR purpose: `"<purpose>": {...}` in consent_state.gdpr. */
typedef struct mp_gdpr_purpose {
    const char *purpose; /**< the Consent Purpose defined in mParticle's GDPR settings */
    mp_consent consent; /**< the consent given or refused for it */
} mp_gdpr_purpose;

/** Ordered map of GDPR purposes. */
typedef struct mp_gdpr_purpose_list {
    const mp_gdpr_purpose *items; /**< the purposes, in wire order */
    size_t count; /**< the number of purposes */
} mp_gdpr_purpose_list;

/** `consent_state.ccpa`. */
typedef struct mp_ccpa_consent_state {
    /** consented = true means the user opted OUT of data sale */
    const mp_consent *data_sale_opt_out;
} mp_ccpa_consent_state;

/** `consent_state`. */
typedef struct mp_consent_state {
    mp_gdpr_purpose_list gdpr; /**< GDPR consent per purpose (a map, as mParticle's docs say) */
    const mp_ccpa_consent_state *ccpa; /**< CCPA: the data-sale opt-out */
} mp_consent_state;

/* ------------------------------------------------------------------------ */
/* Event sub-objects                                                        */
/* ------------------------------------------------------------------------ */

/** `device_current_state`. */
typedef struct mp_device_current_state {
    mp_opt_int64 time_since_start_ms; /**< milliseconds since the app started */
    mp_opt_double battery_level; /**< the battery's charge, 0 to 1 */
    const char *data_connection_type; /**< the connection, e.g. "wifi", "mobile" */
    const char *data_connection_type_detail; /**< the connection's detail, e.g. "LTE" */
    mp_opt_bool gps_state; /**< whether location services are on */
    mp_opt_int64 total_system_memory_usage_bytes; /**< system memory in use, bytes */
    mp_opt_int64 disk_space_free_bytes; /**< free internal storage, bytes */
    mp_opt_int64 external_disk_space_free_bytes; /**< free external storage, bytes */
    const char *cpu; /**< CPU usage, as reported by the SDK */
    mp_opt_double system_memory_available_bytes; /**< system memory available, bytes */
    mp_opt_bool system_memory_low; /**< whether the system reports low memory */
    mp_opt_double system_memory_threshold_bytes; /**< the low-memory threshold, bytes */
    mp_opt_double application_memory_available_bytes; /**< memory available to the app, bytes */
    mp_opt_double application_memory_max_bytes; /**< the most memory the app may use, bytes */
    mp_opt_double application_memory_total_bytes; /**< memory the app uses, bytes */
    mp_orientation device_orientation; /**< the device's orientation */
    mp_orientation status_bar_orientation; /**< the status bar's orientation */
} mp_device_current_state;

/** `event_system_notification_info`: output only. */
typedef struct mp_system_notification_info {
    mp_system_notification_type type; /**< the notification's type */
} mp_system_notification_info;

/** Common event data, present in every event's `data`. */
typedef struct mp_event_common {
    mp_opt_int64 timestamp_unixtime_ms; /**< when it happened; required by /bulkevents/historical */
    mp_opt_int64 event_id;              /**< output only */
    const char *source_message_id;      /**< a UUID */
    /** the session's id (64-bit; read only per the docs, but required on session_start by the JSON Schema) */
    mp_opt_int64 session_id;
    const char *session_uuid; /**< a UUID */
    mp_opt_int64 session_start_unixtime_ms; /**< when the session started, ms since the epoch */
    mp_opt_int64 event_start_unixtime_ms; /**< when a timed event started, ms since the epoch */
    /** scalar values; <= 100, names <= 256, values <= 4096 chars */
    mp_attribute_list custom_attributes;
    const mp_location *location; /**< where the event happened */
    const mp_device_current_state *device_current_state; /**< the device's state when it happened */
    mp_opt_bool is_goal_defined; /**< whether the event is a goal */
    /** a number, as the JSON Schema says (docs/api-notes.md D-6) */
    mp_opt_double lifetime_value_change;
    const char *lifetime_value_attribute_name; /**< the attribute that carries the lifetime value */
    const char *data_connection_type; /**< the connection when it happened */
    mp_opt_int64 event_num; /**< the event's sequence number on the device */
    const char *view_controller; /**< the view controller (iOS) */
    mp_opt_bool is_main_thread; /**< whether it happened on the main thread */
    const char *canonical_name; /**< the event's canonical name */
    const mp_system_notification_info *event_system_notification_info; /**< output only */
    mp_attribute_list custom_flags; /**< forwarded to the named integration only */
    const char *page_url;                 /**< web */
    mp_opt_double active_time_on_site_ms; /**< web */
} mp_event_common;

/** Media details (PY/NODE/RB; `media_info` in custom_event data). */
typedef struct mp_media_info {
    mp_media_action action; /**< what happened: play, pause, seek, ... */
    const char *channel; /**< the channel */
    const char *metadata; /**< free-form metadata */
    const char *timed_metadata; /**< free-form timed metadata */
    mp_opt_double playback_position; /**< the playback position, seconds */
    mp_media_format format; /**< audio or video */
    mp_media_quality quality; /**< the quality, e.g. hd */
    mp_opt_double playback_rate; /**< the playback rate, 1 = normal */
} mp_media_info;

/** A product. */
typedef struct mp_product {
    const char *id; /**< SKU */
    /** the product's name (required by the JSON Schema as a string when present) */
    const char *name;
    const char *brand; /**< the brand */
    const char *category; /**< the category */
    const char *variant; /**< the variant, e.g. a size or colour */
    mp_opt_int64 position; /**< its position in a list */
    mp_opt_double price; /**< the unit price */
    mp_opt_double quantity; /**< the quantity (a number: fractions allowed) */
    const char *coupon_code; /**< a coupon code applied to it */
    mp_opt_int64 added_to_cart_time_ms; /**< when it was added to the cart, ms since the epoch */
    mp_opt_double total_product_amount; /**< price times quantity */
    mp_string_map custom_attributes; /**< free-form attributes, string values only */
} mp_product;

/** A list of products. */
typedef struct mp_product_list {
    const mp_product *items; /**< the products, in order */
    size_t count; /**< the number of products */
} mp_product_list;

/** `product_action`. */
typedef struct mp_product_action {
    mp_product_action_type action; /**< required */
    mp_opt_int64 checkout_step; /**< the checkout step, for checkout actions */
    const char *checkout_options; /**< the checkout options chosen */
    const char *product_action_list; /**< the list the products came from */
    const char *product_list_source; /**< the source of that list */
    const char *transaction_id; /**< the transaction's id */
    const char *affiliation; /**< the store or affiliation */
    mp_opt_double total_amount; /**< the transaction's total */
    mp_opt_double tax_amount; /**< its tax */
    mp_opt_double shipping_amount; /**< its shipping cost */
    const char *coupon_code; /**< a coupon code applied to it */
    mp_product_list products; /**< the products acted on */
} mp_product_action;

/** A promotion. `position` is a string here, unlike mp_product. */
typedef struct mp_promotion {
    const char *id; /**< the promotion's id */
    const char *name; /**< its name */
    const char *creative; /**< the creative shown */
    const char *position; /**< where it was shown (a string) */
} mp_promotion;

/** A list of promotions. */
typedef struct mp_promotion_list {
    const mp_promotion *items; /**< the promotions, in order */
    size_t count; /**< the number of promotions */
} mp_promotion_list;

/** `promotion_action`. */
typedef struct mp_promotion_action {
    mp_promotion_action_type action; /**< required */
    mp_promotion_list promotions; /**< the promotions acted on */
} mp_promotion_action;

/** One `product_impressions` entry. */
typedef struct mp_product_impression {
    const char *product_impression_list; /**< required */
    mp_product_list products;            /**< required */
} mp_product_impression;

/** A list of product impressions. */
typedef struct mp_product_impression_list {
    const mp_product_impression *items; /**< the impressions, in order */
    size_t count; /**< the number of impressions */
} mp_product_impression_list;

/** `shopping_cart`. */
typedef struct mp_shopping_cart {
    mp_product_list products; /**< required */
} mp_shopping_cart;

/** UserIdentity inside user_identity_change. */
typedef struct mp_user_identity {
    mp_identity_type identity_type;     /**< required */
    const char *identity;               /**< required */
    mp_opt_int64 timestamp_unixtime_ms; /**< required */
    mp_opt_bool created_this_batch; /**< whether the identity was created by this batch */
} mp_user_identity;

/* ------------------------------------------------------------------------ */
/* Event data, one struct per event type with fields of its own            */
/* ------------------------------------------------------------------------ */

/** `custom_event`: a named event of your own. */
typedef struct mp_custom_event_data {
    mp_custom_event_type custom_event_type; /**< required */
    const char *event_name;                 /**< required, <= 256 chars */
    /** media details (the Python, Node and Ruby SDKs' nested form) */
    const mp_media_info *media_info;
} mp_custom_event_data;

/** `screen_view`: a screen or page shown. */
typedef struct mp_screen_view_data {
    const char *screen_name; /**< required */
    const char *activity_type; /**< the Android activity event, e.g. "activity_started" */
} mp_screen_view_data;

/** Exactly one of product_action, promotion_action and product_impressions. */
typedef struct mp_commerce_event_data {
    /** a product action (purchase, add to cart, ...); exactly one of product_action, promotion_action, product_impressions */
    const mp_product_action *product_action;
    const mp_promotion_action *promotion_action; /**< a promotion viewed or clicked */
    mp_product_impression_list product_impressions; /**< products shown in lists */
    const mp_shopping_cart *shopping_cart; /**< the cart's content */
    const char *currency_code; /**< ISO 4217 */
    const char *screen_name; /**< the screen the event happened on */
    mp_opt_bool is_non_interactive; /**< true if the user did not cause the event */
    const char *event_name; /**< the event's name (set by the native SDKs) */
    /** derived by the server from the action; rarely sent */
    mp_commerce_event_type custom_event_type;
} mp_commerce_event_data;

/** `session_end`: the end of a session. */
typedef struct mp_session_end_data {
    mp_opt_int64 session_duration_ms; /**< required */
} mp_session_end_data;

/** `crash_report`: a crash or exception. */
typedef struct mp_crash_report_data {
    mp_string_list breadcrumbs; /**< the breadcrumbs before the crash, as strings */
    const char *class_name; /**< the exception's class */
    const char *severity; /**< the severity, e.g. "fatal" */
    const char *message; /**< the exception's message */
    const char *stack_trace; /**< the stack trace, as text */
    mp_opt_bool exception_handled; /**< whether the app handled the exception */
    const char *topmost_context; /**< the screen or activity on top when it crashed */
    const char *pl_crash_report_file_base64; /**< a PLCrashReporter report, base64 (iOS) */
    mp_opt_int64 ios_image_base_address; /**< the binary image's load address (iOS) */
    mp_opt_int64 ios_image_size; /**< the binary image's size (iOS) */
    mp_opt_int64 session_number; /**< the session's number on the device */
} mp_crash_report_data;

/** `opt_out`: the user opted out of tracking, or back in. */
typedef struct mp_opt_out_data {
    mp_opt_bool is_opted_out; /**< required */
} mp_opt_out_data;

/** `push_registration`: a push token registered or unregistered. */
typedef struct mp_push_registration_data {
    mp_opt_bool register_;          /**< JSON "register" (required); true adds, false removes */
    const char *registration_token; /**< required */
} mp_push_registration_data;

/** `application_state_transition`: the app started, exited, went to the background or foreground. */
typedef struct mp_application_state_transition_data {
    mp_opt_bool successfully_closed; /**< whether the app closed normally last time */
    /** whether this is the first run after install (required by the JSON Schema) */
    mp_opt_bool is_first_run;
    /** whether this is the first run after an upgrade (required by the JSON Schema) */
    mp_opt_bool is_upgrade;
    const char *push_notification_payload; /**< JSON text */
    const char *launch_referral; /**< the URL or referrer that launched the app */
    mp_application_transition_type application_transition_type; /**< required */
} mp_application_state_transition_data;

/** `push_message`: a push notification received or acted on. */
typedef struct mp_push_message_data {
    const char *push_message_token;      /**< required */
    mp_push_message_type push_message_type; /**< required */
    const char *message; /**< the message's text */
    const char *network; /**< "apn" or "gcm" */
    const char *push_notification_payload; /**< required, JSON text */
    mp_application_state application_state; /**< the app's state when it arrived */
    const char *action_identifier; /**< <= 100 chars */
    /** what happened to it: received, opened, ... */
    mp_push_message_behavior push_message_behavior;
} mp_push_message_data;

/** `network_performance`: one network request the app made. */
typedef struct mp_network_performance_data {
    const char *http_verb; /**< the request's method, e.g. "GET" */
    const char *url; /**< required */
    mp_opt_int64 time_elapsed; /**< ms */
    mp_opt_int64 bytes_in; /**< bytes received */
    mp_opt_int64 bytes_out; /**< bytes sent */
    mp_opt_int64 response_code; /**< required */
    const char *data;           /**< base64 */
} mp_network_performance_data;

/** `breadcrumb`: a step recorded for crash reports. */
typedef struct mp_breadcrumb_data {
    mp_opt_int64 session_number; /**< the session's number on the device */
    const char *label; /**< required */
} mp_breadcrumb_data;

/** `profile`: the user's mParticle id changed (login, logout, ...). */
typedef struct mp_profile_data {
    mp_opt_int64 previous_mpid;                /**< required */
    mp_opt_int64 current_mpid;                 /**< required */
    mp_profile_event_type profile_event_type; /**< required */
    const char *profile_name;                 /**< PY/NODE/RB only */
    const char *previous_profile_name;        /**< PY/NODE/RB only */
} mp_profile_data;

/** `user_attribute_change`: a user attribute set, changed or removed. */
typedef struct mp_user_attribute_change_data {
    const char *user_attribute_name; /**< required */
    mp_value new_;                   /**< JSON "new" (required): string, list or null */
    mp_value old;                    /**< required: string, list or null */
    mp_opt_bool deleted; /**< whether the attribute was deleted */
    mp_opt_bool is_new_attribute; /**< whether the attribute is new */
} mp_user_attribute_change_data;

/** `user_identity_change`: a user identity added, changed or removed. */
typedef struct mp_user_identity_change_data {
    const mp_user_identity *new_; /**< JSON "new" (required) */
    const mp_user_identity *old;  /**< required; MP_NULL_OF(mp_user_identity) for null */
} mp_user_identity_change_data;

/**
 * One event: `{"data": {common fields, type fields}, "event_type": "..."}`.
 * Set `event_type`, the `common` fields, and the union member named like the
 * event type (session_start, first_run, uninstall, pre_attribution and
 * push_reaction have only common fields).
 */
typedef struct mp_event {
    mp_event_type event_type; /**< which event this is; selects the union member */
    mp_event_common common; /**< the fields every event has, in its `data` */
    union {
        mp_custom_event_data custom_event;
        mp_screen_view_data screen_view;
        mp_commerce_event_data commerce_event;
        mp_session_end_data session_end;
        mp_crash_report_data crash_report;
        mp_opt_out_data opt_out;
        mp_push_registration_data push_registration;
        mp_application_state_transition_data application_state_transition;
        mp_push_message_data push_message;
        mp_network_performance_data network_performance;
        mp_breadcrumb_data breadcrumb;
        mp_profile_data profile;
        mp_user_attribute_change_data user_attribute_change;
        mp_user_identity_change_data user_identity_change;
    };
} mp_event;

/** The events of a batch. */
typedef struct mp_event_list {
    const mp_event *items; /**< the events, in order */
    size_t count; /**< the number of events */
} mp_event_list;

/* ------------------------------------------------------------------------ */
/* The batch                                                                */
/* ------------------------------------------------------------------------ */

/**
 * A batch: the data of one user, the body of `POST /v2/events`.
 * Fields are in the GO SDK's key order, which is the order on the wire.
 */
typedef struct mp_batch {
    const char *source_request_id; /**< dedup key, per API key, kept 30-60 days */
    const mp_batch_context *context; /**< `context`: data plan, batching, location */
    mp_event_list events; /**< the user's events, in order */
    const mp_device_info *device_info; /**< the device: identifiers, model, OS, locale */
    const mp_application_info *application_info; /**< the app: name, version, package */
    mp_attribute_list user_attributes; /**< scalars or lists of scalars; <= 100 */
    mp_string_list deleted_user_attributes; /**< names of user attributes to delete */
    /** the user's identities (at least one user or device identity is advised) */
    const mp_user_identities *user_identities;
    mp_environment environment; /**< required: development or production */
    const char *api_key; /**< output only: the API key the batch came in with */
    mp_string_list api_keys; /**< output only: the API keys of the batch */
    const char *ip; /**< the user's IPv4 or IPv6 address */
    mp_string_map_map integration_attributes; /**< keyed by integration module id, e.g. "92" */
    const char *partner_identity; /**< a partner feed's own identity of the user (Go SDK) */
    mp_string_map partner_identities; /**< keys like "mParticle_mpid" */
    const mp_source_info *source_info; /**< set by the server */
    const char *mp_deviceid;           /**< a UUID */
    const mp_attribution_info *attribution_info; /**< output only: install attribution */
    mp_opt_int64 timestamp_unixtime_ms; /**< set by the server; do not send */
    mp_opt_int64 batch_id;              /**< output only */
    mp_opt_int64 mpid;                  /**< may be negative */
    const char *sdk_version; /**< output only: the SDK version that sent the batch */
    const mp_consent_state *consent_state; /**< GDPR and CCPA consent */
    const char *job_id; /**< output only: the mParticle job that produced the batch */
    mp_opt_int64 origin_mpid;    /**< JSON Schema only */
    mp_opt_int64 schema_version; /**< output only; the JSON Schema rejects it */
    mp_opt_bool modified;        /**< web SDK only; the JSON Schema rejects it */
} mp_batch;

#ifdef __cplusplus
} /* extern "C" */

/* C++: what MP_V_INT, MP_V_DOUBLE, MP_V_BOOL and MP_V_LIST expand to. */
/** The mp_value of MP_V_INT(i) in C++. */
inline mp_value mp_cxx_value_int(int64_t i) {
    mp_value v = {};
    v.type = MP_VALUE_INT;
    v.u.integer = i;
    return v;
}
/** The mp_value of MP_V_DOUBLE(d) in C++. */
inline mp_value mp_cxx_value_double(double d) {
    mp_value v = {};
    v.type = MP_VALUE_DOUBLE;
    v.u.number = d;
    return v;
}
/** The mp_value of MP_V_BOOL(b) in C++. */
inline mp_value mp_cxx_value_bool(bool b) {
    mp_value v = {};
    v.type = MP_VALUE_BOOL;
    v.u.boolean = b ? 1 : 0;
    return v;
}
/** The mp_value of MP_V_LIST(array) in C++: the array's length is N. */
template <size_t N>
inline mp_value mp_cxx_value_list(const mp_value (&items)[N]) {
    mp_value v = {};
    v.type = MP_VALUE_LIST;
    v.u.list.items = items;
    v.u.list.count = N;
    return v;
}
#endif

#endif /* MPARTICLE_MODEL_H */
