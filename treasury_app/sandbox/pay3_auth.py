"""Pay3's two proofs: the access token (a JWT that expires) and the HMAC `signature` of create and execute.

The signed strings follow the [decision] table of `providers/pay3.md`: fields in alphabetical order as
`key=value&key=value`, HMAC-SHA256 keyed with the API secret, digest in standard padded base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

import jwt

from .clock import Clock


def signature_of(api_secret: str, signed_string: str) -> str:
    digest = hmac.new(api_secret.encode(), signed_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def create_order_signed_string(*, address: str, amount: str, currency: str, request_id: str) -> str:
    return f"address={address}&amount={amount}&currency={currency}&requestId={request_id}"


def execute_signed_string(*, request_id: str, token: str) -> str:
    return f"requestId={request_id}&token={token}"


def signature_matches(api_secret: str, signed_string: str, received: str | None) -> bool:
    return received is not None and hmac.compare_digest(signature_of(api_secret, signed_string), received.strip())


class AccessTokens:
    """Issues and checks the client's JWTs, HS256 with a key that lives only in this sandbox run.

    Expiry is judged on the sandbox clock (PyJWT's own check would use the real time, which tests do not move).
    """

    ALGORITHM = "HS256"

    def __init__(self, clock: Clock, lifetime: int) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._key = secrets.token_bytes(32)

    @property
    def lifetime(self) -> int:
        return self._lifetime

    def issue(self, client_id: str) -> str:
        issued = int(self._clock.now())
        claims = {"sub": client_id, "iat": issued, "exp": issued + self._lifetime, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self._key, algorithm=self.ALGORITHM)

    def client_of(self, token: str | None) -> str | None:
        """The client id the token was issued to, or None if it is missing, forged, malformed or expired."""
        if not token:
            return None
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[self.ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or self._clock.now() >= exp:
            return None
        return str(claims["sub"])
