"""Checks that compare several tables read them from one snapshot: another desk's commit landing between two of
their statements must never look like a forged record (the false tamper alarm of two processes executing one
payout), and the check must judge the state it read, not a mixture.

The interleaving is made exact, not hoped for: a trace callback on the checking connection commits a real
transition through a second connection of the same file right before a chosen statement of the check runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from desk_fixtures import TestClock, TestDesk, build_desk, password_of

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, StaleRecordError, open_ledger
from treasury_app.security.audit_chain import verify
from treasury_app.services import audit
from treasury_app.services.approvals import ApprovalRequiredError, Approvals


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def desk(ledger_file: Path, clock: TestClock) -> Iterator[TestDesk]:
    with open_ledger(ledger_file, clock=clock) as ledger:
        yield build_desk(ledger, clock)


@pytest.fixture
def other_desk(ledger_file: Path, desk: TestDesk, clock: TestClock) -> Iterator[Ledger]:
    """A second connection to the same file: another window or process of the same desk."""
    with open_ledger(ledger_file, clock=clock) as ledger:
        yield ledger


@contextmanager
def commit_before(ledger: Ledger, fragment: str, write: Callable[[], None]) -> Iterator[list[str]]:
    """While the block runs, `write` is committed (by another connection) just before the first statement of
    `ledger`'s connection whose SQL contains `fragment`. Yields the statements it fired before, to prove it did."""
    conn = ledger._link.conn  # the check's own connection: only its trace hook can time the commit exactly
    fired: list[str] = []

    def trace(sql: str) -> None:
        if not fired and fragment in sql:
            fired.append(sql)
            write()

    conn.set_trace_callback(trace)
    try:
        yield fired
    finally:
        conn.set_trace_callback(None)


def claim(ledger: Ledger, payout_id: int, clock: TestClock) -> Callable[[], None]:
    """What the other process does: claim the payout for sending (approved → submitting, audited)."""
    def write() -> None:
        audit.audited_transition(ledger, payout_id, PayoutStatus.SUBMITTING, operator="carol",
                                 action="payout.submitting", expected_status=PayoutStatus.APPROVED, clock=clock)
    return write


def test_a_claim_committed_between_the_reads_of_the_execution_check_is_no_tamper_alarm(desk, other_desk, clock):
    payout = desk.approved()
    with commit_before(desk.ledger, "FROM approvals", claim(other_desk, payout.id, clock)) as fired:
        clearance = desk.approvals.ensure_executable(payout.id)
    assert fired, "the other desk's claim was never committed during the check"
    # The check judged the payout as it was when it started reading: approved, at the version it then had.
    assert clearance.payout_version == payout.version and clearance.approval_id is not None
    assert other_desk.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    # ...so this desk's claim at that version loses, and sends nothing.
    with pytest.raises(StaleRecordError):
        audit.audited_transition(desk.ledger, payout.id, PayoutStatus.SUBMITTING, operator="alice",
                                 action="payout.submitting", expected_version=clearance.payout_version, clock=clock)


def test_a_claim_committed_just_before_the_audit_rows_are_read_is_no_tamper_alarm(desk, other_desk, clock):
    payout = desk.approved()
    with commit_before(desk.ledger, "FROM audit_log WHERE subject", claim(other_desk, payout.id, clock)) as fired:
        desk.approvals.ensure_executable(payout.id)
    assert fired


def test_an_approval_committed_during_the_execution_check_is_judged_as_not_yet_there(desk, other_desk, clock):
    payout = desk.awaiting()

    def approve() -> None:
        Approvals(other_desk, clock=clock).approve(payout.id, approver="bob", password=password_of("bob"))

    with commit_before(desk.ledger, "FROM approvals", approve) as fired, pytest.raises(ApprovalRequiredError):
        desk.approvals.ensure_executable(payout.id)
    assert fired
    assert desk.approvals.ensure_executable(payout.id).approval_id is not None  # and a fresh check sees it


def test_audit_verify_racing_a_transition_reports_an_intact_trail(desk, other_desk, clock):
    payouts = [desk.approved() for _ in range(3)]
    # The chain walk has read every audit row when the payouts are read; the claim lands in between.
    with commit_before(desk.ledger, "FROM payouts", claim(other_desk, payouts[1].id, clock)) as fired:
        report = verify(desk.ledger)
    assert fired
    assert report.intact, report.problems
    assert verify(desk.ledger).rows_checked == report.rows_checked + 1  # the claim's row, seen by the next walk


def test_the_payout_detail_shows_one_state_of_the_payout(desk, other_desk, clock):
    from treasury_app.services.payout_views import payout_detail

    payout = desk.approved()
    with commit_before(desk.ledger, "FROM payout_events", claim(other_desk, payout.id, clock)) as fired:
        detail = payout_detail(desk.ledger, payout.id, clock=clock)
    assert fired
    assert detail.payout.status is PayoutStatus.APPROVED
    assert detail.events[-1].to_status is PayoutStatus.APPROVED  # not the claim the status does not know of
    assert detail.audit_rows[-1].action == "payout.approved"


def test_the_tamper_check_refuses_to_read_outside_one_snapshot(desk):
    payout = desk.approved()
    with pytest.raises(RuntimeError, match="snapshot"):
        audit.ensure_untampered(desk.ledger, payout, desk.ledger.approvals.for_payout(payout.id))


def test_a_write_inside_a_read_snapshot_is_refused_and_the_snapshot_ends_cleanly(desk):
    payout = desk.compose()
    with pytest.raises(RuntimeError, match="snapshot"), desk.ledger.snapshot():
        desk.ledger.payouts.get(payout.id)
        desk.finish(payout, PayoutStatus.EXPIRED)
    assert not desk.ledger.reads_consistently
    assert desk.finish(payout, PayoutStatus.EXPIRED).status is PayoutStatus.EXPIRED  # the file is writable after
