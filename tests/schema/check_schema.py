#!/usr/bin/python3
"""Independent check of JSON batches against mParticle's official JSON Schema.

The encoder is tested against the schema that mParticle publishes
(mparticle.inbound.eventsapi.schema.json, draft-07, in the folder given by
--reference or MP_REFERENCE_DIR; see CONTRIBUTING.md), validated by
python3-jsonschema rather than by anything in libmparticle. That schema is
stale on a few points (docs/api-notes.md §5); PATCHES below lists
every change made to it, each with its source. Nothing else is relaxed.

Usage:
  check_schema.py [--reference DIR] [--unpatched] [--standard] [--ndjson | --bulk] FILE
      Validates FILE: one batch (an object), an array of batches (checked
      with the bulk schema) or NDJSON (one batch per line). With neither
      --ndjson nor --bulk the form is detected. Prints one line per error,
      "<where>: <JSON path>: <message>". Exit 0 when valid, 1 when not,
      2 when FILE cannot be read or is not JSON.
  check_schema.py --compare A B
      Exit 0 when A and B hold equal JSON values (parsed: key order,
      whitespace and number spelling do not matter; integers are compared
      exactly, true is not 1), else 1 with the path of the first difference.

Must run under /usr/bin/python3, which has python3-jsonschema (4.10 on
Debian 12).
"""

import argparse
import copy
import json
import os
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover - a broken test machine, not a test result
    sys.stderr.write("check_schema.py: python3-jsonschema is not installed\n")
    sys.exit(2)

BATCH_SCHEMA = "mparticle.inbound.eventsapi.schema.json"
BULK_SCHEMA = "mparticle.inbound.eventsapi.bulk.schema.json"

STRING = {"$ref": "#/definitions/String"}
INTEGER = {"$ref": "#/definitions/Integer"}
NUMBER = {"$ref": "#/definitions/Number"}
BOOLEAN = {"$ref": "#/definitions/Boolean"}


def _event_data_part(schema, event_def):
    """The event-specific half of an event's data: allOf[1]."""
    return schema["definitions"][event_def]["properties"]["data"]["allOf"][1]


# --------------------------------------------------------------------------
# Patches for the schema's known stale points. Each one widens what the
# schema accepts to what a newer source documents (gdpr's shape is replaced
# because the published one is wrong); none tightens it. Keys that the schema
# already lets through are not patched: event `data` objects and `context`
# have no additionalProperties:false, so profile_name/previous_profile_name
# (docs/api-notes.md D-13), media_info (D-26), page_url, custom_flags on every event
# (D-5), context.location and context.batching (D-9) need nothing.
# --------------------------------------------------------------------------

NEW_IDENTITY_TYPES = ["other_id_5", "other_id_6", "other_id_7", "other_id_8", "other_id_9",
                      "other_id_10", "mobile_number", "phone_number_2", "phone_number_3"]


def patch_identity_types(schema):
    # docs/api-notes.md D-3: SCH stops at other_id_4; DOC, OAS and every newer SDK have 22 types.
    props = schema["properties"]["user_identities"]["properties"]
    for name in NEW_IDENTITY_TYPES:
        props[name] = copy.deepcopy(STRING)
    schema["definitions"]["IdentityType"]["enum"].extend(NEW_IDENTITY_TYPES)


def patch_gdpr_map_and_ccpa(schema):
    # docs/api-notes.md D-7: gdpr is a map of purpose -> consent (DOC), not one consent object;
    # ccpa {data_sale_opt_out: consent} is documented (DOC, JAVA, NET, PY, TS) but forbidden.
    consent = {"$ref": "#/definitions/GDPRConsentState"}
    props = schema["definitions"]["ConsentState"]["properties"]
    props["gdpr"] = {"additionalProperties": consent}
    props["ccpa"] = {"properties": {"data_sale_opt_out": consent},
                     "additionalProperties": False}


def patch_consent_purpose(schema):
    # docs/api-notes.md D-7, D-26: TS names the purpose inside the consent object ("purpose").
    schema["definitions"]["GDPRConsentState"]["properties"]["purpose"] = copy.deepcopy(STRING)


def patch_partner_identities(schema):
    # docs/api-notes.md D-9: partner_identities (DOC, GO, JAVA, TS) is rejected by SCH.
    schema["properties"]["partner_identities"] = {
        "type": ["object", "null"], "additionalProperties": copy.deepcopy(STRING)}


def patch_schema_version(schema):
    # docs/api-notes.md D-8: DOC sends "schema_version": 2 in every inbound example; SCH rejects it.
    schema["properties"]["schema_version"] = copy.deepcopy(INTEGER)


def patch_modified(schema):
    # docs/api-notes.md D-26: "modified" is sent by the web SDK (TS master); SCH rejects it.
    schema["properties"]["modified"] = copy.deepcopy(BOOLEAN)


def patch_attribution_event_type(schema):
    # docs/api-notes.md D-10: custom_event_type "attribution" is in DOC, GO and PY; SCH lacks it.
    _event_data_part(schema, "CustomEvent")["properties"]["custom_event_type"]["enum"].append(
        "attribution")


def patch_breadcrumb_strings(schema):
    # docs/api-notes.md D-17: crash_report.breadcrumbs items are strings in GO, JAVA, NET, TS and OAS;
    # SCH alone wants breadcrumb envelopes. Both forms are accepted.
    props = _event_data_part(schema, "CrashReportEvent")["properties"]
    props["breadcrumbs"]["items"] = {
        "anyOf": [{"type": "string"}, {"$ref": "#/definitions/BreadcrumbEvent"}]}


def patch_geo_location_doc_keys(schema):
    # docs/api-notes.md D-26: DOC documents six more location keys; SCH's GeoLocation rejects them.
    props = schema["definitions"]["GeoLocation"]["properties"]
    for name in ("country_code", "region_code", "city_name", "postal_code"):
        props[name] = copy.deepcopy(STRING)
    props["dma_code"] = copy.deepcopy(INTEGER)
    props["location_source"] = {"type": "string", "enum": ["unknown", "ip_lookup", "lat_long"]}


def patch_sideloaded_kits_count(schema):
    # docs/api-notes.md D-26: application_info.sideloaded_kits_count (web SDK, TS 2023); SCH rejects it.
    schema["definitions"]["ApplicationInformation"]["properties"]["sideloaded_kits_count"] = (
        copy.deepcopy(NUMBER))


PATCHES = [
    patch_identity_types,
    patch_gdpr_map_and_ccpa,
    patch_consent_purpose,
    patch_partner_identities,
    patch_schema_version,
    patch_modified,
    patch_attribution_event_type,
    patch_breadcrumb_strings,
    patch_geo_location_doc_keys,
    patch_sideloaded_kits_count,
]


# --------------------------------------------------------------------------
# Strict JSON loading
# --------------------------------------------------------------------------

class InputError(Exception):
    pass


def _reject_constant(name):
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError("%s is not JSON" % name)


def _pairs_no_duplicates(pairs):
    # A JSON object with a repeated key means different things to different
    # parsers; an encoder must never write one.
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate key %r" % key)
        obj[key] = value
    return obj


def _has_surrogate(s):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def _check_unicode(value, path):
    """Python's json lets lone surrogate escapes (\\ud800) through."""
    if isinstance(value, str):
        if _has_surrogate(value):
            raise ValueError("%s: string holds a lone surrogate" % (format_path(path) or "$"))
    elif isinstance(value, dict):
        for key, item in value.items():
            if _has_surrogate(key):
                raise ValueError("%s: key holds a lone surrogate" % (format_path(path) or "$"))
            _check_unicode(item, path + [key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_unicode(item, path + [i])


def parse_json(text):
    value = json.loads(text, object_pairs_hook=_pairs_no_duplicates,
                       parse_constant=_reject_constant)
    _check_unicode(value, [])
    return value


def read_text(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError("%s: not UTF-8 at byte %d" % (path, e.start))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def _is_identifier(key):
    return (key != "" and (key[0].isascii() and (key[0].isalpha() or key[0] in "_$"))
            and all(c.isascii() and (c.isalnum() or c in "_$") for c in key))


def format_path(parts):
    """events[2].data.custom_attributes["Account type"], like the C library's paths."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        elif _is_identifier(part):
            out += ("." if out else "") + part
        else:
            out += "[%s]" % json.dumps(part, ensure_ascii=False)
    return out


def _single_event_type(validator, branch, cache):
    """The one event_type a oneOf branch accepts, or None."""
    key = id(branch)
    if key not in cache:
        resolved = branch
        if "$ref" in branch:
            resolved = validator.resolver.resolve(branch["$ref"])[1]
        enum = resolved.get("properties", {}).get("event_type", {}).get("enum")
        cache[key] = enum[0] if isinstance(enum, list) and len(enum) == 1 else None
    return cache[key]


def _make_validator_class():
    """Draft7Validator with a faster but equivalent oneOf for events.

    Every branch of the schema's events oneOf accepts exactly one event_type
    (an enum of one value). For an event whose event_type is a string, every
    branch but the one naming it fails on event_type, so "valid under exactly
    one" is "valid under that branch": validating only it gives the same
    verdict 17 times faster, and its errors instead of "is not valid under
    any of the given schemas". Any other instance or oneOf takes the
    standard path."""
    base = jsonschema.Draft7Validator
    standard_one_of = base.VALIDATORS["oneOf"]
    cache = {}

    def one_of(validator, branches, instance, schema):
        if isinstance(instance, dict) and isinstance(instance.get("event_type"), str):
            types = [_single_event_type(validator, b, cache) for b in branches]
            if all(types) and len(set(types)) == len(types) and instance["event_type"] in types:
                index = types.index(instance["event_type"])
                yield from validator.descend(instance, branches[index], schema_path=index)
                return
        yield from standard_one_of(validator, branches, instance, schema)

    def ignore_ref_siblings(schema):
        # Draft 7: next to "$ref" every other keyword is ignored (docs/api-notes.md
        # D-20). validators.extend() would drop this rule, so the class is
        # made with create() and the rule restated.
        ref = schema.get("$ref")
        return [("$ref", ref)] if ref is not None else schema.items()

    return jsonschema.validators.create(
        meta_schema=base.META_SCHEMA,
        validators=dict(base.VALIDATORS, oneOf=one_of),
        type_checker=base.TYPE_CHECKER,
        format_checker=base.FORMAT_CHECKER,
        id_of=base.ID_OF,
        applicable_validators=ignore_ref_siblings)


def load_validators(reference, patched, standard=False):
    with open(os.path.join(reference, BATCH_SCHEMA), encoding="utf-8") as f:
        batch = json.load(f)
    with open(os.path.join(reference, BULK_SCHEMA), encoding="utf-8") as f:
        bulk = json.load(f)
    if patched:
        for patch in PATCHES:
            patch(batch)
    jsonschema.Draft7Validator.check_schema(batch)
    # The bulk schema refers to the batch schema by its $id; the store makes
    # that resolve to the (patched) local copy instead of the network.
    store = {batch["$id"]: batch, bulk["$id"]: bulk}
    checker = jsonschema.FormatChecker()
    resolver = jsonschema.RefResolver.from_schema(bulk, store=store)
    cls = jsonschema.Draft7Validator if standard else _make_validator_class()
    return (cls(batch, format_checker=checker),
            cls(bulk, resolver=resolver, format_checker=checker))


def _branch_errors(error):
    """For a failed oneOf over event types, the errors of the branch whose
    event_type matched: "not valid under any of the given schemas" says
    nothing about what is wrong."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict):
        return None
    by_branch = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    candidates = [errs for errs in by_branch.values()
                  if not any(list(e.relative_path) == ["event_type"] for e in errs)]
    if len(candidates) == 1 and len(by_branch) == len(error.validator_value):
        return candidates[0]
    return None


def _leaf_errors(error):
    branch = _branch_errors(error)
    if branch is None:
        yield error
        return
    for sub in branch:
        yield from _leaf_errors(sub)


def validate_value(validator, value):
    """Yields (path, message) for every error, deepest useful error first."""
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    seen = set()
    for error in errors:
        for leaf in _leaf_errors(error):
            message = leaf.message
            if len(message) > 300:
                message = message[:300] + "..."
            item = (format_path(list(leaf.absolute_path)), message)
            # allOf checks a field once for EventData and once for the event
            # type when both declare it: report it once.
            if item not in seen:
                seen.add(item)
                yield item


def detect_form(text):
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "bulk"
    try:
        parse_json(text)
        return "batch"
    except json.JSONDecodeError as e:
        # "Extra data" after a complete value: more than one value, NDJSON.
        # Any other error is reported by the batch path.
        return "ndjson" if e.msg == "Extra data" else "batch"
    except ValueError:
        return "batch"


def run_validate(args):
    try:
        text = read_text(args.file)
    except InputError as e:
        print(e)
        return 2
    try:
        batch_validator, bulk_validator = load_validators(args.reference, not args.unpatched,
                                                          args.standard)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print("cannot load the schema from %s: %s" % (args.reference, e))
        return 2

    form = "ndjson" if args.ndjson else "bulk" if args.bulk else detect_form(text)
    problems = []
    if form == "ndjson":
        count = 0
        # Only "\n" ends a line: str.splitlines() would also split at U+2028,
        # U+2029 and other characters that JSON strings may hold raw.
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            count += 1
            try:
                value = parse_json(line)
            except ValueError as e:
                print("line %d: not JSON: %s" % (lineno, e))
                return 2
            for path, message in validate_value(batch_validator, value):
                problems.append("line %d: %s: %s" % (lineno, path or "$", message))
        if count == 0:
            print("%s: no batch in the file" % args.file)
            return 2
    else:
        try:
            value = parse_json(text)
        except ValueError as e:
            print("%s: not JSON: %s" % (args.file, e))
            return 2
        validator = bulk_validator if form == "bulk" else batch_validator
        for path, message in validate_value(validator, value):
            problems.append("%s: %s: %s" % (form, path or "$", message))

    for line in problems:
        print(line)
    return 1 if problems else 0


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def first_difference(a, b, path):
    """None when equal, else a one-line description of the first difference."""
    ka, kb = _kind(a), _kind(b)
    where = format_path(path) or "$"
    if ka != kb:
        return "%s: %s vs %s" % (where, ka, kb)
    if ka == "object":
        for key in a:
            if key not in b:
                return "%s: key %s only in the first" % (where, json.dumps(key))
        for key in b:
            if key not in a:
                return "%s: key %s only in the second" % (where, json.dumps(key))
        for key in a:
            diff = first_difference(a[key], b[key], path + [key])
            if diff:
                return diff
        return None
    if ka == "array":
        for i, (x, y) in enumerate(zip(a, b)):
            diff = first_difference(x, y, path + [i])
            if diff:
                return diff
        if len(a) != len(b):
            return "%s: %d items vs %d" % (where, len(a), len(b))
        return None
    # Python compares int with int exactly and int with float by value, so
    # 1 and 1.0 are equal but 9007199254740993 and 9007199254740992 are not.
    if a != b:
        return "%s: %s vs %s" % (where, json.dumps(a), json.dumps(b))
    return None


def run_compare(args):
    values = []
    for path in args.compare:
        try:
            values.append(parse_json(read_text(path)))
        except (InputError, ValueError) as e:
            print("%s: %s" % (path, e))
            return 2
    diff = first_difference(values[0], values[1], [])
    if diff:
        print(diff)
        return 1
    return 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_reference = os.environ.get(
        "MP_REFERENCE_DIR", os.path.join(here, "..", "..", "..", "shared", "reference"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", default=default_reference,
                        help="folder holding the official schema files")
    parser.add_argument("--unpatched", action="store_true",
                        help="validate against the official schema exactly as published")
    parser.add_argument("--standard", action="store_true",
                        help="use jsonschema's stock Draft7Validator (slower; for cross-checks)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--ndjson", action="store_true", help="one batch per line")
    form.add_argument("--bulk", action="store_true", help="a JSON array of batches")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="compare two JSON files by value")
    parser.add_argument("file", nargs="?", help="the JSON file to validate")
    args = parser.parse_args(argv)
    if args.compare:
        if args.file:
            parser.error("--compare takes exactly two files")
        return run_compare(args)
    if not args.file:
        parser.error("a file to validate is required")
    return run_validate(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
