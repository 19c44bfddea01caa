"""How values are written to the ledger's TEXT columns and read back: times, amounts, JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger.column_codecs import amount_to_text, decode_json, encode_json
from treasury_app.ledger.timestamps import format_timestamp, parse_timestamp, utc_now


def test_a_moment_is_stored_as_fixed_width_utc_text_and_read_back_exactly():
    moment = datetime(2026, 11, 21, 22, 17, 3, 123456, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-11-21T22:17:03.123456Z"
    assert parse_timestamp("2026-11-21T22:17:03.123456Z") == moment


def test_other_time_zones_are_converted_to_utc_and_whole_seconds_keep_their_width():
    berlin = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(berlin) == "2026-01-01T00:00:00.000000Z"
    assert format_timestamp(datetime(5, 1, 1, tzinfo=UTC)) == "0005-01-01T00:00:00.000000Z"


def test_text_order_is_time_order():
    moments = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=n * 999_999) for n in range(50)]
    assert sorted(map(format_timestamp, moments)) == [format_timestamp(m) for m in sorted(moments)]


def test_a_naive_time_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="no time zone"):
        format_timestamp(datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        format_timestamp("2026-01-01")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["2026-11-21", "2026-11-21T22:17:03Z", "2026-11-21T22:17:03.123456+00:00", "", "x"])
def test_text_that_is_not_a_ledger_timestamp_is_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_now_is_utc_and_tz_aware():
    now = utc_now()
    assert now.tzinfo is UTC and abs(datetime.now(UTC) - now) < timedelta(seconds=5)


def test_json_is_canonical_so_equal_values_are_equal_text():
    assert encode_json({"b": 1, "a": [Decimal("1.50"), PayoutStatus.DRAFT, "ü"]}) == '{"a":["1.50","draft","ü"],"b":1}'
    assert encode_json({"when": datetime(2026, 1, 1, tzinfo=UTC)}) == '{"when":"2026-01-01T00:00:00.000000Z"}'


@pytest.mark.parametrize("value", [1.5, {"a": {"b": [0.1]}}, float("inf"), object(), b"bytes"])
def test_json_refuses_floats_and_what_it_cannot_hold(value):
    with pytest.raises((TypeError, ValueError)):
        encode_json(value)


def test_json_comes_back_read_only_with_decimals_for_numbers_with_a_point():
    value = decode_json('{"fee":0.10,"list":[1,{"x":2.5}]}')
    assert value == {"fee": Decimal("0.10"), "list": (1, {"x": Decimal("2.5")})}
    with pytest.raises(TypeError):
        value["fee"] = 0  # type: ignore[index]


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("NaN"), Decimal("-Infinity")])
def test_an_amount_column_refuses_negative_and_non_finite_values(amount):
    with pytest.raises(ValueError):
        amount_to_text(amount)


def test_an_amount_column_is_plain_notation_whatever_the_exponent():
    assert amount_to_text(Decimal("1E+3")) == "1000"
    assert amount_to_text(Decimal("1E-18")) == "0.000000000000000001"
    assert amount_to_text(Decimal("-0")) == "0"
