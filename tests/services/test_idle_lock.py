"""The desk's idle lock: ten minutes unless an admin says otherwise, within bounds, and every change audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.security.errors import PermissionDeniedError
from treasury_app.services.idle_lock import (
    DEFAULT_IDLE_LOCK,
    SETTING_IDLE_LOCK,
    idle_lock_after,
    parse_minutes,
    set_idle_lock,
)


def test_ten_minutes_until_an_admin_sets_another_time_and_the_change_is_audited(desk):
    assert idle_lock_after(desk.ledger) == DEFAULT_IDLE_LOCK == timedelta(minutes=10)
    set_idle_lock(desk.ledger, acting=desk.sign_in("root"), after=parse_minutes("2.5"))
    assert idle_lock_after(desk.ledger) == timedelta(seconds=150)
    row = [r for r in desk.ledger.audit.rows() if r.subject == "setting:idle_lock"][-1]
    assert (row.operator, json.loads(row.detail_json)) == (
        "root", {"before": {SETTING_IDLE_LOCK: 600}, "after": {SETTING_IDLE_LOCK: 150}})


@pytest.mark.parametrize("name", ["alice", "bob", "vic"])
def test_only_an_admin_may_change_it(desk, name):
    with pytest.raises(PermissionDeniedError):
        set_idle_lock(desk.ledger, acting=desk.sign_in(name), after=timedelta(minutes=30))
    assert idle_lock_after(desk.ledger) == DEFAULT_IDLE_LOCK


@pytest.mark.parametrize("text", ["0", "0.5", "481", "-3", "abc", "nan", "", "inf"])
def test_a_time_out_of_bounds_or_not_a_number_names_the_minutes(text):
    with pytest.raises(InvalidFieldError) as refused:
        parse_minutes(text)
    assert refused.value.field == "minutes"


def test_the_bounds_themselves_are_allowed():
    assert parse_minutes("1") == timedelta(minutes=1)
    assert parse_minutes("480") == timedelta(hours=8)
