"""The audit trail as the window reads it (newest first, filtered, a page at a time by keyset) and the chain
check's verdict in words, on a real ledger file: what the pages hold is what the chain holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_fixtures import edit_ledger_file

from treasury_app.domain.errors import TreasuryError
from treasury_app.ledger import open_ledger
from treasury_app.ledger.audit_trail_reads import AuditFilter
from treasury_app.security.audit_chain import verify
from treasury_app.services import audit
from treasury_app.services.audit_trail import AuditTrail, detail_words, verdict_of


@pytest.fixture
def worked_desk(desk):
    """Two operators' work over three days, and some of the desk's own rows (no operator)."""
    desk.compose("alice", amount="10")
    desk.clock.advance(days=1)
    desk.approved("alice", "bob", amount="2500")
    desk.clock.advance(days=1)
    desk.compose("carol", amount="20")
    for number in range(30):
        audit.record(desk.ledger, None if number % 3 else "carol", "test.note", None, {"n": number},
                     clock=desk.clock)
    return desk


def every_row_newest_first(ledger, keep):
    return [row.seq for row in reversed(list(ledger.audit.rows())) if keep(row)]


def all_pages(trail, acting, audit_filter, size, *, between=lambda: None):
    """Every page of a query: the first with the count, the others from the starts read after (`between` runs
    between the two reads, as the window's other work does)."""
    query = trail.query(acting, audit_filter, size)
    between()
    starts = trail.page_starts(acting, query, size)
    seqs = [entry.seq for entry in query.first_page]
    for start in starts[1:]:
        seqs += [entry.seq for entry in trail.page(acting, audit_filter, size, start)]
    return query, starts, seqs


@pytest.mark.parametrize("size", [1, 7, 200])
def test_the_pages_of_each_filter_hold_exactly_the_chains_rows_newest_first(worked_desk, size):
    ledger, clock = worked_desk.ledger, worked_desk.clock
    trail, acting = AuditTrail(ledger), worked_desk.sign_in("alice")
    day_two = clock.now - timedelta(days=1)
    cases = [
        (AuditFilter(), lambda row: True),
        (AuditFilter(operator="alice"), lambda row: row.operator == "alice"),
        (AuditFilter(operator=""), lambda row: row.operator is None),
        (AuditFilter(action="test.note"), lambda row: row.action == "test.note"),
        (AuditFilter(operator="carol", action="test.note"),
         lambda row: row.operator == "carol" and row.action == "test.note"),
        (AuditFilter(since=day_two.replace(hour=0, minute=0), until=clock.now.replace(hour=0, minute=0)),
         lambda row: day_two.replace(hour=0, minute=0) <= row.at < clock.now.replace(hour=0, minute=0)),
    ]
    for audit_filter, keep in cases:
        expected = every_row_newest_first(ledger, keep)
        query, starts, seqs = all_pages(trail, acting, audit_filter, size)
        assert expected, audit_filter
        assert seqs == expected and query.count == len(expected), audit_filter
        assert len(starts) == -(-len(expected) // size)


def test_rows_appended_between_the_first_page_and_the_page_starts_do_not_shift_the_pages(worked_desk):
    ledger, clock = worked_desk.ledger, worked_desk.clock
    trail, acting = AuditTrail(ledger), worked_desk.sign_in("alice")
    expected = every_row_newest_first(ledger, lambda row: row.action == "test.note")

    def appended() -> None:
        for number in range(5):
            audit.record(ledger, "carol", "test.note", None, {"late": number}, clock=clock)

    query, starts, seqs = all_pages(trail, acting, AuditFilter(action="test.note"), 7, between=appended)
    assert seqs == expected and query.count == len(expected) == len(seqs)
    assert len(starts) == -(-len(expected) // 7)


def test_the_choices_are_the_operators_and_actions_the_trail_names(worked_desk):
    choices = AuditTrail(worked_desk.ledger).choices(worked_desk.sign_in("bob"))
    assert {"alice", "bob", "carol"} <= set(choices.operators) and None not in choices.operators
    assert "test.note" in choices.actions and "payout.composed" in choices.actions


def test_a_disabled_operator_reads_nothing(worked_desk):
    acting = worked_desk.sign_in("carol")
    worked_desk.accounts.disable("carol", acting=worked_desk.sign_in("root"))
    with pytest.raises(TreasuryError, match="no longer active"):
        AuditTrail(worked_desk.ledger).query(acting, AuditFilter(), 10)


def test_the_detail_in_words_leaves_out_the_chains_digests(worked_desk):
    rows = [row for row in worked_desk.ledger.audit.rows() if row.action == "payout.estimated"]
    assert "payout_fields_digest" in rows[0].detail_json
    assert detail_words(rows[0]) == "from draft to estimated"
    composed = next(row for row in worked_desk.ledger.audit.rows() if row.action == "payout.composed")
    assert detail_words(composed) == f"address: {composed.detail['address']}; amount: 10"


def test_progress_is_reported_without_changing_the_report(worked_desk, ledger_file, clock):
    seen: list[tuple[int, int]] = []
    with open_ledger(ledger_file, clock=clock) as ledger:
        plain = verify(ledger)
        followed = verify(ledger, progress=lambda done, total: seen.append((done, total)))
    assert followed == plain
    assert seen[0] == (0, plain.rows_checked) and seen[-1] == (plain.rows_checked, plain.rows_checked)


def test_the_verdict_names_the_first_broken_row_as_the_command_line_does(worked_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "UPDATE audit_log SET operator = 'mallory' WHERE seq = 4")
    with open_ledger(ledger_file, clock=clock) as ledger:
        verdict = verdict_of(verify(ledger))
    assert not verdict.intact
    assert verdict.first_problem is not None and verdict.first_problem.startswith("row 4 ")
    assert verdict.stored_row is not None and verdict.stored_row.startswith("#4 ") and "mallory" in verdict.stored_row
    assert verdict.lines()[1] == f"first broken: {verdict.first_problem}"


def test_a_long_walk_says_how_far_it_got_on_the_way(worked_desk, ledger_file, clock):
    with worked_desk.ledger.transaction():
        for number in range(4500):
            audit.record(worked_desk.ledger, "alice", "test.filler", None, {"n": number}, clock=clock)
    seen: list[tuple[int, int]] = []
    with open_ledger(ledger_file, clock=clock) as ledger:
        report = verify(ledger, progress=lambda done, total: seen.append((done, total)))
    total = report.rows_checked
    assert report.intact and total > 4500
    assert [done for done, _ in seen] == [0, 2000, 4000, total] and {t for _, t in seen} == {total}
