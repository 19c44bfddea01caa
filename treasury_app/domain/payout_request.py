"""What a person composes: a validated payout request, and the idempotency key that makes it sendable once."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from .addresses import validate_address
from .assets import Asset, find_asset
from .errors import InvalidFieldError
from .money import parse_amount

if TYPE_CHECKING:  # provider_capabilities imports this module's enums
    from .provider_capabilities import ProviderCapabilities

# Cryptomus limits `order_id` to 32 characters on /v1/payout/info (100 on create) and allows letters,
# digits, `_` and `-`; Pay3's `requestId` accepts the same. One key serves both.
IDEMPOTENCY_KEY_MAX_LENGTH = 32
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")

PROVIDERS = ("cryptomus", "pay3")
REFERENCE_MAX_LENGTH = 100
NOTE_MAX_LENGTH = 1000

E = TypeVar("E", bound=StrEnum)


class FeeMode(StrEnum):
    # Recipient gets the amount, the fee is debited from our balance on top (Cryptomus is_subtract=true).
    FROM_BALANCE = "from_balance"
    # The fee comes out of the amount; the recipient gets less (Cryptomus is_subtract=false).
    FROM_AMOUNT = "from_amount"


class Priority(StrEnum):
    RECOMMENDED = "recommended"
    ECONOMY = "economy"
    HIGH = "high"
    HIGHEST = "highest"


def new_idempotency_key() -> str:
    """A fresh key: 32 lowercase hex characters (128 random bits), a valid order_id and requestId."""
    return secrets.token_hex(16)


def validate_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidFieldError(
            "idempotency_key",
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters of letters, digits, '_' or '-'",
        )
    return key


@dataclass(frozen=True)
class PayoutRequest:
    """A payout as composed and validated, before any provider has seen it."""

    provider: str
    asset: Asset
    address: str
    amount: Decimal
    fee_mode: FeeMode = FeeMode.FROM_BALANCE
    priority: Priority | None = None
    memo: str | None = None
    reference: str | None = None
    note: str | None = None


def compose_payout(
    *,
    provider: str,
    currency: str,
    network: str | None,
    address: str,
    amount: str,
    fee_mode: FeeMode | str | None = None,
    priority: Priority | str | None = None,
    memo: str | None = None,
    reference: str | None = None,
    note: str | None = None,
    capabilities: ProviderCapabilities | None = None,
) -> PayoutRequest:
    """Validate every field of a payout a person typed; the first bad field raises `InvalidFieldError`.

    With the provider's `capabilities`, a choice left out (network, fee mode, priority) takes the provider's
    default and a choice the provider refuses raises `UnsupportedChoiceError`. Without them (a stored payout
    being re-read, whose choices are all given; a test of the domain alone) the network may be left out only
    for a currency on one network, the fee defaults to the balance, and priority and memo follow the network.
    """
    provider_name = (provider or "").strip().lower()
    if provider_name not in PROVIDERS:
        raise InvalidFieldError("provider", f"'{provider}' is not a provider; choose one of {', '.join(PROVIDERS)}")
    if capabilities is not None and capabilities.provider != provider_name:
        raise ValueError(f"{capabilities.provider}'s capabilities were given for a {provider_name} payout")
    asset = find_asset(currency, network) if capabilities is None else capabilities.asset_for(currency, network)
    clean_address = validate_address(asset.network, address)
    value = parse_amount(amount, asset.decimals, unit=str(asset))
    mode = None if fee_mode in (None, "") else _parse_choice(FeeMode, fee_mode, "fee_mode")
    level = None if priority in (None, "") else _parse_choice(Priority, priority, "priority")
    if capabilities is not None:
        mode = capabilities.fee_mode_for(mode)
        level = capabilities.priority_for(level, asset)
        capabilities.check_memo(memo, asset)
    elif level is not None and not asset.network.supports_priority:
        raise InvalidFieldError("priority", f"{asset.network.name} payouts take no priority")
    return PayoutRequest(
        provider=provider_name,
        asset=asset,
        address=clean_address,
        amount=value,
        fee_mode=mode or FeeMode.FROM_BALANCE,
        priority=level,
        memo=_validate_memo(asset, memo),
        reference=_validate_text(reference, "reference", REFERENCE_MAX_LENGTH, single_line=True),
        note=_validate_text(note, "note", NOTE_MAX_LENGTH, single_line=False),
    )


def _parse_choice(kind: type[E], value: E | str, field: str) -> E:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in kind)
        raise InvalidFieldError(field, f"'{value}' is not one of {names}") from None


def _validate_memo(asset: Asset, memo: str | None) -> str | None:
    if memo is None or memo == "":
        return None
    network = asset.network
    if not network.supports_memo:
        raise InvalidFieldError("memo", f"{network.name} payouts carry no memo")
    text = _validate_text(memo, "memo", network.memo_max_length, single_line=True)
    if text is None:
        raise InvalidFieldError("memo", "is blank; leave it empty or write the memo")
    return text


def _validate_text(value: str | None, field: str, max_length: int, *, single_line: bool) -> str | None:
    """Free text: trimmed, bounded, and free of control characters that would corrupt a CSV or a log."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFieldError(field, "must be text")
    text = value.strip()
    if not text:
        return None
    if len(text) > max_length:
        raise InvalidFieldError(field, f"is {len(text)} characters long; at most {max_length} are allowed")
    allowed = set() if single_line else {"\n"}
    for ch in text:
        if ch not in allowed and unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}:
            what = "a line break" if ch in "\r\n\u2028\u2029" else f"the control character U+{ord(ch):04X}"
            raise InvalidFieldError(field, f"contains {what}, which is not allowed here")
    return text
