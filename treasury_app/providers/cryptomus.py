"""The Cryptomus payout client: every endpoint of cryptomus.md behind the provider-independent interface.

Create is also the execution (there is no separate execute step) and is idempotent by `order_id`, so it is
the one write the transport may repeat. Fees come from the services list (there is no estimate endpoint).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_UP, Decimal
from typing import Any, TypeVar

import httpx

from treasury_app.domain.assets import NETWORKS, AddressFormat
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.domain.payout_request import FeeMode, PayoutRequest, Priority, validate_idempotency_key
from treasury_app.domain.provider_capabilities import ProviderCapabilities

from . import cryptomus_answers as answers
from .answer_reading import AnswerReader
from .cryptomus_signing import encode_body, sign_body
from .errors import AmountLimitError, NotFoundError, OrderAlreadyExistsError, ProviderError, ProviderValidationError
from .http_transport import CallKind, HttpAnswer, HttpSettings, ProviderHttp, validate_base_url
from .interface import Balance, Estimate, PayoutOption, ProviderPayoutState
from .redaction import register_secret

T = TypeVar("T")
DEFAULT_BASE_URL = "https://api.cryptomus.com"
# Cryptomus writes list times in Moscow time (documented for the payout list).
CRYPTOMUS_TIME = timezone(timedelta(hours=3))
# The payout list gives this many payouts a page (its `paginate.perPage`, which a walk follows once it has seen it).
HISTORY_PAGE_SIZE = 15
# Pages a walk of the history may read beyond those its wanted payouts fill: payouts not wanted (final ones, or
# not due) share the pages with them.
HISTORY_SPARE_PAGES = 2
# How far before `sent_since` the history is read: a desk clock hours off Cryptomus's, or a mix-up of UTC with
# its UTC+3, must not hide a payout. It costs no page while the walk stops at the last wanted payout it sees.
SENT_SINCE_MARGIN = timedelta(hours=6)
# cryptomus.md: `is_subtract` is required, true (the fee from our balance, the recipient gets the amount) or
# false (the fee out of the amount); `priority` only on BTC, ETH, POLYGON and BSC; `memo` on TON. Which assets
# are open is the services list's to say. The fee from the balance is our default: the recipient gets exactly
# what was typed, which is what an approver approved.
CRYPTOMUS_CAPABILITIES = ProviderCapabilities(
    provider=answers.PROVIDER, title="Cryptomus",
    fee_modes=(FeeMode.FROM_BALANCE, FeeMode.FROM_AMOUNT),
    networks=frozenset(code for code, network in NETWORKS.items() if not network.is_testnet),
    priorities=tuple(Priority), priority_networks=frozenset({"BTC", "ETH", "POLYGON", "BSC"}),
    default_priority=None,  # not sent: Cryptomus chooses
    memo_networks=frozenset({"TON"}), publishes_limits=True,
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class CryptomusProfile:
    """Where and as whom to call Cryptomus; the payout key is not here (it lives in the OS keyring)."""

    merchant: str
    base_url: str = DEFAULT_BASE_URL
    # With this many keys or more, states are looked up in the payout list (batched) before asking one by one.
    list_batch_threshold: int = 4
    # `list_payouts` reads at most this many pages unless told otherwise (state look-ups have their own budget).
    max_list_pages: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", validate_base_url(self.base_url))
        merchant = (self.merchant or "").strip()
        if not _UUID.fullmatch(merchant):
            raise InvalidFieldError("merchant", "must be the merchant's UUID as Cryptomus shows it "
                                                "(8-4-4-4-12 hexadecimal digits)")
        object.__setattr__(self, "merchant", merchant)

    @property
    def capabilities(self) -> ProviderCapabilities:
        return CRYPTOMUS_CAPABILITIES

    def to_settings(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "merchant": self.merchant}

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> CryptomusProfile:
        return cls(merchant=str(values.get("merchant", "")), base_url=str(values.get("base_url", DEFAULT_BASE_URL)))


class CryptomusProvider:
    """`PayoutProvider` for Cryptomus. Use as `async with CryptomusProvider(profile, key) as cryptomus: …`."""

    name = answers.PROVIDER
    balances_note: str | None = None
    # The fee preview comes from the services list: nothing is registered under the key until create.
    estimate_registers_order = False

    def __init__(self, profile: CryptomusProfile, payout_key: str, *, settings: HttpSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if not payout_key:
            raise InvalidFieldError("payout_key", "is empty")
        register_secret(payout_key)
        self.profile = profile
        self.capabilities = profile.capabilities
        self._key = payout_key
        self._now = now
        self._http = ProviderHttp(self.name, profile.base_url, settings=settings, transport=transport, sleep=sleep)

    async def __aenter__(self) -> CryptomusProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the interface -------------------------------------------------------------------------------

    async def verify_credentials(self) -> None:
        await self._call("/v1/payout/services", {}, CallKind.READ, "list payout services", lambda r, _: r)

    async def payout_options(self) -> list[PayoutOption]:
        return [option for option, _ in await self._services()]

    async def estimate(self, request: PayoutRequest, idempotency_key: str) -> Estimate:
        """Fee and net amount from the services list (cryptomus.md's formula); nothing is registered.

        The services list is needed; the balance is not: when it cannot be read, a warning says so and why.
        """
        self._check_request(request)
        asset = request.asset
        lines = await self._services()
        found = next(((o, raw) for o, raw in lines if o.asset == asset), None)
        if found is None:
            raise ProviderValidationError(self.name, {"network": (f"Cryptomus does not pay out {asset}",)})
        option, line = found
        if not option.is_available:
            raise ProviderValidationError(
                self.name, {"network": (f"Cryptomus has paused payouts of {asset}; try later or choose another",)})
        _check_limits(option, request.amount)
        fee = option.fee_fixed or Decimal(0)
        fee += request.amount * (option.fee_percent or Decimal(0)) / 100
        # Rounded up to what the chain can carry: a preview may overstate the fee, never understate it.
        fee = fee.quantize(Decimal(1).scaleb(-asset.decimals), rounding=ROUND_UP)
        if request.fee_mode is FeeMode.FROM_BALANCE:
            net, total = request.amount, request.amount + fee
        else:
            net, total = request.amount - fee, request.amount
            if net <= 0:
                raise AmountLimitError(self.name, f"the fee ({format_amount(fee)} {asset.currency}) takes the "
                                                  "whole amount", bound="minimum", limit=fee)
        warnings = ["An estimate from Cryptomus's fee rule; the network fee and any conversion may differ."]
        if request.priority is not None and asset.network.supports_priority:
            warnings.append(f"Priority '{request.priority}' changes the network fee; the preview shows the "
                            "standard fee.")
        warnings.extend(await self._balance_warnings(asset.currency, total))
        return Estimate(fee=fee, net_amount=net, total_debited=total, warnings=tuple(warnings),
                        execution_data={}, estimated_at=self._now(), registers_order=False,
                        raw={"service": dict(line)})

    async def submit(self, request: PayoutRequest, idempotency_key: str,
                     execution_data: Mapping[str, Any]) -> ProviderPayoutState:
        """Create the payout under `idempotency_key` (its `order_id`); repeated safely if the answer is lost."""
        self._check_request(request)
        key = validate_idempotency_key(idempotency_key)
        asset = request.asset
        data: dict[str, Any] = {
            "amount": format_amount(request.amount),
            "currency": asset.currency,
            "network": asset.network.code,
            "order_id": key,
            "address": request.address,
            "is_subtract": request.fee_mode is FeeMode.FROM_BALANCE,
        }
        if request.priority is not None and asset.network.supports_priority:
            data["priority"] = request.priority.value
        if request.memo:
            data["memo"] = request.memo
        state = await self._call("/v1/payout", data, CallKind.IDEMPOTENT_WRITE, f"create payout {key}",
                                 lambda result, reader: answers.payout_state(result, key, reader))
        if not _is_same_payout(state, request):
            # The key was used before for a different payout: Cryptomus returned that one instead.
            raise OrderAlreadyExistsError(self.name, key, state)
        return state

    async def fetch_states(self, idempotency_keys: Sequence[str], *,
                           sent_since: datetime | None = None) -> dict[str, ProviderPayoutState | None]:
        """States by key: batched through the payout list (back to `sent_since`, less a margin), then one `info`
        call per key the list did not show."""
        keys = list(dict.fromkeys(idempotency_keys))
        found: dict[str, ProviderPayoutState | None] = {}
        if len(keys) >= self.profile.list_batch_threshold:
            found.update(await self._states_from_history(set(keys), sent_since))
        missing = [key for key in keys if key not in found]
        results = await asyncio.gather(*(self.payout_info(k) for k in missing), return_exceptions=True)
        for key, result in zip(missing, results, strict=True):
            if isinstance(result, BaseException):
                raise result  # the first failure decides; the poller asks again later
            found[key] = result
        return {key: found[key] for key in keys}

    async def balances(self) -> list[Balance]:
        return await self._call("/v1/balance", {}, CallKind.READ, "read balances", answers.merchant_balances)

    # --- Cryptomus's own calls -----------------------------------------------------------------------

    async def payout_info(self, idempotency_key: str) -> ProviderPayoutState | None:
        """One payout by its `order_id`; None when Cryptomus has none under it."""
        key = validate_idempotency_key(idempotency_key)
        async with self._http.read_slots:
            try:
                return await self._call("/v1/payout/info", {"order_id": key}, CallKind.READ,
                                        f"payout info {key}",
                                        lambda result, reader: answers.payout_state(result, key, reader))
            except NotFoundError:
                return None

    async def list_payouts(self, date_from: datetime | None = None, date_to: datetime | None = None, *,
                           max_pages: int | None = None) -> list[ProviderPayoutState]:
        """The payout history, newest first, following `cursor` page by page (at most `max_pages`).

        An item's `idempotency_key` is its `order_id`, or "" when Cryptomus did not include one.
        """
        states: list[ProviderPayoutState] = []
        budget = max_pages or self.profile.max_list_pages
        async for page in self._history_pages(date_from, date_to):
            states.extend(page.states)
            budget -= 1
            if budget <= 0:
                break
        return states

    # --- inside --------------------------------------------------------------------------------------

    async def _call(self, path: str, data: Mapping[str, Any], kind: CallKind, what: str,
                    read: Callable[[Any, AnswerReader], T], params: Mapping[str, str] | None = None) -> T:
        body = encode_body(data)
        # Signed over exactly these bytes; a `cursor` travels in the URL, outside the signed body.
        headers = {"merchant": self.profile.merchant, "sign": sign_body(body, self._key),
                   "Content-Type": "application/json"}
        reader = AnswerReader(self.name, what)

        def interpret(answer: HttpAnswer) -> T:
            return read(answers.read_result(answer, reader), reader)

        return await self._http.exchange("POST", path, kind=kind, what=what, interpret=interpret, content=body,
                                         headers=headers, params=params)

    async def _services(self) -> list[tuple[PayoutOption, Mapping[str, Any]]]:
        return await self._call("/v1/payout/services", {}, CallKind.READ, "list payout services",
                                answers.payout_options)

    async def _balance_warnings(self, currency: str, total: Decimal) -> list[str]:
        try:
            balances = await self.balances()
        except ProviderError as error:
            # The balance only feeds this warning: the fee and net amount stand without it.
            return [f"The Cryptomus {currency} balance could not be read ({error.message}); check that it covers "
                    f"the total to debit ({format_amount(total.normalize())} {currency}) before executing."]
        wallet = next((b for b in balances if b.currency.upper() == currency.upper()), None)
        if wallet is None:
            return [f"Cryptomus shows no {currency} wallet for this merchant; the payout would be refused."]
        if wallet.amount < total:
            return [f"The Cryptomus {currency} balance ({format_amount(wallet.amount.normalize())}) is below the "
                    f"total to debit ({format_amount(total.normalize())})."]
        return []

    async def _history_pages(self, date_from: datetime | None,
                             date_to: datetime | None) -> AsyncIterator[HistoryPage]:
        """The history's pages, newest first, for as long as the caller reads on and a next page exists."""
        data = {name: _cryptomus_time(moment) for name, moment in (("date_from", date_from), ("date_to", date_to))
                if moment is not None}
        cursor: str | None = None
        page_number = 0
        while True:
            page_number += 1
            page = await self._call("/v1/payout/list", data, CallKind.READ, f"payout list page {page_number}",
                                    _read_history_page, params={"cursor": cursor} if cursor else None)
            yield page
            if not (cursor := page.next_cursor):
                return

    async def _states_from_history(self, wanted: set[str],
                                   sent_since: datetime | None) -> dict[str, ProviderPayoutState]:
        """The wanted payouts the history shows, read newest first and no further back than `sent_since` (less
        the margin). The walk ends when each was seen, when the history ends, or when another page is not worth
        it (`HistoryWalk`); the caller asks the payouts it did not see by themselves."""
        found: dict[str, ProviderPayoutState] = {}
        date_from = None if sent_since is None else sent_since - SENT_SINCE_MARGIN
        walk = HistoryWalk(len(wanted))
        async with self._http.read_slots:
            async for page in self._history_pages(date_from, None):
                seen = len(found)
                found.update((s.idempotency_key, s) for s in page.states if s.idempotency_key in wanted)
                if not walk.goes_on(found=len(found) - seen, per_page=page.per_page):
                    break
        return found

    def _check_request(self, request: PayoutRequest) -> None:
        if request.provider != self.name:
            raise ValueError(f"a {request.provider} payout was given to the Cryptomus client")
        problems = self.capabilities.choice_problems(request.asset, request.fee_mode, request.priority, request.memo)
        if problems:
            raise ProviderValidationError.of_choices(self.name, problems)


@dataclass(frozen=True)
class HistoryPage:
    """One page of the payout list: its payouts, the cursor of the next page, and how many a page holds."""

    states: list[ProviderPayoutState]
    next_cursor: str | None
    per_page: int


@dataclass
class HistoryWalk:
    """Whether a walk of the history for `wanted` payouts reads one more page, told what each page held.

    It reads the pages the wanted payouts fill and a spare few (payouts not wanted share the pages with them).
    Beyond those it goes on while the pages read since it last found one are fewer than the payouts still
    missing (asking those one by one would cost as many requests), for at most as many pages again as it wants
    payouts. So payouts that lie below newer ones (a round of the most overdue) are still found by the walk,
    and a walk for payouts the history does not hold costs at most the asks one by one twice over, and the
    pages they would fill.
    """

    wanted: int
    pages_read: int = 0
    found: int = 0
    pages_since_found: int = 0

    def goes_on(self, *, found: int, per_page: int = HISTORY_PAGE_SIZE) -> bool:
        self.pages_read += 1
        self.found += found
        self.pages_since_found = 0 if found else self.pages_since_found + 1
        missing = self.wanted - self.found
        if missing <= 0:
            return False
        filled = -(-self.wanted // max(per_page, 1)) + HISTORY_SPARE_PAGES
        if self.pages_read < filled:
            return True
        return self.pages_since_found < missing and self.pages_read < filled + self.wanted


def _read_history_page(result: Any, reader: AnswerReader) -> HistoryPage:
    page = reader.mapping(result, "the payout list")
    states = []
    for item in reader.items(page.get("items", []), "'items'"):
        data = reader.mapping(item, "a listed payout")
        key = reader.text(data, "order_id", required=False) or ""
        states.append(answers.payout_state(data, key, reader))
    paginate = reader.mapping(page.get("paginate") or {}, "'paginate'")
    cursor = reader.text(paginate, "nextCursor", required=False)
    return HistoryPage(states, cursor, _per_page(paginate.get("perPage")))


def _per_page(value: Any) -> int:
    """`perPage` as sent (a number, or its text); the documented 15 when it is missing or makes no sense."""
    try:
        per_page = int(str(value))
    except ValueError:
        return HISTORY_PAGE_SIZE
    return per_page if per_page > 0 else HISTORY_PAGE_SIZE


def _check_limits(option: PayoutOption, amount: Decimal) -> None:
    currency = option.asset.currency
    if option.min_amount is not None and amount < option.min_amount:
        raise AmountLimitError(answers.PROVIDER, f"Minimum amount {format_amount(option.min_amount.normalize())} "
                                                 f"{currency}", bound="minimum", limit=option.min_amount)
    if option.max_amount is not None and amount > option.max_amount:
        raise AmountLimitError(answers.PROVIDER, f"Maximum amount {format_amount(option.max_amount.normalize())} "
                                                 f"{currency}", bound="maximum", limit=option.max_amount)


def _is_same_payout(state: ProviderPayoutState, request: PayoutRequest) -> bool:
    raw = state.raw
    currency = str(raw.get("currency", request.asset.currency)).upper()
    address = str(raw.get("address", request.address))
    if request.asset.network.address_format is AddressFormat.EVM:
        address, wanted = address.lower(), request.address.lower()
    else:
        wanted = request.address
    amount = raw.get("amount")
    same_amount = amount is None or _decimal_or_none(amount) == request.amount
    return currency == request.asset.currency and address == wanted and same_amount


def _decimal_or_none(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _cryptomus_time(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CRYPTOMUS_TIME).strftime("%Y-%m-%d %H:%M:%S")
