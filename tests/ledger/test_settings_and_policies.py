"""Settings (JSON under a key) and per-currency approval policies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import OverLimitAction, open_ledger

BACKENDS = ("sqlite", "postgresql")


def test_a_setting_round_trips_as_json_with_exact_numbers(ledger):
    profile = {"base_url": "https://api.example", "timeout": Decimal("7.5"), "retries": 3, "tags": ["a", "b"]}
    ledger.settings.set("provider.pay3", profile)
    stored = ledger.settings.get("provider.pay3")
    assert stored == {"base_url": "https://api.example", "timeout": "7.5", "retries": 3, "tags": ("a", "b")}
    with pytest.raises(TypeError):
        stored["retries"] = 4  # read-only: a value read from the ledger is not changed behind its back


def test_a_missing_setting_gives_the_default(ledger):
    assert ledger.settings.get("approval_expiry_hours") is None
    assert ledger.settings.get("approval_expiry_hours", 24) == 24


def test_setting_again_replaces_and_survives_reopening(ledger_path):
    with open_ledger(ledger_path) as ledger:
        ledger.settings.set("theme", "dark")
        ledger.settings.set("theme", "light")
    with open_ledger(ledger_path) as ledger:
        assert ledger.settings.get("theme") == "light"


def test_json_numbers_with_a_point_come_back_as_decimal(ledger):
    ledger.settings.set("raw", 1)
    ledger._link.conn.execute("UPDATE settings SET value = '0.1' WHERE key = 'raw'")
    assert ledger.settings.get("raw") == Decimal("0.1")


def test_deleting_a_setting(ledger):
    ledger.settings.set("x", True)
    assert ledger.settings.delete("x") is True
    assert ledger.settings.delete("x") is False
    assert ledger.settings.get("x") is None


@pytest.mark.parametrize("value", [0.5, {"nested": [1.5]}, object(), float("nan")])
def test_values_that_would_lose_digits_or_cannot_be_json_are_refused(ledger, value):
    with pytest.raises((TypeError, ValueError)):
        ledger.settings.set("bad", value)
    assert ledger.settings.get("bad") is None


@pytest.mark.parametrize("key", ["", "  ", " padded", None])
def test_a_setting_needs_a_clean_key(ledger, key):
    with pytest.raises(ValueError):
        ledger.settings.set(key, 1)


def test_a_policy_is_put_read_and_replaced_per_currency(ledger, clock):
    policy = ledger.policies.put("usdt", actor="admin", approval_threshold=Decimal("1000"),
                                 daily_limit_operator=Decimal("5000.50"), daily_limit_desk=Decimal("50000"),
                                 over_limit=OverLimitAction.REFUSE, new_destination_needs_approval=True)
    assert policy.currency == "USDT" and policy.approval_threshold == Decimal("1000")
    assert policy.daily_limit_operator == Decimal("5000.50") and policy.over_limit is OverLimitAction.REFUSE
    assert policy.new_destination_needs_approval is True and policy.updated_at == clock.now
    assert ledger.policies.get("USDT") == policy

    replaced = ledger.policies.put("USDT", actor="admin2", approval_threshold=Decimal("2000"))
    assert replaced.daily_limit_desk is None and replaced.over_limit is OverLimitAction.NEEDS_APPROVAL
    assert replaced.updated_by == "admin2"


def test_policies_are_listed_by_currency_and_can_be_removed(ledger):
    for currency in ("USDT", "BTC", "ETH"):
        ledger.policies.put(currency, actor="admin")
    assert [p.currency for p in ledger.policies.all()] == ["BTC", "ETH", "USDT"]
    assert ledger.policies.remove("eth") is True and ledger.policies.remove("eth") is False
    assert ledger.policies.get("ETH") is None


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"currency": " ", "actor": "admin"}, InvalidFieldError),
        ({"currency": "USDT", "actor": ""}, InvalidFieldError),
        ({"currency": "USDT", "actor": "a", "approval_threshold": 1000.0}, TypeError),
        ({"currency": "USDT", "actor": "a", "daily_limit_desk": Decimal("-1")}, ValueError),
        ({"currency": "USDT", "actor": "a", "over_limit": "shrug"}, ValueError),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_is_stored(ledger, fields, error):
    fields = dict(fields)  # the parameter is shared by every backend's run of this test
    with pytest.raises(error):
        ledger.policies.put(fields.pop("currency"), **fields)
    assert ledger.policies.all() == []
