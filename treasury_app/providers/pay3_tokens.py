"""Pay3's access token: fetched once, reused until shortly before it expires, renewed once when refused.

Expiry is judged on this computer's monotonic clock from `expiresIn` (or the JWT's `exp` when Pay3 sends no
lifetime): the provider's wall clock and ours need not agree, and a token refused early is renewed on the 401.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from .redaction import register_secret

log = logging.getLogger("treasury_app.providers.pay3")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    lifetime_seconds: float | None  # None when Pay3 did not say


@dataclass(frozen=True)
class _Cached:
    token: str
    refresh_at: float  # monotonic seconds


class AccessTokens:
    """The one cached token of a Pay3 client; concurrent callers share a single fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[IssuedToken]], *, refresh_margin_seconds: float,
                 default_lifetime_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._margin = refresh_margin_seconds
        self._default_lifetime = default_lifetime_seconds
        self._monotonic = monotonic
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> str:
        """A token that should still be valid, fetching one when none is cached or it is about to expire."""
        cached = self._cached
        if cached is not None and self._monotonic() < cached.refresh_at:
            return cached.token
        async with self._lock:
            cached = self._cached
            if cached is not None and self._monotonic() < cached.refresh_at:
                return cached.token
            return await self._renew_locked()

    async def renew(self, refused: str) -> str:
        """A new token after `refused` was refused; if another caller already replaced it, that one is used."""
        async with self._lock:
            cached = self._cached
            if cached is not None and cached.token != refused and self._monotonic() < cached.refresh_at:
                return cached.token
            return await self._renew_locked()

    def forget(self) -> None:
        self._cached = None

    async def _renew_locked(self) -> str:
        self._cached = None
        started = self._monotonic()
        issued = await self._fetch()
        register_secret(issued.token)
        lifetime = issued.lifetime_seconds
        if lifetime is None:
            lifetime = _lifetime_from_jwt(issued.token)
        if lifetime is None:
            lifetime = self._default_lifetime
        # Counted from when the request left, so the time the answer took cannot stretch the token's life; a
        # token shorter-lived than twice the margin is still used for half its life.
        refresh_at = started + lifetime - min(self._margin, lifetime / 2)
        self._cached = _Cached(issued.token, refresh_at)
        log.info("pay3: new access token, valid for %.0f s", lifetime)
        return issued.token


def _lifetime_from_jwt(token: str) -> float | None:
    """Seconds left by the token's own `exp` claim, when it is a JWT with one and it is still in the future."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.InvalidTokenError:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    left = float(exp) - time.time()
    return left if left > 0 else None
