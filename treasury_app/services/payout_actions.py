"""What this operator may do with this payout now — approve, reject, execute, estimate again — and, for
each thing they may not, why, in words. The window greys a button and shows the reason; the rule itself
is the services' (the same checks `approve`, `execute` and `estimate` make when they are called).
"""

from __future__ import annotations

from treasury_app.domain.approval_binding import same_operator
from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.payout_actions import ActionState, PayoutAction
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.roles import ROLE_FOR, Permission, may
from treasury_app.ledger import Ledger, PayoutRecord

from .approvals import ApprovalRequiredError, Approvals, NotExecutableError
from .operator_accounts import SignedIn
from .payout_workflow import ESTIMABLE

# allowed, why not, and whether that "why" says more than the status does
Verdict = tuple[bool, str, bool]


def payout_actions(ledger: Ledger, approvals: Approvals, payout: PayoutRecord | int,
                   acting: SignedIn | None) -> tuple[ActionState, ...]:
    """The actions on `payout` (a record, or its id) for `acting` (None: nobody signed in), in the order a window
    shows them; decided on the payout as the ledger holds it now."""
    with ledger.snapshot():
        current = ledger.payouts.get(payout if isinstance(payout, int) else payout.id)
        record = ledger.operators.find(acting.name) if acting is not None else None
        roles = record.roles if record is not None and record.active else frozenset()
        decide = _decision_state(approvals, current, acting, roles)
        return (
            ActionState(PayoutAction.REQUEST_APPROVAL, *_request_state(approvals, current, roles)),
            ActionState(PayoutAction.APPROVE, *decide),
            ActionState(PayoutAction.REJECT, *decide),
            ActionState(PayoutAction.EXECUTE, *_execute_state(approvals, current, roles)),
            ActionState(PayoutAction.ESTIMATE, *_estimate_state(current, roles)),
            ActionState(PayoutAction.ADD_TO_ADDRESS_BOOK, *_book_state(ledger, current, acting)),
        )


def _missing_role(roles: frozenset[str], permission: Permission, doing: str) -> str | None:
    if may(roles, permission):
        return None
    return f"To {doing} you need the {ROLE_FOR[permission]} role."


def _decision_state(approvals: Approvals, payout: PayoutRecord, acting: SignedIn | None,
                    roles: frozenset[str]) -> Verdict:
    if (missing := _missing_role(roles, Permission.APPROVE, "approve or reject payouts")) is not None:
        return False, missing, True
    if payout.status is not PayoutStatus.AWAITING_APPROVAL:
        return False, f"Only a payout awaiting approval can be approved or rejected; this one is {_said(payout)}.", \
            False
    if acting is not None and same_operator(acting.name, payout.created_by):
        return False, (f"You initiated this payout, so you cannot approve or reject it: another approver must "
                       f"(it was sent for approval by {payout.created_by})."), True
    decision = approvals.policy_decision(payout)
    if decision.is_refused:
        return False, f"The policy refuses this payout: {decision.explain()}.", True
    return True, "", True


def _request_state(approvals: Approvals, payout: PayoutRecord, roles: frozenset[str]) -> Verdict:
    if payout.status is not PayoutStatus.ESTIMATED:
        return False, "Only an estimated payout can be sent for approval.", False
    if (missing := _missing_role(roles, Permission.COMPOSE, "send payouts for approval")) is not None:
        return False, missing, True
    decision = approvals.policy_decision(payout)
    if decision.is_refused:
        return False, f"The policy refuses this payout: {decision.explain()}.", True
    if not decision.needs_approval:
        return False, "It needs no approval: it can be sent as it is.", False
    return True, "", True


def _execute_state(approvals: Approvals, payout: PayoutRecord, roles: frozenset[str]) -> Verdict:
    if (missing := _missing_role(roles, Permission.EXECUTE, "send payouts")) is not None:
        return False, missing, True
    if payout.status.may_have_reached_provider:
        return False, f"It was already sent ({_said(payout)}); the poller follows it to its end.", False
    if payout.status in (PayoutStatus.DRAFT, PayoutStatus.EXPIRED):
        return False, f"It is {_said(payout)}: estimate it first, to see the fee.", True
    try:
        approvals.ensure_executable(payout.id)
    except ApprovalRequiredError as error:
        problems = "; ".join(p for v in error.verdicts for p in v.problems)
        why = error.decision.explain() if error.decision.reasons else "it was sent for approval"
        waiting = "It waits for an approver's decision" if payout.status is PayoutStatus.AWAITING_APPROVAL \
            else "It needs a valid approval"
        return False, f"{waiting} ({why}){': ' + problems if problems else ''}.", True
    except NotExecutableError:
        return False, f"A payout that is {_said(payout)} cannot be sent.", False
    except TreasuryError as error:  # refused by policy, or records that no longer match the audit trail
        return False, _sentence(str(error)), True
    return True, "", True


def _estimate_state(payout: PayoutRecord, roles: frozenset[str]) -> Verdict:
    if (missing := _missing_role(roles, Permission.COMPOSE, "ask for a new estimate")) is not None:
        return False, missing, True
    if payout.status not in ESTIMABLE:
        return False, (f"Only a draft, estimated or expired payout can be estimated again; this one is "
                       f"{_said(payout)}."), False
    return True, "", True


def _book_state(ledger: Ledger, payout: PayoutRecord, acting: SignedIn | None) -> Verdict:
    from .address_book import AddressBook

    reason = AddressBook(ledger).why_not_add_from(payout, acting)
    # Before it completed, the status alone says why: nothing more to explain.
    return reason is None, reason or "", payout.status is PayoutStatus.COMPLETED


def _said(payout: PayoutRecord) -> str:
    return payout.status.value.replace("_", " ")


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:]) if text else text
