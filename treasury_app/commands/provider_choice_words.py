"""How the command line words the providers' capabilities: what `payout new --help` says each provider allows
and defaults to, and the one line that refuses a choice by its option. Both are read from the capabilities
themselves, so the help cannot promise what a provider refuses.
"""

from __future__ import annotations

from collections.abc import Iterable

from treasury_app.domain.assets import NETWORKS
from treasury_app.domain.payout_request import FeeMode
from treasury_app.domain.provider_capabilities import ProviderCapabilities, UnsupportedChoiceError

FEE_OPTIONS = {FeeMode.FROM_BALANCE: "--fee-from-balance", FeeMode.FROM_AMOUNT: "--fee-from-amount"}
# The option of `payout new` that carries each field a provider's capabilities decide (fee modes: FEE_OPTIONS).
FIELD_OPTIONS = {"currency": "--currency", "network": "--network", "priority": "--priority", "memo": "--memo"}
_LABEL_WIDTH = 10


def refusal_line(refused: UnsupportedChoiceError) -> str:
    """`--fee-from-balance: Pay3 always takes its fee from the amount; Pay3 allows --fee-from-amount`."""
    if refused.field == "fee_mode":
        option = FEE_OPTIONS[FeeMode(refused.requested)]
        allowed = [FEE_OPTIONS[FeeMode(value)] for value in refused.allowed]
    else:
        option, allowed = FIELD_OPTIONS[refused.field], list(refused.allowed)
    remedy = f"{refused.provider_title} allows {_either(allowed)}" if allowed else f"leave {option} out"
    return f"{option}: {refused.reason}; {remedy}"


def choices_help(providers: Iterable[ProviderCapabilities]) -> str:
    """The epilog of `payout new --help`: per provider, what each choice allows and what leaving it out means."""
    lines = ["\b", "What each provider allows (an option left out takes the provider's default):"]
    for caps in providers:
        rows = _rows(caps)
        lines.append(f"  {caps.provider:<{_LABEL_WIDTH}} {rows[0]}")
        lines.extend(f"  {'':<{_LABEL_WIDTH}} {row}" for row in rows[1:])
    return "\n".join(lines)


def _rows(caps: ProviderCapabilities) -> list[str]:
    def row(label: str, text: str) -> str:
        return f"{label:<9} {text}"

    fees = [FEE_OPTIONS[mode] for mode in caps.fee_modes]
    fee_text = f"{fees[0]} only (the default)" if len(fees) == 1 else f"{fees[0]} (default) or {_either(fees[1:])}"
    rows = [row("fee", fee_text)]
    if caps.assets is None:
        rows.append(row("networks", ", ".join(_catalogue_order(caps.networks))))
    else:
        by_currency: dict[str, list[str]] = {}
        for asset in caps.paid_assets:
            by_currency.setdefault(asset.currency, []).append(asset.network.code)
        rows.append(row("assets", ", ".join(f"{cur} on {_either(codes)}" for cur, codes in by_currency.items())))
        rows.append(row("", f"(with a profile, its own: treasury-app provider assets {caps.provider})"))
    if caps.priorities:
        where = _and(_catalogue_order(caps.priority_networks))
        rows.append(row("priority", f"{_either([p.value for p in caps.priorities])} on {where};"))
        left_out = caps.default_priority.value if caps.default_priority else f"none is sent and {caps.title} chooses"
        rows.append(row("", f"left out: {left_out}"))
    else:
        rows.append(row("priority", "none"))
    memo = _catalogue_order(caps.memo_networks)
    rows.append(row("memo", f"on {_and(memo)}" if memo else "none"))
    rows.append(row("amount", f"minimum and maximum per asset: treasury-app provider assets {caps.provider}"
                    if caps.publishes_limits else "no published minimum or maximum: its estimate says"))
    return rows


def _catalogue_order(codes: frozenset[str]) -> list[str]:
    return [code for code in NETWORKS if code in codes]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
