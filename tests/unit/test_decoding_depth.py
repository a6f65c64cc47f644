"""Deep or odd payloads: anyone who can start an execution chooses its input, so decoding never recurses past
MAX_DEPTH (an 800-level input raised RecursionError during the sync and on the page)."""

from __future__ import annotations

import json

from core.decoding import (
    MAX_DEPTH,
    TOO_DEEP,
    details_decode,
    error_decode,
    json_depth,
    payload_decode,
    payload_value,
    pretty,
    secrets_redact,
    value_depth,
)
from executions.events import event_normalize

DEEP = '{"a":' * 800 + "1" + "}" * 800
DEEP_LIST = "[" * 5000 + "]" * 5000


def deep_value(levels: int):
    value: object = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def test_depth_is_measured_without_recursion():
    assert json_depth(DEEP) > MAX_DEPTH and json_depth(DEEP_LIST) > MAX_DEPTH
    assert json_depth('{"a": "[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"}') == 1
    assert value_depth(deep_value(5000)) > MAX_DEPTH
    assert value_depth({"a": [1, {"b": 2}]}) == 3


def test_a_deep_payload_keeps_its_raw_text_and_is_not_decoded():
    payload = payload_decode({"Payload": DEEP, "Truncated": False})
    assert payload.too_deep and not payload.is_json and payload.value is None
    assert payload.raw == DEEP and payload.size == len(DEEP)
    assert payload.preview() == TOO_DEEP
    assert payload_value(DEEP) == TOO_DEEP
    assert pretty(DEEP) == TOO_DEEP


def test_display_helpers_refuse_deep_values_instead_of_recursing():
    deep = deep_value(3000)
    assert secrets_redact(deep) == TOO_DEEP
    assert details_decode({"Input": {"Payload": DEEP}, "Extra": deep}) == TOO_DEEP
    assert pretty(deep) == TOO_DEEP
    assert details_decode({"Result": DEEP}) == {"Result": TOO_DEEP}
    assert secrets_redact({"CallbackId": "abc", "x": [1]}) == {"CallbackId": "(hidden)", "x": [1]}


def test_a_deep_error_payload_is_not_parsed():
    info = error_decode({"Error": {"Payload": DEEP}})
    assert info is not None and info.message == TOO_DEEP


def test_payloads_within_the_cap_still_decode():
    nested = json.dumps(deep_value(MAX_DEPTH - 1))
    assert payload_decode(nested).is_json
    assert payload_value('{"t": "m", "v": {"k": {"t": "s", "v": "x"}}}') == {"k": "x"}


def test_event_normalisation_of_a_hand_made_deep_event():
    event = {"EventId": 1, "EventType": "ExecutionStarted", "ExecutionStartedDetails": deep_value(3000)}
    assert event_normalize(event) == {
        "EventId": 1,
        "EventType": "ExecutionStarted",
        "ExecutionStartedDetails": TOO_DEEP,
    }
