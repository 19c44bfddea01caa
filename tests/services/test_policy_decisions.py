"""The approval policy: the domain's decision on given facts, and the facts the service gathers from the ledger
(exact daily sums, what counts, the UTC day, destinations paid before or in the address book)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, TRON_ADDRESS

from treasury_app.domain.approval_policy import (
    ApprovalPolicy,
    Outcome,
    OverLimit,
    PayoutFacts,
    ReasonCode,
    decide,
    policy_day,
)
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import compose_payout
from treasury_app.ledger import OverLimitAction
from treasury_app.security.errors import PermissionDeniedError
from treasury_app.services.approval_policies import ApprovalPolicies

D = Decimal


def facts(amount: str, operator_today: str = "0", desk_today: str = "0", *, paid_before: bool = True,
          in_book: bool = False) -> PayoutFacts:
    return PayoutFacts(currency="USDT", amount=D(amount), initiator="alice", address=TRON_ADDRESS,
                       operator_volume_today=D(operator_today), desk_volume_today=D(desk_today),
                       destination_paid_before=paid_before, destination_in_address_book=in_book)


POLICY = ApprovalPolicy("USDT", approval_threshold=D("1000"), daily_limit_operator=D("5000"),
                        daily_limit_desk=D("20000"))


# --- the domain's decision -------------------------------------------------------------------------------

def test_a_currency_without_a_policy_needs_no_approval():
    assert decide(None, facts("1000000")).outcome is Outcome.FREE


@pytest.mark.parametrize(("amount", "outcome"), [
    ("999.999999", Outcome.FREE),
    ("1000", Outcome.NEEDS_APPROVAL),
    ("1000.000000", Outcome.NEEDS_APPROVAL),
    ("1000.000001", Outcome.NEEDS_APPROVAL),
])
def test_the_threshold_applies_at_and_above_it(amount, outcome):
    decision = decide(POLICY, facts(amount))
    assert decision.outcome is outcome
    assert (ReasonCode.THRESHOLD in decision.codes) is (outcome is Outcome.NEEDS_APPROVAL)


@pytest.mark.parametrize(("today", "amount", "crossed"), [
    ("4000", "999", False),
    ("4001", "999", False),  # reaching the limit exactly is allowed
    ("4001.000001", "999", True),
    ("0", "5000.000001", True),
])
def test_an_operators_daily_limit_is_crossed_only_by_going_past_it(today, amount, crossed):
    decision = decide(POLICY, facts(amount, operator_today=today, desk_today=today))
    assert (ReasonCode.OPERATOR_DAILY_LIMIT in decision.codes) is crossed


def test_the_desks_daily_limit_counts_everyone():
    decision = decide(POLICY, facts("10", operator_today="0", desk_today="19990.000001"))
    assert decision.codes == {ReasonCode.DESK_DAILY_LIMIT}
    assert "the desk's payouts today would total 20000.000001 USDT" in decision.explain()


def test_crossing_a_limit_is_refused_when_the_policy_says_refuse():
    refusing = ApprovalPolicy("USDT", daily_limit_desk=D("20000"), over_limit=OverLimit.REFUSE)
    assert decide(refusing, facts("10", desk_today="19990")).outcome is Outcome.FREE
    decision = decide(refusing, facts("10.01", desk_today="19990"))
    assert decision.is_refused and decision.codes == {ReasonCode.DESK_DAILY_LIMIT}


def test_a_new_destination_needs_approval_unless_it_is_in_the_address_book():
    policy = ApprovalPolicy("USDT", new_destination_needs_approval=True)
    assert decide(policy, facts("1", paid_before=False)).codes == {ReasonCode.NEW_DESTINATION}
    assert decide(policy, facts("1", paid_before=False, in_book=True)).is_free
    assert decide(policy, facts("1", paid_before=True)).is_free
    assert decide(ApprovalPolicy("USDT"), facts("1", paid_before=False)).is_free  # rule off


def test_every_reason_is_given_not_just_the_first():
    policy = ApprovalPolicy("USDT", approval_threshold=D("1000"), daily_limit_operator=D("5000"),
                            daily_limit_desk=D("20000"), new_destination_needs_approval=True)
    decision = decide(policy, facts("6000", desk_today="15000", paid_before=False))
    assert [r.code for r in decision.reasons] == [ReasonCode.THRESHOLD, ReasonCode.OPERATOR_DAILY_LIMIT,
                                                  ReasonCode.DESK_DAILY_LIMIT, ReasonCode.NEW_DESTINATION]


def test_a_policy_day_is_a_utc_calendar_day():
    late_in_new_york = datetime.fromisoformat("2026-03-01T21:30:00-05:00")
    assert policy_day(late_in_new_york) == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))


# --- the facts the service gathers -----------------------------------------------------------------------

@pytest.fixture
def policies(desk):
    return ApprovalPolicies(desk.ledger, clock=desk.clock)


def set_usdt(desk, policies, **values):
    return policies.set("USDT", acting=desk.sign_in("root"), **values)


def test_daily_sums_are_exact_decimals(desk, policies):
    set_usdt(desk, policies, desk_daily_limit="0.3")
    desk.compose("alice", amount="0.1")
    desk.compose("carol", amount="0.2")
    exactly_at = desk.compose("alice", amount="0.000001")
    volumes = desk.approvals.daily_volumes("USDT", "alice", day_of=exactly_at.created_at,
                                           before=exactly_at.created_at)
    assert (volumes.operator, volumes.desk) == (D("0.1"), D("0.3"))  # 0.1 + 0.2 is 0.3, not 0.30000000000000004
    assert desk.approvals.policy_decision(exactly_at).codes == {ReasonCode.DESK_DAILY_LIMIT}


def test_what_counts_toward_today(desk):
    desk.compose("alice", amount="100")
    desk.finish(desk.compose("alice", amount="200"), S.CANCELLED)
    desk.finish(desk.compose("alice", amount="12800"), S.SUBMITTING, S.FAILED)
    desk.finish(desk.compose("alice", amount="25600"), S.EXPIRED)
    rejected = desk.awaiting("alice", amount="400")
    desk.approvals.reject(rejected.id, approver="bob", password="bob password long", reason="no")
    desk.compose("alice", amount="800", currency="USDC", network="ETH",
                 address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    desk.compose("carol", amount="1600")
    desk.finish(desk.compose("alice", amount="3200"), S.SUBMITTING, S.PROCESSING, S.COMPLETED)
    probe = desk.compose("alice", amount="1")
    desk.compose("alice", amount="6400")  # created after the probe: never counts for it
    volumes = desk.approvals.daily_volumes("USDT", "alice", day_of=probe.created_at, before=probe.created_at)
    assert volumes.operator == D("3300")  # 100 + 3200; cancelled, failed, expired, rejected, USDC, carol's: not
    assert volumes.desk == D("4900")  # + carol's 1600


def test_yesterdays_payouts_do_not_count_today(desk, policies):
    set_usdt(desk, policies, operator_daily_limit="1000")
    desk.compose("alice", amount="999")
    desk.clock.now = datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC)
    today = desk.compose("alice", amount="999")
    assert desk.approvals.policy_decision(today).is_free


def test_a_destination_paid_before_or_in_the_address_book_is_known(desk, policies):
    set_usdt(desk, policies, new_destination_needs_approval=True)
    first = desk.compose("alice", amount="5", address=OTHER_TRON_ADDRESS)
    assert desk.approvals.policy_decision(first).codes == {ReasonCode.NEW_DESTINATION}
    desk.finish(first, S.SUBMITTING, S.PROCESSING, S.COMPLETED)
    assert desk.approvals.policy_decision(desk.compose("alice", amount="5", address=OTHER_TRON_ADDRESS)).is_free
    assert desk.approvals.policy_decision(desk.compose("alice", amount="5")).codes == {ReasonCode.NEW_DESTINATION}
    desk.ledger.address_book.add(label="Supplier", network="TRON", address=TRON_ADDRESS, actor="root")
    assert desk.approvals.policy_decision(desk.compose("alice", amount="5")).is_free


def test_an_evm_destination_typed_in_lower_case_is_known_by_its_checksummed_book_entry(desk, policies):
    set_usdt(desk, policies, new_destination_needs_approval=True)
    checksummed = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    desk.ledger.address_book.add(label="Exchange", network="ETH", address=checksummed, actor="root")
    typed = desk.compose("alice", amount="5", network="ETH", address=checksummed.lower())
    assert typed.address == checksummed.lower()  # the payout keeps what was typed
    assert desk.approvals.policy_decision(typed).is_free


def test_a_decision_before_composing_counts_everything_so_far(desk, policies):
    set_usdt(desk, policies, operator_daily_limit="1000")
    desk.compose("alice", amount="600")
    request = compose_payout(provider="cryptomus", currency="USDT", network="TRON", address=TRON_ADDRESS,
                             amount="401")
    assert desk.approvals.decision_for_request(request, initiator="alice").codes == {ReasonCode.OPERATOR_DAILY_LIMIT}
    assert desk.approvals.decision_for_request(request, initiator="carol").is_free


# --- setting the policy ----------------------------------------------------------------------------------

def test_only_an_admin_sets_the_policy_and_each_change_is_audited(desk, policies):
    with pytest.raises(PermissionDeniedError, match="admin role"):
        policies.set("USDT", acting=desk.sign_in("bob"), approval_threshold="1")
    assert policies.get("USDT") is None
    stored = set_usdt(desk, policies, approval_threshold="1000", desk_daily_limit="50000")
    assert (stored.approval_threshold, stored.daily_limit_desk, stored.updated_by) == (D("1000"), D("50000"), "root")
    row = desk.ledger.audit.last()
    assert (row.operator, row.action, row.subject) == ("root", "policy.set", "policy:USDT")
    assert row.detail["before"] is None and row.detail["after"]["approval_threshold"] == "1000"


def test_values_left_out_are_kept_and_none_removes_a_limit(desk, policies):
    set_usdt(desk, policies, approval_threshold="1000", desk_daily_limit="50000", over_limit="refuse",
             new_destination_needs_approval=True)
    changed = set_usdt(desk, policies, desk_daily_limit="none", operator_daily_limit="7000")
    assert (changed.approval_threshold, changed.daily_limit_desk, changed.daily_limit_operator) == (
        D("1000"), None, D("7000"))
    assert changed.over_limit is OverLimitAction.REFUSE and changed.new_destination_needs_approval


@pytest.mark.parametrize(("values", "field"), [
    ({"approval_threshold": "1e3"}, "approval_threshold"),
    ({"approval_threshold": "-5"}, "approval_threshold"),
    ({"desk_daily_limit": "10." + "1" * 19}, "daily_limit"),  # USDT has at most 18 places (on BSC)
    ({"operator_daily_limit": "0"}, "operator_daily_limit"),
    ({"over_limit": "maybe"}, "over_limit"),
])
def test_a_bad_policy_value_is_refused_naming_the_field(desk, policies, values, field):
    with pytest.raises(InvalidFieldError) as refused:
        set_usdt(desk, policies, **values)
    assert refused.value.field == field


def test_an_unknown_currency_has_no_policy(desk, policies):
    with pytest.raises(InvalidFieldError, match="not a currency"):
        policies.set("DOGGO", acting=desk.sign_in("root"), approval_threshold="1")
