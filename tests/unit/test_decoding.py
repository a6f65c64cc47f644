"""core.decoding: the one payload decoder (envelopes, truncation, odd types, errors, redaction)."""

import base64
import json

from core.decoding import (
    REDACTED,
    details_decode,
    envelope_unwrap,
    error_decode,
    payload_decode,
    payload_value,
    pretty,
    secrets_redact,
)


def test_envelopes_are_unwrapped_recursively():
    wrapped = {"t": "m", "v": {"orderId": {"t": "s", "v": "o-1"}, "items": {"t": "l", "v": [{"t": "i", "v": 2}]}}}
    assert envelope_unwrap(wrapped) == {"orderId": "o-1", "items": [2]}


def test_base64_bytes_envelope_is_decoded_and_bad_base64_is_kept():
    assert envelope_unwrap({"t": "B", "v": base64.b64encode(b"hello").decode()}) == "hello"
    assert envelope_unwrap({"t": "B", "v": "%%%not base64"}) == "%%%not base64"


def test_unknown_tag_is_plain_json():
    value = {"t": "zz", "v": 1}
    assert envelope_unwrap(value) == value


def test_payload_decode_container_and_truncation():
    payload = payload_decode({"Payload": json.dumps({"t": "m", "v": {"a": 1}}), "Truncated": True})
    assert payload.is_json and payload.value == {"a": 1}
    assert payload.truncated
    assert payload.size == len(payload.raw.encode())


def test_payload_decode_absent_not_json_and_odd_types():
    empty = payload_decode(None)
    assert (empty.raw, empty.value, empty.is_json, empty.size) == ("", None, False, 0)
    text = payload_decode("not json")
    assert text.raw == "not json" and not text.is_json and text.value is None
    number = payload_decode({"Payload": 42})  # a non-string payload is kept as its JSON text
    assert number.raw == "42" and number.value == 42
    assert payload_decode("é").size == 2


def test_preview_is_clipped():
    payload = payload_decode(json.dumps("x" * 100))
    assert payload.preview(limit=10) == '"xxxxxxxx…'
    assert payload_decode(None).preview() == ""


def test_payload_value_is_for_display():
    assert payload_value('{"t": "s", "v": "hi"}') == "hi"
    assert payload_value("plain words") == "plain words"
    assert payload_value("{broken") == "{broken"
    assert payload_value(7) == 7


def test_details_decode_and_pretty():
    details = {"Result": '{"t": "m", "v": {"ok": true}}', "Other": {"Payload": "[1, 2]"}, "Name": "[x"}
    assert details_decode(details) == {"Result": {"ok": True}, "Other": {"Payload": [1, 2]}, "Name": "[x"}
    assert pretty('{"a": 1}') == '{\n  "a": 1\n}'
    assert pretty("text") == "text"
    assert pretty(None) == ""


def test_error_decode_shapes():
    assert error_decode(None) is None
    assert error_decode({"Result": "x"}) is None
    info = error_decode(
        {"Error": {"Payload": {"ErrorType": "Boom", "ErrorMessage": "bad", "StackTrace": ["a"]}, "Truncated": True}}
    )
    assert (info.type, info.message, info.stack, info.truncated) == ("Boom", "bad", ["a"], True)
    assert error_decode({"Error": {"Payload": "just text"}}).message == "just text"
    assert error_decode({"Error": {"Payload": '{"ErrorType": "T"}'}}).type == "T"


def test_callback_ids_are_redacted_everywhere():
    value = {"CallbackId": "secret", "nested": [{"callbackId": "s2", "keep": 1}], "callbackId": ""}
    assert secrets_redact(value) == {
        "CallbackId": REDACTED,
        "nested": [{"callbackId": REDACTED, "keep": 1}],
        "callbackId": "",
    }
