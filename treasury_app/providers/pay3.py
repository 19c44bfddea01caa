"""The Pay3 crypto payout client: access token, create-order (`createEstimate`), execute, order details.

Pay3 registers the order at the estimate (under our idempotency key as `requestId`) and pays at execute with
the estimate's `token`. Neither write is ever repeated automatically: a second create answers 7001 (and the
token of the first is lost), and execute has no documented idempotency. Every protocol decision of pay3.md
lives in `pay3_protocol.Pay3Decisions`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from treasury_app.domain.assets import Asset, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.domain.payout_request import FeeMode, PayoutRequest, validate_idempotency_key
from treasury_app.domain.provider_capabilities import ProviderCapabilities

from . import pay3_answers as answers
from .answer_reading import AnswerReader
from .errors import AuthenticationError, OrderAlreadyExistsError, ProviderError, ProviderValidationError
from .http_transport import CallKind, HttpAnswer, HttpSettings, ProviderHttp, validate_base_url
from .interface import Balance, Estimate, PayoutOption, ProviderPayoutState
from .pay3_protocol import Pay3Decisions, sign, string_to_sign
from .pay3_tokens import AccessTokens, IssuedToken
from .redaction import register_secret

T = TypeVar("T")
log = logging.getLogger("treasury_app.providers.pay3")
# Which currencies a client may use is agreed with Pay3, so this list is a profile setting (pay3.md).
DEFAULT_CURRENCIES: dict[str, tuple[str, str]] = {
    "BTC-BitcoinTestnet": ("BTC", "BTC_TESTNET"),
    "USDT-TRON": ("USDT", "TRON"),
    "USDT-ETH": ("USDT", "ETH"),
    "ETH-Ethereum": ("ETH", "ETH"),
}
# [decision] Pay3 wants the e-mail of "the user the payout is for"; the desk has no such field per payout,
# so the profile names one address for all (a placeholder until the profile sets a real one).
DEFAULT_PAYER_EMAIL = "payouts@example.com"


@dataclass(frozen=True)
class Pay3Currency:
    """A Pay3 currency code and the catalogue asset it means."""

    code: str
    asset: Asset

    @classmethod
    def parse(cls, text: str) -> Pay3Currency:
        """`CODE=CURRENCY:NETWORK`, e.g. `USDT-TRON=USDT:TRON`."""
        code, sep, target = text.partition("=")
        currency, colon, network = target.partition(":")
        if not sep or not colon or not code.strip():
            raise InvalidFieldError("currency", f"'{text}' must be written CODE=CURRENCY:NETWORK, "
                                                "e.g. USDT-TRON=USDT:TRON")
        return cls(code.strip(), find_asset(currency, network))


def default_currencies() -> tuple[Pay3Currency, ...]:
    return tuple(Pay3Currency(code, find_asset(cur, net)) for code, (cur, net) in DEFAULT_CURRENCIES.items())


def pay3_capabilities(currencies: Sequence[Pay3Currency]) -> ProviderCapabilities:
    """Pay3's choices for a profile's currencies. Its create-order has an amount and no fee, priority or memo
    field: the fee always comes out of the amount (`estimatedNetAmount`), and there is nothing to choose."""
    return ProviderCapabilities(
        provider=answers.PROVIDER, title="Pay3", fee_modes=(FeeMode.FROM_AMOUNT,),
        networks=frozenset(c.asset.network.code for c in currencies),
        assets=frozenset(c.asset.code for c in currencies))


@dataclass(frozen=True)
class Pay3Profile:
    """Where and as whom to call Pay3; the API secret is not here (it lives in the OS keyring)."""

    base_url: str
    client_id: str
    payer_email: str = DEFAULT_PAYER_EMAIL
    currencies: tuple[Pay3Currency, ...] = field(default_factory=default_currencies)
    decisions: Pay3Decisions = field(default_factory=Pay3Decisions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", validate_base_url(self.base_url))
        client_id = (self.client_id or "").strip()
        if not client_id:
            raise InvalidFieldError("client_id", "is empty; write the client id Pay3 gave you")
        object.__setattr__(self, "client_id", client_id)
        if "@" not in self.payer_email or any(ch.isspace() for ch in self.payer_email):
            raise InvalidFieldError("payer_email", f"'{self.payer_email}' is not an e-mail address")
        codes = [c.code.lower() for c in self.currencies]
        if len(set(codes)) != len(codes) or not codes:
            raise InvalidFieldError("currency", "name each Pay3 currency code once, and at least one")

    @property
    def capabilities(self) -> ProviderCapabilities:
        return pay3_capabilities(self.currencies)

    def code_of(self, asset: Asset) -> str | None:
        return next((c.code for c in self.currencies if c.asset == asset), None)

    def to_settings(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "base_url": self.base_url, "client_id": self.client_id, "payer_email": self.payer_email,
            "currencies": {c.code: f"{c.asset.currency}:{c.asset.network.code}" for c in self.currencies},
        }
        if self.decisions.overrides():
            values["protocol"] = self.decisions.overrides()
        return values

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> Pay3Profile:
        currencies = values.get("currencies")
        return cls(
            base_url=str(values.get("base_url", "")),
            client_id=str(values.get("client_id", "")),
            payer_email=str(values.get("payer_email", DEFAULT_PAYER_EMAIL)),
            currencies=tuple(Pay3Currency.parse(f"{code}={target}") for code, target in currencies.items())
            if currencies else default_currencies(),
            decisions=Pay3Decisions.from_settings(dict(values.get("protocol") or {})),
        )


class Pay3Provider:
    """`PayoutProvider` for Pay3. Use as `async with Pay3Provider(profile, secret) as pay3: …`."""

    name = answers.PROVIDER
    # createEstimate registers the order under its requestId, which cannot be estimated again (7001).
    estimate_registers_order = True
    balances_note: str | None = ("Pay3 has no balance endpoint for crypto payouts; an estimate warns when a "
                                 "balance is below Pay3's threshold.")

    def __init__(self, profile: Pay3Profile, api_secret: str, *, settings: HttpSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if not api_secret:
            raise InvalidFieldError("api_secret", "is empty")
        register_secret(api_secret)
        self.profile = profile
        self.capabilities = profile.capabilities
        self.decisions = profile.decisions
        self._secret = api_secret
        self._now = now
        self._http = ProviderHttp(self.name, profile.base_url, settings=settings, transport=transport, sleep=sleep)
        self._tokens = AccessTokens(self._fetch_token,
                                    refresh_margin_seconds=self.decisions.token_refresh_margin_seconds,
                                    default_lifetime_seconds=self.decisions.default_token_lifetime_seconds,
                                    monotonic=monotonic)

    async def __aenter__(self) -> Pay3Provider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the interface -------------------------------------------------------------------------------

    async def verify_credentials(self) -> None:
        await self._tokens.current()

    async def payout_options(self) -> list[PayoutOption]:
        """The profile's currencies: Pay3 publishes no limits or fee rule; its estimate gives the fee."""
        return [PayoutOption(asset=c.asset, wire_code=c.code, is_available=True, min_amount=None, max_amount=None,
                             fee_fixed=None, fee_percent=None) for c in self.profile.currencies]

    async def estimate(self, request: PayoutRequest, idempotency_key: str) -> Estimate:
        """create-order with `createEstimate`: registers the order under the key; no money moves."""
        key = validate_idempotency_key(idempotency_key)
        code = self._currency_code(request)
        amount = format_amount(request.amount)
        fields = {"clientId": self.profile.client_id, "requestId": key, "address": request.address,
                  "currency": code, "amount": amount, "payerEmail": self.profile.payer_email,
                  "mode": self.decisions.estimate_mode}
        signature = sign(string_to_sign(fields, self.decisions.create_signed_fields), self._secret)
        what = f"estimate payout {key}"

        def read(body: Mapping[str, Any], reader: AnswerReader) -> Estimate:
            return self._read_estimate(body, reader, key, request)

        try:
            return await self._signed_post(self.decisions.create_path, fields, signature, what, read)
        except answers.RequestIdUsedError:
            pass
        # 7001: the order exists. Read it rather than report a bare error; the workflow decides from its state.
        try:
            state = (await self.fetch_states([key]))[key]
        except ProviderError as error:
            log.warning("pay3: %s exists but could not be read: %s", key, error)
            state = None
        raise OrderAlreadyExistsError(self.name, key, state)

    async def submit(self, request: PayoutRequest, idempotency_key: str,
                     execution_data: Mapping[str, Any]) -> ProviderPayoutState:
        """execute with the estimate's token: the payout is sent. Never repeated automatically."""
        key = validate_idempotency_key(idempotency_key)
        self._currency_code(request)
        token = execution_data.get("token")
        if not isinstance(token, str) or not token or execution_data.get("requestId", key) != key:
            raise ProviderValidationError(self.name, {"estimate": ("has no Pay3 order token for this payout; "
                                                                   "estimate it again",)})
        fields = {"token": token, "requestId": key, "clientId": self.profile.client_id}
        signature = sign(string_to_sign(fields, self.decisions.execute_signed_fields), self._secret)
        return await self._signed_post(
            self.decisions.execute_path, fields, signature, f"execute payout {key}",
            lambda body, reader: answers.executed_state(body, key, reader, self.decisions))

    async def fetch_states(self, idempotency_keys: Sequence[str], *,
                           sent_since: datetime | None = None) -> dict[str, ProviderPayoutState | None]:
        """One order-details GET per key (Pay3 has no list endpoint, so `sent_since` bounds nothing), at most
        `max_concurrent_reads` at once."""
        keys = list(dict.fromkeys(idempotency_keys))
        results = await asyncio.gather(*(self._order_details(k) for k in keys), return_exceptions=True)
        states: dict[str, ProviderPayoutState | None] = {}
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                raise result  # the first failure decides; the poller asks again later
            states[key] = result
        return states

    async def balances(self) -> list[Balance]:
        """Nothing: see `balances_note`."""
        return []

    # --- inside --------------------------------------------------------------------------------------

    def _currency_code(self, request: PayoutRequest) -> str:
        if request.provider != self.name:
            raise ValueError(f"a {request.provider} payout was given to the Pay3 client")
        code = self.profile.code_of(request.asset)
        if code is None:
            offered = ", ".join(str(c.asset) for c in self.profile.currencies)
            raise ProviderValidationError(self.name, {"currency": (
                f"{request.asset} is not among this Pay3 profile's currencies ({offered})",)})
        # A priority or memo would be dropped on the way (Pay3 has no field for them): refused, never lost.
        problems = self.capabilities.choice_problems(request.asset, request.fee_mode, request.priority, request.memo)
        if problems:
            raise ProviderValidationError.of_choices(self.name, problems)
        return code

    async def _order_details(self, key: str) -> ProviderPayoutState | None:
        key = validate_idempotency_key(key)
        what = f"order details {key}"
        params = {"requestId": key, "clientId": self.profile.client_id}

        async def send(token: str) -> ProviderPayoutState | None:
            reader = AnswerReader(self.name, what)

            def interpret(answer: HttpAnswer) -> ProviderPayoutState | None:
                body = answers.read_body(answer, reader, self.decisions)
                return answers.details_state(body, key, reader, self.decisions)

            return await self._http.exchange("GET", self.decisions.details_path, kind=CallKind.READ, what=what,
                                             interpret=interpret, headers={"access-token": token}, params=params)

        async with self._http.read_slots:
            return await self._with_token(send)

    async def _signed_post(self, path: str, fields: Mapping[str, str], signature: str, what: str,
                           read: Callable[[Mapping[str, Any], AnswerReader], T]) -> T:
        body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

        async def send(token: str) -> T:
            reader = AnswerReader(self.name, what)

            def interpret(answer: HttpAnswer) -> T:
                return read(answers.read_body(answer, reader, self.decisions), reader)

            headers = {"access-token": token, "signature": signature, "Content-Type": "application/json"}
            return await self._http.exchange("POST", path, kind=CallKind.ONE_SHOT_WRITE, what=what,
                                             interpret=interpret, content=body, headers=headers)

        return await self._with_token(send)

    async def _with_token(self, send: Callable[[str], Awaitable[T]]) -> T:
        """Send with the cached token; on a refused token (401) renew it ONCE and send again."""
        token = await self._tokens.current()
        try:
            return await send(token)
        except answers.TokenRefusedError:
            pass
        # A 401 is a refusal: the call was not carried out, so sending it again cannot act twice.
        token = await self._tokens.renew(token)
        try:
            return await send(token)
        except answers.TokenRefusedError as error:
            raise AuthenticationError(self.name, f"{error.message} even right after renewing it; check the "
                                                 "client id and API secret") from None

    async def _fetch_token(self) -> IssuedToken:
        d = self.decisions
        payload = {d.token_client_id_field: self.profile.client_id, d.token_secret_field: self._secret}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        # The answer carries a token not yet registered as a secret: never quote its body in an error.
        reader = AnswerReader(self.name, "get an access token", quote_body=False)

        def interpret(answer: HttpAnswer) -> IssuedToken:
            result = answers.read_body(answer, reader, d)
            token = reader.text(result, d.token_answer_field)
            lifetime = reader.amount(result, d.token_lifetime_field, required=False)
            assert token is not None
            return IssuedToken(token, float(lifetime) if lifetime is not None and lifetime > 0 else None)

        try:
            return await self._http.exchange("POST", d.token_path, kind=CallKind.READ, what="get an access token",
                                             interpret=interpret, content=body,
                                             headers={"Content-Type": "application/json"})
        except answers.TokenRefusedError as error:
            raise AuthenticationError(self.name, f"Pay3 refused the client id or API secret ({error.message})") \
                from None

    def _read_estimate(self, body: Mapping[str, Any], reader: AnswerReader, key: str,
                       request: PayoutRequest) -> Estimate:
        token = reader.text(body, "token")
        request_id = reader.text(body, "requestId")
        if request_id != key:
            reader.fail(f"it answers for requestId {request_id}, not {key}")
        fee = reader.amount(body, "estimatedFees")
        net = reader.amount(body, "estimatedNetAmount")
        assert token is not None and fee is not None and net is not None
        warning = body.get("warning")
        warnings = (str(warning),) if warning else ()
        return Estimate(fee=fee, net_amount=net, total_debited=request.amount, warnings=warnings,
                        execution_data={"token": token, "requestId": key}, estimated_at=self._now(),
                        registers_order=True, raw=dict(body))
