"""HTTP for provider clients: one httpx `AsyncClient` per provider profile, and the rules for repeating a call.

The rule that protects money lives here, once, for every provider: a call is repeated only when repeating is
safe (`CallKind`), and a write whose answer is lost or unreadable ends as `OutcomeUnknownError` — the request
may have reached the provider — never as a failure. Only a call none of whose attempts could even connect
ends as `RequestNotSentError`: nothing of it left this machine.

TLS verification is always on: there is no parameter to turn it off. Plain `http` is accepted only for a
loopback host (the sandbox). A `transport` may be injected so that the same client code reaches the sandbox
over loopback or an in-process/mock transport; it is meant for tests and the sandbox only.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import httpx

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.identity import USER_AGENT

from .errors import (
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestNotSentError,
    UnexpectedAnswerError,
)
from .redaction import redact

log = logging.getLogger("treasury_app.providers.http")
T = TypeVar("T")


class CallKind(StrEnum):
    """What repeating a call could do at the provider; it decides retries and what a lost answer means."""

    READ = "read"  # changes nothing: repeated freely; failures are "unavailable"
    IDEMPOTENT_WRITE = "idempotent write"  # the same key returns the first result (Cryptomus create): repeated
    ONE_SHOT_WRITE = "one-shot write"  # never repeated automatically (Pay3 create-order and execute)

    @property
    def repeatable(self) -> bool:
        return self is not CallKind.ONE_SHOT_WRITE

    @property
    def writes(self) -> bool:
        return self is not CallKind.READ


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts (seconds), connection limits and the retry budget of one provider profile's client."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    write_timeout: float = 10.0
    pool_timeout: float = 10.0
    max_connections: int = 10
    max_keepalive_connections: int = 5
    # Attempts of a repeatable call in all (1 = no retry). One-shot writes are always tried once.
    max_attempts: int = 3
    retry_backoff_seconds: float = 0.5  # doubled after each failed attempt
    # A 429 asking for a longer wait is reported to the caller instead of holding the call open.
    max_retry_after_seconds: float = 10.0
    # Bound on parallel reads one client makes when it fetches many payouts' states.
    max_concurrent_reads: int = 4

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_concurrent_reads < 1:
            raise ValueError("max_attempts and max_concurrent_reads must be at least 1")


@dataclass(frozen=True)
class HttpAnswer:
    """A complete HTTP answer, read in full before any interpretation."""

    status: int
    headers: httpx.Headers
    content: bytes

    def excerpt(self, limit: int = 80) -> str:
        """The start of the body for an error message (redacted, one line)."""
        text = self.content[:limit * 4].decode("utf-8", "replace")
        text = " ".join(text.split())
        return redact(text if len(text) <= limit else text[:limit] + "…")


def validate_base_url(url: str, field: str = "base_url") -> str:
    """An `https` URL, or `http` to a loopback host (the sandbox); no credentials, query or fragment."""
    text = (url or "").strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        raise InvalidFieldError(field, f"'{text}' is not a URL") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise InvalidFieldError(field, "must start with https:// and name a host, e.g. https://api.cryptomus.com")
    if parsed.userinfo:
        raise InvalidFieldError(field, "must not contain a user name or password (they would end up in logs)")
    if parsed.query or parsed.fragment:
        raise InvalidFieldError(field, "must not contain a query (?…) or fragment (#…)")
    if parsed.scheme == "http" and not is_loopback_host(parsed.host):
        raise InvalidFieldError(field, "must use https; plain http is only allowed to this computer (the sandbox)")
    return text.rstrip("/")


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _NotSent(Exception):
    """The request certainly did not leave this machine: it failed before a connection to write it on existed.

    httpcore raises `ConnectError`/`ConnectTimeout` only from opening the TCP (or Unix) socket and the TLS
    handshake, `PoolTimeout` while waiting for a pooled connection, `ProxyError` while a proxy tunnel is set
    up, and httpx `UnsupportedProtocol` before any of these: all before the first byte of the request is
    written. Everything later (write errors, read timeouts, connections closed mid-answer) is `_MaybeSent`.
    """


class _MaybeSent(Exception):
    """The request may have reached the provider, but no complete answer came back."""


@dataclass
class _Attempt:
    error: ProviderError
    reached_provider: bool  # the provider may have acted on this attempt
    retryable: bool
    wait: float | None = None  # a delay the provider asked for (Retry-After)


class ProviderHttp:
    """The HTTP client of one provider profile; `exchange` sends a call under the rules of its `CallKind`."""

    def __init__(self, provider: str, base_url: str, *, settings: HttpSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.provider = provider
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        s = self.settings
        self._client = httpx.AsyncClient(
            base_url=validate_base_url(base_url),
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.write_timeout,
                                  pool=s.pool_timeout),
            limits=httpx.Limits(max_connections=s.max_connections,
                                max_keepalive_connections=s.max_keepalive_connections),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,  # a redirected POST is an answer we do not understand, not one to follow
        )
        self.read_slots = asyncio.Semaphore(s.max_concurrent_reads)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def exchange(self, method: str, path: str, *, kind: CallKind, what: str,
                       interpret: Callable[[HttpAnswer], T], content: bytes | None = None,
                       headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None) -> T:
        """Send the call, repeating it only as `kind` allows, and return what `interpret` makes of the answer.

        `interpret` turns an answer (status < 500 and not 429) into a value or raises a `ProviderError`; an
        `UnexpectedAnswerError` from it counts as an unreadable answer (repeated for repeatable calls, and for
        a write: the provider may have acted). `what` names the call in messages ("create payout <key>").
        """
        attempts = self.settings.max_attempts if kind.repeatable else 1
        maybe_acted: str | None = None  # why an earlier attempt of a write may have reached the provider
        failure: _Attempt | None = None
        never_sent = True  # no attempt so far got further than trying to connect
        for attempt in range(1, attempts + 1):
            try:
                answer = await self._send(method, path, content, headers, params, attempt, attempts)
                return self._interpreted(answer, interpret, what)
            except _NotSent as error:
                # "Not sent" only while every attempt was: after a 429 or 5xx the call did reach the provider.
                unsent = RequestNotSentError if never_sent else ProviderUnavailableError
                failure = _Attempt(unsent(self.provider, f"{what}: {error}"), False, True)
            except _MaybeSent as error:
                failure = _Attempt(ProviderUnavailableError(self.provider, f"{what}: {error}"), True, True)
            except _AnswerFailure as error:
                failure = error.attempt
            never_sent = never_sent and isinstance(failure.error, RequestNotSentError)
            if kind.writes and failure.reached_provider:
                maybe_acted = failure.error.message
            if not failure.retryable:
                break
            if attempt < attempts:
                delay = self._delay_before_retry(failure, attempt)
                if delay is None:
                    break
                log.warning("%s: %s; trying again in %.2f s (attempt %d of %d)", self.provider,
                            failure.error.message, delay, attempt + 1, attempts)
                await self._sleep(delay)
        assert failure is not None
        if maybe_acted is not None:
            raise OutcomeUnknownError(
                self.provider,
                f"{what}: no usable answer ({maybe_acted}); the request may have reached {self.provider} and "
                "may have been carried out — reconcile by the idempotency key, never resend blindly",
            ) from failure.error
        raise failure.error

    def _delay_before_retry(self, failure: _Attempt, attempt: int) -> float | None:
        if failure.wait is not None:
            return failure.wait if failure.wait <= self.settings.max_retry_after_seconds else None
        return self.settings.retry_backoff_seconds * (2 ** (attempt - 1))

    async def _send(self, method: str, path: str, content: bytes | None, headers: Mapping[str, str] | None,
                    params: Mapping[str, str] | None, attempt: int, attempts: int) -> HttpAnswer:
        started = time.monotonic()
        try:
            response = await self._client.request(method, path, content=content, headers=dict(headers or {}),
                                                  params=dict(params) if params else None)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
                httpx.ProxyError) as error:
            raise _NotSent(f"could not connect ({_describe(error)})") from None
        except httpx.TimeoutException:
            raise _MaybeSent(f"no answer within {self.settings.read_timeout:g} s") from None
        except httpx.TransportError as error:
            raise _MaybeSent(f"the connection closed without a complete answer ({_describe(error)})") from None
        elapsed = time.monotonic() - started
        log.debug("%s %s %s → HTTP %d, %d bytes in %.3f s (attempt %d of %d)", self.provider, method, path,
                  response.status_code, len(response.content), elapsed, attempt, attempts)
        return HttpAnswer(response.status_code, response.headers, response.content)

    def _interpreted(self, answer: HttpAnswer, interpret: Callable[[HttpAnswer], T], what: str) -> T:
        if answer.status == 429:
            wait = retry_after_seconds(answer.headers.get("Retry-After"))
            raise _AnswerFailure(_Attempt(RateLimitedError(self.provider, wait), False, True, wait))
        if answer.status >= 500:
            error = ProviderUnavailableError(
                self.provider, f"{what}: server error HTTP {answer.status} ({answer.excerpt() or 'empty body'})")
            raise _AnswerFailure(_Attempt(error, True, True))
        try:
            return interpret(answer)
        except UnexpectedAnswerError as error:
            raise _AnswerFailure(_Attempt(error, True, True)) from None
        except ProviderError as error:
            raise _AnswerFailure(_Attempt(error, False, False)) from None
        except Exception as error:  # a reader bug must still end as a typed error, never a crash
            log.exception("%s: %s: the answer could not be read", self.provider, what)
            unexpected = UnexpectedAnswerError(
                self.provider, f"{what}: the answer could not be read ({type(error).__name__})")
            raise _AnswerFailure(_Attempt(unexpected, True, True)) from None


class _AnswerFailure(Exception):
    def __init__(self, attempt: _Attempt) -> None:
        super().__init__(attempt.error.message)
        self.attempt = attempt


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds to wait: a number of seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _describe(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return redact(text[:200])
