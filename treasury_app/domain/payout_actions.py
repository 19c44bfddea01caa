"""The things a person can do with one payout, and the answer to "may I?" for each: the vocabulary the window
and the command line share. Which answer holds for whom is decided in `services.payout_actions`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PayoutAction(StrEnum):
    REQUEST_APPROVAL = "request_approval"
    APPROVE = "approve"
    REJECT = "reject"
    EXECUTE = "execute"
    ESTIMATE = "estimate"
    ADD_TO_ADDRESS_BOOK = "add_to_address_book"  # its destination, once it was paid


@dataclass(frozen=True)
class ActionState:
    action: PayoutAction
    allowed: bool
    reason: str  # why not (empty when allowed)
    # False when the payout's status alone rules it out (nothing to explain beyond the status itself).
    relevant: bool = True
