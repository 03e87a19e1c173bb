"""Payload parsers: IoT Agent JSON, UltraLight 2.0, single values; property tests for UltraLight."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saola.devices.errors import MalformedPayload
from saola.devices.formats import Reading, format_ul, parse, parse_json, parse_ul

KEY = st.text(string.ascii_letters + string.digits + "_-.:áàảãạđêôơư", min_size=1, max_size=12) \
    .filter(lambda k: k != "TimeInstant" and not k.startswith("@"))
VALUE = st.text(st.characters(blacklist_characters="|#\x00\r\n", blacklist_categories=("Cs",)), max_size=12)
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(st.lists(st.tuples(st.dictionaries(KEY, VALUE, min_size=1, max_size=5), st.none() | MOMENT),
                min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_ultralight_round_trip(groups: list[tuple[dict[str, str], datetime | None]]) -> None:
    readings = [Reading(values, moment) for values, moment in groups]
    text = format_ul(readings)
    if text.strip() != text:  # surrounding blanks are not part of UltraLight values
        return
    assert parse_ul(text.encode()) == readings


@given(st.binary(max_size=300))
@settings(max_examples=500, deadline=None)
def test_ultralight_parser_never_fails_other_than_malformed(data: bytes) -> None:
    try:
        readings = parse_ul(data)
    except MalformedPayload:
        return
    assert readings and all(r.values for r in readings)


@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
@settings(max_examples=500, deadline=None)
def test_json_parser_never_fails_other_than_malformed(data: bytes) -> None:
    try:
        readings = parse_json(data)
    except MalformedPayload:
        return
    assert readings and all(r.values for r in readings)


def test_ultralight_groups_and_leading_timestamps() -> None:
    readings = parse_ul(b"2026-11-24T10:00:00Z|t|1#TimeInstant|2026-11-24T11:00:00+07:00|t|2|h|3#")
    assert readings == [Reading({"t": "1"}, datetime(2026, 11, 24, 10, tzinfo=UTC)),
                        Reading({"t": "2", "h": "3"}, datetime(2026, 11, 24, 4, tzinfo=UTC))]


def test_json_array_with_time_instants() -> None:
    readings = parse(b'[{"t": 1, "TimeInstant": "2026-11-24T10:00:00Z"}, {"t": 2}]', "json")
    assert readings == [Reading({"t": 1}, datetime(2026, 11, 24, 10, tzinfo=UTC)), Reading({"t": 2})]


def test_single_attribute_values() -> None:
    assert parse(b"21.5", "json", "t") == [Reading({"t": 21.5})]
    assert parse(b"on", "json", "state") == [Reading({"state": "on"})]
    assert parse(b"21.5", "ul", "t") == [Reading({"t": "21.5"})]


@pytest.mark.parametrize(("payload", "fmt", "message"), [
    (b"", "ul", "empty"), (b"t|1|h", "ul", "without a value"), (b"|1", "ul", "not a valid attribute name"),
    (b"[]", "json", "empty"), (b"{}", "json", "no attribute"), (b"42", "json", "object"),
    (b'{"t": NaN}', "json", "finite"), (b'{"t": "a\\u0000b"}', "json", "NUL"), (b"\xff\xfe", "ul", "UTF-8"),
    (b'{"t": 1, "TimeInstant": "yesterday"}', "json", "ISO 8601"), (b'{"a b": 1}', "json", "not a valid attribute"),
    (b'{"a\\u0000": 1}', "json", "not a valid attribute"),
    (b'{"t": 1, "TimeInstant": "0005-01-01T00:00:00Z"}', "json", "between the years"),
    (b"x<y|1", "ul", "not a valid attribute"),
])
def test_malformed_payloads_say_what_is_wrong(payload: bytes, fmt: str, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        parse(payload, fmt)
