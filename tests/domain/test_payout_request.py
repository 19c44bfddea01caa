"""Composing a payout validates every field and names the first one that is wrong."""

import base64
import binascii
import re
from decimal import Decimal

import pytest

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_request import (
    FeeMode,
    Priority,
    compose_payout,
    new_idempotency_key,
    validate_idempotency_key,
)

# The Cryptomus documentation's example TRON address fails its base58check checksum; this one is valid.
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def ton_address() -> str:
    body = bytes([0x11, 0x00]) + bytes(range(32))
    return base64.urlsafe_b64encode(body + binascii.crc_hqx(body, 0).to_bytes(2, "big")).decode()


def compose(**overrides):
    fields = dict(provider="cryptomus", currency="USDT", network="TRON", address=TRON_ADDRESS, amount="150.25")
    fields.update(overrides)
    return compose_payout(**fields)


def test_a_good_payout_is_composed_with_exact_values():
    request = compose(reference="INV-2026-001", note="October bonus")
    assert request.provider == "cryptomus"
    assert request.asset.code == "USDT-TRON"
    assert request.amount == Decimal("150.25")
    assert request.fee_mode is FeeMode.FROM_BALANCE
    assert request.priority is None and request.memo is None
    assert (request.reference, request.note) == ("INV-2026-001", "October bonus")


def test_request_is_frozen():
    request = compose()
    with pytest.raises(AttributeError):
        request.amount = Decimal("1")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"provider": "binance"}, "provider"),
        ({"currency": "XYZ"}, "currency"),
        ({"network": "ETH", "address": TRON_ADDRESS}, "address"),
        ({"address": ""}, "address"),
        ({"amount": "1.1234567"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"fee_mode": "from_nowhere"}, "fee_mode"),
        ({"priority": "high"}, "priority"),  # TRON has no priority
        ({"network": "ETH", "address": EVM_ADDRESS, "priority": "urgent"}, "priority"),
        ({"memo": "123"}, "memo"),  # TRON carries no memo
        ({"reference": "x" * 101}, "reference"),
        ({"reference": "line\nbreak"}, "reference"),
        ({"note": "bell\x07"}, "note"),
        ({"note": "hidden\u202eoverride"}, "note"),
        ({"note": "n" * 1001}, "note"),
    ],
)
def test_each_bad_field_is_named(overrides, field):
    with pytest.raises(InvalidFieldError) as caught:
        compose(**overrides)
    assert caught.value.field == field


def test_priority_on_a_fee_market_chain_and_fee_from_amount():
    request = compose(network="ETH", address=EVM_ADDRESS, priority="HIGH", fee_mode="from_amount")
    assert request.priority is Priority.HIGH
    assert request.fee_mode is FeeMode.FROM_AMOUNT


def test_memo_on_ton_is_kept_and_bounded():
    assert compose(currency="TON", network="TON", address=ton_address(), memo="12345").memo == "12345"
    with pytest.raises(InvalidFieldError) as caught:
        compose(currency="TON", network="TON", address=ton_address(), memo="m" * 31)
    assert caught.value.field == "memo"


def test_notes_may_span_lines_but_references_may_not():
    assert compose(note="first\nsecond").note == "first\nsecond"


def test_blank_optional_text_becomes_none():
    request = compose(reference="   ", note="")
    assert request.reference is None and request.note is None


def test_new_idempotency_keys_are_valid_unique_and_fit_both_providers():
    keys = {new_idempotency_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        assert re.fullmatch(r"[a-z0-9]{32}", key)
        assert validate_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "a" * 33, "has space", "slash/", "ünïcode", "dot.ted"])
def test_bad_idempotency_keys_are_refused(key):
    with pytest.raises(InvalidFieldError) as caught:
        validate_idempotency_key(key)
    assert caught.value.field == "idempotency_key"
