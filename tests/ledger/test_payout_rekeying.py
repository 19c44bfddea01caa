"""A payout's idempotency key may be replaced only while no request can have left under it (Pay3 registers
the order at estimate time, so a fresh estimate needs a fresh key); once it was ever submitting, never."""

from __future__ import annotations

from decimal import Decimal

import pytest

from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import new_idempotency_key
from treasury_app.ledger import DuplicateRecordError, KeyFixedError, PayoutChanges, StaleRecordError

BACKENDS = ("sqlite", "postgresql")


def test_an_estimated_payout_gets_a_new_key_with_its_new_estimate_and_an_event(ledger, add_payout):
    payout = ledger.payouts.transition(add_payout().id, S.ESTIMATED, actor="alice")
    key = new_idempotency_key()
    rekeyed = ledger.payouts.replace_idempotency_key(payout.id, key, actor="alice", expected_version=payout.version,
                                                     changes=PayoutChanges(estimated_fee=Decimal("1.5")))
    assert rekeyed.idempotency_key == key and rekeyed.estimated_fee == Decimal("1.5")
    assert ledger.payouts.find_by_key(key).id == payout.id
    assert ledger.payouts.find_by_key(payout.idempotency_key) is None
    assert ledger.payouts.events(payout.id)[-1].detail["new_idempotency_key"] == key


def test_a_payout_that_was_ever_submitting_keeps_its_key_forever(ledger, add_payout):
    payout = add_payout()
    for status in (S.ESTIMATED, S.SUBMITTING, S.UNKNOWN):
        payout = ledger.payouts.transition(payout.id, status, actor="alice")
    with pytest.raises(KeyFixedError, match="never change"):
        ledger.payouts.replace_idempotency_key(payout.id, new_idempotency_key(), actor="alice",
                                               expected_version=payout.version)
    assert ledger.payouts.get(payout.id).idempotency_key == payout.idempotency_key


def test_a_stale_version_or_a_key_in_use_changes_nothing(ledger, add_payout):
    first, second = add_payout(), add_payout()
    with pytest.raises(StaleRecordError):
        ledger.payouts.replace_idempotency_key(first.id, new_idempotency_key(), actor="alice",
                                               expected_version=first.version + 1)
    with pytest.raises(DuplicateRecordError):
        ledger.payouts.replace_idempotency_key(first.id, second.idempotency_key, actor="alice",
                                               expected_version=first.version)
    assert ledger.payouts.get(first.id) == first
