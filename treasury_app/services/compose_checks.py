"""Checking a payout while it is typed: every field on its own, with the domain's own messages, the
provider's limits and what the provider accepts (`ProviderCapabilities`: fee mode, priority, memo, assets, and
the defaults of the choices left open), so that the compose form can say what is wrong beside each field before
anything is sent.

The same checks run again, whole, when the payout is composed (`PayoutWorkflow.compose`); these only let a
person see them sooner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from treasury_app.domain.addresses import validate_address
from treasury_app.domain.assets import Asset, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount, parse_amount
from treasury_app.domain.payout_request import FeeMode, Priority, compose_payout
from treasury_app.domain.provider_capabilities import ProviderCapabilities
from treasury_app.providers.interface import PayoutOption, PayoutProvider

__all__ = ["ComposeFields", "FieldCheck", "PayoutOption", "ProviderCapabilities", "check_fields", "offered_options"]


@dataclass(frozen=True)
class ComposeFields:
    """What the form holds, as typed."""

    provider: str
    currency: str
    network: str
    address: str = ""
    amount: str = ""
    fee_mode: FeeMode | None = None  # None: the provider's default (`ProviderCapabilities.default_fee_mode`)
    priority: str | None = None
    memo: str | None = None
    reference: str | None = None
    note: str | None = None

    def as_compose_arguments(self) -> dict[str, object]:
        return {"provider": self.provider, "currency": self.currency, "network": self.network,
                "address": self.address, "amount": self.amount, "fee_mode": self.fee_mode,
                "priority": self.priority or None, "memo": self.memo or None, "reference": self.reference or None,
                "note": self.note or None}


@dataclass(frozen=True)
class FieldCheck:
    problems: Mapping[str, str] = field(default_factory=dict)  # field → what is wrong with it
    amount: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_fields(fields: ComposeFields, option: PayoutOption | None,
                 capabilities: ProviderCapabilities | None = None) -> FieldCheck:
    """Every problem of the form at once, keyed by field name (provider, currency, asset, network, address,
    amount, fee_mode, priority, memo, reference, note); an empty field is a problem too (the form decides when
    to show it).

    `capabilities` (the provider's: `PayoutProvider.capabilities`) refuse the choices it does not take, each
    beside its field, and fill those left open (a fee mode of None is the provider's default)."""
    problems: dict[str, str] = {}
    try:
        asset: Asset | None = find_asset(fields.currency, fields.network)
    except InvalidFieldError as error:
        asset = None
        problems["asset"] = error.message
    if option is not None and not option.is_available:
        problems["asset"] = f"{option.asset} is not available at this provider right now"
    amount = None
    if asset is not None:
        try:
            validate_address(asset.network, fields.address)
        except InvalidFieldError as error:
            problems["address"] = error.message
        try:
            amount = parse_amount(fields.amount, asset.decimals, unit=str(asset))
        except InvalidFieldError as error:
            problems["amount"] = error.message
        if amount is not None and option is not None:
            problems.update(_limit_problems(amount, option))
        if capabilities is not None:
            problems.update(_choice_problems(fields, asset, capabilities))
    if not problems:
        try:  # the rest (priority on the network, memo's length, reference, note)
            compose_payout(**fields.as_compose_arguments(), capabilities=capabilities)
        except InvalidFieldError as error:
            problems[error.field] = error.message
    return FieldCheck(problems, amount)


async def offered_options(provider: PayoutProvider) -> Sequence[PayoutOption]:
    """What the provider can pay out now (assets, limits, fees): the compose form's choice of assets."""
    return await provider.payout_options()


def _limit_problems(amount: Decimal, option: PayoutOption) -> dict[str, str]:
    unit = option.asset.currency
    if option.min_amount is not None and amount < option.min_amount:
        return {"amount": f"is under the provider's minimum of {format_amount(option.min_amount)} {unit}"}
    if option.max_amount is not None and amount > option.max_amount:
        return {"amount": f"is over the provider's maximum of {format_amount(option.max_amount)} {unit}"}
    return {}


def _choice_problems(fields: ComposeFields, asset: Asset, capabilities: ProviderCapabilities) -> dict[str, str]:
    try:
        priority = Priority(fields.priority.strip().lower()) if fields.priority else None
    except ValueError:
        return {}  # not a priority at all: compose_payout names it
    found = capabilities.choice_problems(asset, fields.fee_mode, priority, fields.memo or None)
    return {problem.field: problem.message for problem in found}
