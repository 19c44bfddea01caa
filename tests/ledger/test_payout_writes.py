"""Writing payouts: a draft and its first event, lifecycle transitions with compare-and-set, provider updates,
and bulk import. Every refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ledger_fixtures import (
    EVM_ADDRESS,
    is_team_ledger,
    make_request,
    raw_execute,
    raw_rows,
)

from treasury_app.domain.errors import IllegalTransitionError, InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import FeeMode, Priority
from treasury_app.ledger import (
    DuplicateRecordError,
    ImportedPayout,
    PayoutChanges,
    PayoutFilter,
    PayoutNotFoundError,
    StaleRecordError,
    open_ledger,
)
from treasury_app.ledger.errors import ConstraintViolation

BACKENDS = ("sqlite", "postgresql")


def snapshot(ledger, payout_id):
    return ledger.payouts.get(payout_id), ledger.payouts.events(payout_id)


def test_a_new_payout_is_a_draft_with_its_first_event(ledger, clock):
    request = make_request(fee_mode=FeeMode.FROM_AMOUNT, memo=None, reference="INV-1", note="two\nlines")
    payout = ledger.payouts.add(request, idempotency_key="order-0001", actor="alice")

    assert payout.status is S.DRAFT and payout.version == 1
    assert (payout.provider, payout.currency, payout.network) == ("cryptomus", "USDT", "TRON")
    assert payout.amount == Decimal("150.25") and payout.fee_mode is FeeMode.FROM_AMOUNT
    assert (payout.reference, payout.note, payout.created_by) == ("INV-1", "two\nlines", "alice")
    assert payout.created_at == clock.now and payout.created_at.tzinfo is UTC
    assert payout.estimate_warnings == () and dict(payout.estimate_data) == {}
    assert payout.submitted_at is payout.finished_at is payout.next_poll_at is None
    [event] = ledger.payouts.events(payout.id)
    assert (event.from_status, event.to_status, event.actor, event.at) == (None, S.DRAFT, "alice", payout.created_at)
    assert ledger.payouts.find_by_key("order-0001") == payout


def test_priority_and_memo_are_stored(ledger):
    request = make_request(currency="ETH", network="ETH", address=EVM_ADDRESS, amount=Decimal("1"),
                           priority=Priority.HIGH)
    assert ledger.payouts.add(request, idempotency_key="k", actor="a").priority is Priority.HIGH
    ton = make_request(currency="TON", network="TON", address="EQ-some-ton-address", memo="deposit 42")
    assert ledger.payouts.add(ton, idempotency_key="k2", actor="a").memo == "deposit 42"


def test_the_same_idempotency_key_twice_is_refused_and_writes_nothing(ledger, add_payout):
    first = add_payout(key="order-1")
    with pytest.raises(DuplicateRecordError, match="order-1"):
        add_payout(key="order-1", amount=Decimal("999"))
    assert ledger.payouts.count() == 1
    assert len(ledger.payouts.events(first.id)) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 33, "semi;colon", "ünïcode"])
def test_an_invalid_idempotency_key_is_refused(ledger, key):
    with pytest.raises(InvalidFieldError) as refused:
        ledger.payouts.add(make_request(), idempotency_key=key, actor="alice")
    assert refused.value.field == "idempotency_key"
    assert ledger.payouts.count() == 0


def test_a_payout_without_an_actor_is_refused(ledger):
    with pytest.raises(InvalidFieldError, match="actor"):
        ledger.payouts.add(make_request(), idempotency_key="k", actor="  ")


@pytest.mark.parametrize(
    ("currency", "network", "text"),
    [
        ("ETH", "ETH", "0.000000000000000001"),
        ("USDT", "BSC", "123456789012345.123456789012345678"),
        ("USDT", "TRON", "10.500000"),  # trailing zeros are kept as typed
        ("BTC", "BTC", "21000000"),
    ],
)
def test_amounts_survive_the_round_trip_exactly(ledger_path, currency, network, text):
    with open_ledger(ledger_path) as ledger:
        ledger.payouts.add(make_request(currency=currency, network=network, amount=Decimal(text)),
                           idempotency_key="exact", actor="alice")
    with open_ledger(ledger_path) as reopened:
        amount = reopened.payouts.find_by_key("exact").amount
    assert amount.as_tuple() == Decimal(text).as_tuple()  # same digits, same exponent: nothing rounded
    assert format_amount(amount) == text
    type_of = "pg_typeof(amount)::text" if is_team_ledger(ledger_path) else "typeof(amount)"
    assert raw_rows(ledger_path, f"SELECT amount, {type_of} FROM payouts") == [(text, "text")]


def test_an_amount_the_sort_key_cannot_hold_is_refused_before_anything_is_written(ledger):
    with pytest.raises(ValueError, match="sorts exactly"):
        ledger.payouts.add(make_request(amount=Decimal("1e-19")), idempotency_key="tiny", actor="a")
    assert ledger.payouts.count() == 0


def test_a_payout_walks_the_whole_lifecycle_with_one_event_per_step(ledger, add_payout, clock):
    payout = add_payout()
    estimated_at = datetime(2026, 3, 1, 9, 0, 30, tzinfo=UTC)
    estimate = PayoutChanges(
        estimated_fee=Decimal("1.000001"), estimated_net=Decimal("150.25"), estimated_total=Decimal("151.250001"),
        estimate_warnings=("low balance",), estimate_data={"token": "abc", "rate": Decimal("0.99")},
        estimated_at=estimated_at,
    )
    payout = ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice", changes=estimate,
                                       expected_status=S.DRAFT, expected_version=1)
    assert payout.estimated_fee == Decimal("1.000001") and payout.estimated_total == Decimal("151.250001")
    assert payout.estimate_warnings == ("low balance",)
    assert payout.estimate_data == {"token": "abc", "rate": "0.99"}  # Decimals come back as exact text
    assert payout.estimated_at == estimated_at and payout.version == 2

    payout = ledger.payouts.transition(payout.id, S.AWAITING_APPROVAL, actor="alice")
    payout = ledger.payouts.transition(payout.id, S.APPROVED, actor="bob", detail={"approval": 1})
    assert payout.submitted_at is None
    payout = ledger.payouts.transition(payout.id, S.SUBMITTING, actor="alice", expected_status=S.APPROVED)
    submitted_at = clock.now
    assert payout.submitted_at == submitted_at and payout.finished_at is None
    payout = ledger.payouts.transition(payout.id, S.PROCESSING, actor="poller",
                                       changes=PayoutChanges(provider_status="process", provider_payout_id="p-1"))
    payout = ledger.payouts.transition(
        payout.id, S.COMPLETED, actor="poller",
        changes=PayoutChanges(provider_status="paid", tx_hash="0xabc", actual_fee=Decimal("0.9"),
                              actual_amount=Decimal("150.25")),
    )
    assert payout.finished_at == clock.now and payout.submitted_at == submitted_at
    assert (payout.tx_hash, payout.actual_fee, payout.provider_payout_id) == ("0xabc", Decimal("0.9"), "p-1")
    assert payout.version == 7

    events = ledger.payouts.events(payout.id)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, S.DRAFT), (S.DRAFT, S.ESTIMATED), (S.ESTIMATED, S.AWAITING_APPROVAL),
        (S.AWAITING_APPROVAL, S.APPROVED), (S.APPROVED, S.SUBMITTING), (S.SUBMITTING, S.PROCESSING),
        (S.PROCESSING, S.COMPLETED),
    ]
    assert events[3].actor == "bob" and events[3].detail == {"approval": 1}
    assert events[-1].provider_status == "paid"
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_illegal_transition_writes_nothing(ledger, add_payout):
    payout = add_payout()
    before = snapshot(ledger, payout.id)
    with pytest.raises(IllegalTransitionError, match=f"payout {payout.id} cannot go from 'draft' to 'completed'"):
        ledger.payouts.transition(payout.id, S.COMPLETED, actor="mallory",
                                  changes=PayoutChanges(tx_hash="0xforged"))
    assert snapshot(ledger, payout.id) == before


def test_a_final_payout_cannot_move_again(ledger, add_payout):
    payout = add_payout()
    ledger.payouts.transition(payout.id, S.CANCELLED, actor="alice")
    with pytest.raises(IllegalTransitionError):
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice")


def test_stale_expected_version_raises_and_writes_nothing(ledger, add_payout):
    payout = add_payout()
    ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice")
    before = snapshot(ledger, payout.id)
    with pytest.raises(StaleRecordError, match="changed since it was read"):
        ledger.payouts.transition(payout.id, S.CANCELLED, actor="bob", expected_version=1)
    assert snapshot(ledger, payout.id) == before


def test_stale_expected_status_raises_and_writes_nothing(ledger, add_payout):
    payout = add_payout()
    ledger.payouts.transition(payout.id, S.CANCELLED, actor="alice")
    before = snapshot(ledger, payout.id)
    with pytest.raises(StaleRecordError, match="is now 'cancelled', not 'draft'"):
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="bob", expected_status=S.DRAFT)
    assert snapshot(ledger, payout.id) == before


def test_two_windows_claiming_the_same_payout_for_execution_one_wins(ledger_path, add_payout, ledger):
    payout = add_payout()
    for target in (S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED):
        payout = ledger.payouts.transition(payout.id, target, actor="alice")
    with open_ledger(ledger_path) as other_window:
        seen_here = ledger.payouts.get(payout.id)
        seen_there = other_window.payouts.get(payout.id)
        ledger.payouts.transition(payout.id, S.SUBMITTING, actor="alice", expected_version=seen_here.version)
        with pytest.raises(StaleRecordError):
            other_window.payouts.transition(payout.id, S.SUBMITTING, actor="bob",
                                            expected_version=seen_there.version)
    assert [e.to_status for e in ledger.payouts.events(payout.id)].count(S.SUBMITTING) == 1


def test_status_change_and_event_commit_together_or_not_at_all(ledger, ledger_path, add_payout):
    payout = add_payout()
    before = snapshot(ledger, payout.id)
    # Another connection (as a disk-full or a bug would) makes the event insert fail after the UPDATE ran.
    if is_team_ledger(ledger_path):
        raw_execute(ledger_path, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$")
        raw_execute(ledger_path, "CREATE TRIGGER refuse_events BEFORE INSERT ON payout_events "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse()")
    else:
        raw_execute(ledger_path, "CREATE TRIGGER refuse_events BEFORE INSERT ON payout_events "
                                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")

    with pytest.raises(ConstraintViolation, match="injected failure"):
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice")

    assert snapshot(ledger, payout.id) == before
    assert raw_rows(ledger_path, "SELECT status, version FROM payouts") == [("draft", 1)]
    assert raw_rows(ledger_path, "SELECT count(*) FROM payout_events") == [(1,)]


@pytest.mark.parametrize("detail", [{"when": object()}, {"fee": 0.1}, ["not", "a", "mapping"]])
def test_a_detail_that_cannot_be_stored_is_refused_and_writes_nothing(ledger, add_payout, detail):
    payout = add_payout()
    before = snapshot(ledger, payout.id)
    with pytest.raises(TypeError):
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice", detail=detail)
    assert snapshot(ledger, payout.id) == before


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (PayoutChanges(estimated_fee=0.5), TypeError),  # a float has already lost digits
        (PayoutChanges(estimated_fee="0.5"), TypeError),
        (PayoutChanges(actual_fee=Decimal("-1")), ValueError),
        (PayoutChanges(actual_fee=Decimal("NaN")), ValueError),
        (PayoutChanges(poll_failures=-1), ValueError),
        (PayoutChanges(next_poll_at=datetime(2026, 1, 1)), ValueError),  # no time zone
        (PayoutChanges(tx_hash=123), TypeError),
        (PayoutChanges(estimate_warnings=(1,)), TypeError),
    ],
)
def test_bad_changes_are_refused_before_anything_is_written(ledger, add_payout, changes, error):
    payout = add_payout()
    before = snapshot(ledger, payout.id)
    with pytest.raises(error):
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice", changes=changes)
    assert snapshot(ledger, payout.id) == before


def test_a_transition_or_update_of_an_unknown_payout_names_it(ledger):
    with pytest.raises(PayoutNotFoundError, match="id 404"):
        ledger.payouts.transition(404, S.ESTIMATED, actor="alice")
    with pytest.raises(PayoutNotFoundError, match="id 404"):
        ledger.payouts.record_provider_update(404, PayoutChanges(tx_hash="x"), actor="poller")
    with pytest.raises(PayoutNotFoundError, match="id 404"):
        ledger.payouts.schedule_poll(404, next_poll_at=None, poll_failures=0)


def test_none_clears_a_field_and_unchanged_leaves_it(ledger, add_payout):
    payout = add_payout()
    payout = ledger.payouts.transition(payout.id, S.ESTIMATED, actor="a",
                                       changes=PayoutChanges(estimated_fee=Decimal("1"), failure_reason="x"))
    payout = ledger.payouts.transition(payout.id, S.ESTIMATED, actor="a", changes=PayoutChanges(failure_reason=None))
    assert payout.failure_reason is None and payout.estimated_fee == Decimal("1")


def test_a_resend_after_unknown_keeps_the_first_submission_time(ledger, add_payout):
    payout = add_payout()
    for target in (S.ESTIMATED, S.SUBMITTING):
        payout = ledger.payouts.transition(payout.id, target, actor="alice")
    first = payout.submitted_at
    payout = ledger.payouts.transition(payout.id, S.UNKNOWN, actor="alice", changes=PayoutChanges(
        failure_reason="timeout after sending"))
    payout = ledger.payouts.transition(payout.id, S.SUBMITTING, actor="recovery")
    assert payout.submitted_at == first


def in_flight(ledger, add_payout):
    payout = add_payout()
    for target in (S.ESTIMATED, S.SUBMITTING, S.PROCESSING):
        payout = ledger.payouts.transition(payout.id, target, actor="alice")
    return payout


def test_a_provider_update_without_a_status_change_is_an_event(ledger, add_payout):
    payout = in_flight(ledger, add_payout)
    updated = ledger.payouts.record_provider_update(
        payout.id, PayoutChanges(provider_status="check", tx_hash="abc123"), actor="poller",
        expected_version=payout.version, detail={"raw": {"status": "check"}},
    )
    assert (updated.status, updated.provider_status, updated.tx_hash) == (S.PROCESSING, "check", "abc123")
    assert updated.version == payout.version + 1
    event = ledger.payouts.events(payout.id)[-1]
    assert (event.from_status, event.to_status, event.provider_status, event.actor) == (
        S.PROCESSING, S.PROCESSING, "check", "poller")
    assert event.detail == {"raw": {"status": "check"}}


def test_a_provider_update_that_changes_nothing_writes_nothing(ledger, add_payout):
    payout = in_flight(ledger, add_payout)
    payout = ledger.payouts.record_provider_update(payout.id, PayoutChanges(provider_status="check"), actor="poller")
    before = snapshot(ledger, payout.id)
    again = ledger.payouts.record_provider_update(payout.id, PayoutChanges(provider_status="check"), actor="poller")
    assert again == before[0] and snapshot(ledger, payout.id) == before


def test_a_provider_update_with_a_stale_version_writes_nothing(ledger, add_payout):
    payout = in_flight(ledger, add_payout)
    before = snapshot(ledger, payout.id)
    with pytest.raises(StaleRecordError):
        ledger.payouts.record_provider_update(payout.id, PayoutChanges(tx_hash="x"), actor="poller",
                                              expected_version=payout.version - 1)
    assert snapshot(ledger, payout.id) == before


def test_poll_scheduling_is_stored_without_a_timeline_event(ledger, add_payout):
    payout = in_flight(ledger, add_payout)
    events_before = ledger.payouts.events(payout.id)
    when = datetime(2026, 3, 2, tzinfo=UTC)
    scheduled = ledger.payouts.schedule_poll(payout.id, next_poll_at=when, poll_failures=3)
    assert (scheduled.next_poll_at, scheduled.poll_failures) == (when, 3)
    assert ledger.payouts.events(payout.id) == events_before
    with pytest.raises(ValueError):
        ledger.payouts.schedule_poll(payout.id, next_poll_at=when, poll_failures=-1)
    assert ledger.payouts.get(payout.id) == scheduled


def imported(key: str, status: S, created_at: datetime, **fields) -> ImportedPayout:
    return ImportedPayout(request=make_request(**fields.pop("request", {})), idempotency_key=key, status=status,
                          created_at=created_at, created_by="import", **fields)


def test_import_writes_payouts_as_they_stand_in_batches_with_one_event_each(ledger):
    start = datetime(2025, 6, 1, tzinfo=UTC)
    items = [imported(f"imp-{n}", S.COMPLETED if n % 2 else S.PROCESSING, start + timedelta(hours=n),
                      provider_payout_id=f"p-{n}", actual_fee=Decimal("0.1")) for n in range(25)]
    assert ledger.payouts.import_payouts(items, actor="importer", batch_size=10) == 25

    assert ledger.payouts.count() == 25
    done = ledger.payouts.find_by_key("imp-1")
    assert (done.status, done.created_at, done.provider_payout_id) == (S.COMPLETED, start + timedelta(hours=1), "p-1")
    assert done.finished_at == done.created_at == done.submitted_at and done.actual_fee == Decimal("0.1")
    open_one = ledger.payouts.find_by_key("imp-0")
    assert open_one.finished_at is None and open_one.submitted_at == open_one.created_at
    for payout in ledger.payouts.page(limit=100):
        [event] = ledger.payouts.events(payout.id)
        assert (event.from_status, event.to_status, event.actor) == (None, payout.status, "importer")
        assert event.detail == {"imported": True}


def test_an_import_batch_with_a_known_key_is_refused_whole_and_earlier_batches_stay(ledger, ledger_path, add_payout):
    add_payout(key="taken")
    start = datetime(2025, 6, 1, tzinfo=UTC)
    items = [imported(f"imp-{n}", S.COMPLETED, start) for n in range(7)] + [imported("taken", S.COMPLETED, start)]
    with pytest.raises(DuplicateRecordError, match="5 payouts before it were"):
        ledger.payouts.import_payouts(items, actor="importer", batch_size=5)
    assert ledger.payouts.count() == 6  # "taken" and the first batch of five
    assert ledger.payouts.find_by_key("imp-5") is None
    assert raw_rows(ledger_path, "SELECT count(*) FROM payout_events") == [(6,)]


def test_ids_and_status_counts_follow_imports_and_changes(ledger, ledger_path, add_payout):
    """Ids as the database gives them one by one (an import gives a batch's at once), and the per-status counts
    (`payout_counts`, kept by triggers) agreeing with the rows after imports, transitions and poll bookkeeping."""
    add_payout(key="before")
    start = datetime(2025, 6, 1, tzinfo=UTC)
    statuses = (S.COMPLETED, S.PROCESSING, S.FAILED)
    items = [imported(f"imp-{n}", statuses[n % 3], start + timedelta(hours=n)) for n in range(12)]
    assert ledger.payouts.import_payouts(items, actor="importer", batch_size=5) == 12
    after = add_payout(key="after")
    assert after.id == 14
    assert sorted(p.id for p in ledger.payouts.page(limit=100)) == list(range(1, 15))
    assert raw_rows(ledger_path, "SELECT id FROM payout_events ORDER BY id") == [(n,) for n in range(1, 15)]

    for payout in ledger.payouts.page(PayoutFilter(statuses=(S.PROCESSING,)), limit=100)[:3]:
        ledger.payouts.transition(payout.id, S.COMPLETED, actor="poller")
    ledger.payouts.transition(after.id, S.CANCELLED, actor="alice")
    in_flight_one = ledger.payouts.page(PayoutFilter(statuses=(S.PROCESSING,)), limit=1)[0]
    ledger.payouts.schedule_poll(in_flight_one.id, next_poll_at=start, poll_failures=1)  # no status change

    rows = ledger.payouts.page(limit=100)
    for status in S:
        assert ledger.payouts.count(PayoutFilter(statuses=(status,))) == sum(p.status is status for p in rows), status
    assert ledger.payouts.count(PayoutFilter(statuses=(S.COMPLETED,), provider="cryptomus")) == sum(
        p.status is S.COMPLETED and p.provider == "cryptomus" for p in rows)
