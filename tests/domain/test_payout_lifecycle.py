"""The lifecycle allows exactly the transitions of the design document and refuses every other one."""

import itertools

import pytest

from treasury_app.domain.errors import IllegalTransitionError
from treasury_app.domain.payout_lifecycle import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    PayoutStatus as S,
    can_transition,
    check_transition,
    parse_status,
    unsent_return_status,
)

# The design's main path, written out independently of the table under test.
MAIN_PATH = [S.DRAFT, S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED, S.SUBMITTING, S.PROCESSING, S.COMPLETED]


def test_the_main_path_of_the_design_is_allowed_step_by_step():
    for current, target in itertools.pairwise(MAIN_PATH):
        check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.ESTIMATED, S.SUBMITTING),  # no approval needed
        (S.AWAITING_APPROVAL, S.REJECTED),
        (S.AWAITING_APPROVAL, S.EXPIRED),
        (S.APPROVED, S.EXPIRED),
        (S.SUBMITTING, S.UNKNOWN),  # timeout after sending
        (S.UNKNOWN, S.PROCESSING),  # reconciled: the provider has it
        (S.UNKNOWN, S.SUBMITTING),  # reconciled: the provider never saw it, resend with the same key
        (S.SUBMITTING, S.FAILED),  # refused outright
        (S.PROCESSING, S.FAILED),
        (S.EXPIRED, S.ESTIMATED),  # refresh an old estimate
    ],
)
def test_side_exits_of_the_design_are_allowed(current, target):
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.SUBMITTING),  # never sent without an estimate
        (S.AWAITING_APPROVAL, S.SUBMITTING),  # never sent without approval
        (S.REJECTED, S.APPROVED),
        (S.COMPLETED, S.FAILED),
        (S.FAILED, S.SUBMITTING),  # a failed payout is not resent
        (S.PROCESSING, S.SUBMITTING),  # a payout the provider has is never sent again
        (S.SUBMITTING, S.APPROVED),
        (S.UNKNOWN, S.DRAFT),
    ],
)
def test_dangerous_transitions_are_refused_with_a_typed_error(current, target):
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, target, subject="payout 7")
    assert caught.value.current == current.value
    assert caught.value.target == target.value
    assert str(caught.value) == f"payout 7 cannot go from '{current.value}' to '{target.value}'"


def test_final_statuses_have_no_way_out():
    for final in FINAL_STATUSES:
        for target in S:
            assert not can_transition(final, target)


def test_every_status_has_an_entry_in_the_table():
    assert set(ALLOWED_TRANSITIONS) == set(S)


def test_nothing_that_may_have_reached_the_provider_can_go_back_to_a_sendable_state_except_unknown():
    sendable = {S.ESTIMATED, S.APPROVED, S.AWAITING_APPROVAL, S.DRAFT, S.EXPIRED}
    for status in S:
        if status.may_have_reached_provider:
            assert not (ALLOWED_TRANSITIONS[status] & sendable), status


def test_every_status_is_reachable_from_draft():
    seen, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        for target in ALLOWED_TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(S)


def test_parse_status_accepts_case_and_names_the_choices_when_wrong():
    assert parse_status(" Completed ") is S.COMPLETED
    with pytest.raises(ValueError, match="use one of draft, estimated"):
        parse_status("done")


@pytest.mark.parametrize("claimed_from", [S.ESTIMATED, S.APPROVED])
def test_a_claim_certainly_not_sent_goes_back_to_the_status_it_was_claimed_from(claimed_from):
    assert unsent_return_status(S.SUBMITTING, claimed_from) is claimed_from


@pytest.mark.parametrize(("current", "claimed_from"), [
    (S.SUBMITTING, S.UNKNOWN),  # a resend: an earlier request may have been acted on
    (S.SUBMITTING, None),  # no claim on record
    (S.PROCESSING, S.APPROVED),  # the provider has it
    (S.UNKNOWN, S.APPROVED),
    (S.APPROVED, S.APPROVED),
])
def test_no_other_way_back_is_allowed_even_as_not_sent(current, claimed_from):
    with pytest.raises(IllegalTransitionError) as caught:
        unsent_return_status(current, claimed_from, subject="payout 7")
    assert str(caught.value).startswith("payout 7 (not sent, claimed from ")


def test_the_way_back_is_not_an_ordinary_transition():
    for target in (S.ESTIMATED, S.APPROVED):
        assert not can_transition(S.SUBMITTING, target)
