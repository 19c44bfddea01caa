"""Who the desk tells what without being asked: each initiator of their payouts' endings, each approver of the
payouts that start waiting for them; one summary when there is much, or when they were away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.desk_news import MOST_SINGLE_NOTICES, DeskNews, NoticeKind

S = PayoutStatus


@pytest.fixture
def news() -> DeskNews:
    return DeskNews()


def moved(record, before: PayoutStatus, after: PayoutStatus):
    return before, replace(record, status=after)


def test_an_initiator_signed_in_hears_of_each_ending_of_theirs_and_only_theirs(desk, news):
    mine, other = desk.compose("alice"), desk.compose("carol")
    news.payouts_moved([moved(mine, S.PROCESSING, S.COMPLETED), moved(other, S.PROCESSING, S.FAILED)], "alice")
    told = news.take("Alice")  # names are one person whatever their case, as in the ledger
    assert [(n.kind, n.payout.id) for n in told] == [(NoticeKind.COMPLETED, mine.id)]
    assert news.take("alice") == ()  # told once


def test_only_completed_failed_cancelled_and_unknown_are_told(desk, news):
    payout = desk.compose("alice")
    news.payouts_moved([moved(payout, S.SUBMITTING, S.PROCESSING), moved(payout, S.APPROVED, S.SUBMITTING),
                        moved(payout, S.PROCESSING, S.PROCESSING)], "alice")
    assert news.take("alice") == ()
    news.payouts_moved([moved(payout, S.PROCESSING, S.CANCELLED)], "alice")
    news.payouts_moved([moved(payout, S.SUBMITTING, S.UNKNOWN)], "alice")
    assert [n.kind for n in news.take("alice")] == [NoticeKind.FAILED, NoticeKind.UNKNOWN]


def test_a_burst_is_one_summary_with_the_counts(desk, news):
    payouts = [desk.compose("alice") for _ in range(MOST_SINGLE_NOTICES + 2)]
    changes = [moved(p, S.PROCESSING, S.COMPLETED) for p in payouts[:-1]] + [moved(payouts[-1], S.PROCESSING,
                                                                                S.UNKNOWN)]
    news.payouts_moved(changes, "alice")
    (summary,) = news.take("alice")
    assert summary.kind is NoticeKind.SUMMARY and not summary.while_away
    assert summary.counts == {NoticeKind.COMPLETED: MOST_SINGLE_NOTICES + 1, NoticeKind.UNKNOWN: 1}
    assert summary.needs_attention


def test_news_for_someone_away_waits_for_their_sign_in_as_one_summary(desk, news):
    first, second = desk.compose("alice"), desk.compose("alice")
    news.payouts_moved([moved(first, S.PROCESSING, S.COMPLETED)], "bob")  # alice is not signed in
    news.payouts_moved([moved(second, S.PROCESSING, S.FAILED)], None)  # nobody is
    (summary,) = news.take("alice")
    assert summary.while_away and summary.counts == {NoticeKind.COMPLETED: 1, NoticeKind.FAILED: 1}


def test_a_single_ending_while_away_is_told_as_itself(desk, news):
    payout = desk.compose("alice")
    news.signed_out("alice")
    news.payouts_moved([moved(payout, S.PROCESSING, S.COMPLETED)], None)
    (notice,) = news.take("alice")
    assert (notice.kind, notice.payout.id) == (NoticeKind.COMPLETED, payout.id)


def test_an_approver_hears_of_payouts_that_start_waiting_after_the_first_look(desk, news):
    old, new = desk.compose("alice"), desk.compose("alice")
    news.waiting_now("bob", frozenset({old.id}), {})  # at sign-in: what waits is the toolbar's count, no notice
    assert news.take("bob") == () and news.known_waiting("bob") == {old.id}
    news.waiting_now("bob", frozenset({old.id, new.id}), {new.id: new})
    assert [(n.kind, n.payout.id) for n in news.take("bob")] == [(NoticeKind.WAITING, new.id)]
    news.waiting_now("bob", frozenset({new.id}), {})  # one decided: nothing to tell
    assert news.take("bob") == ()


def test_newly_waiting_payouts_not_read_are_counted_in_a_summary(desk, news):
    news.waiting_now("bob", frozenset(), {})
    news.waiting_now("bob", frozenset({1, 2}), {})  # their records were not read (a race, or many at once)
    (summary,) = news.take("bob")
    assert summary.kind is NoticeKind.SUMMARY and summary.counts == {NoticeKind.WAITING: 2}


def test_signing_out_forgets_what_was_seen_waiting(desk, news):
    news.waiting_now("bob", frozenset({1}), {})
    news.signed_out("bob")
    assert news.known_waiting("bob") is None


def test_an_initiator_not_signed_in_gets_their_news_later(desk, news):
    other = desk.compose("carol")
    news.payouts_moved([moved(other, S.PROCESSING, S.FAILED)], "alice")
    (notice,) = news.take("carol")
    assert (notice.kind, notice.payout.id) == (NoticeKind.FAILED, other.id)
