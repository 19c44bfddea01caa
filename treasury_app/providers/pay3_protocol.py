"""Pay3's protocol details, including every gap this project filled by decision (pay3.md), in ONE place.

When Pay3 answers differently, a setting overrides the decision here (`Pay3Decisions.from_settings`, stored in
the Pay3 provider profile under "protocol") and nothing else changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from treasury_app.domain.errors import InvalidFieldError


@dataclass(frozen=True)
class Pay3Decisions:
    # [decision] paths: the token endpoint is not documented; the others are [doc].
    token_path: str = "/v1/client/access-token"
    create_path: str = "/v1/client/crypto-payout/create-order"
    execute_path: str = "/v1/client/crypto-payout/execute"
    details_path: str = "/v1/client/crypto-orders"
    # [decision] the token request and answer: {"clientId", "apiSecret"} → {"accessToken", "expiresIn"}.
    token_client_id_field: str = "clientId"
    token_secret_field: str = "apiSecret"
    token_answer_field: str = "accessToken"
    token_lifetime_field: str = "expiresIn"
    # Refresh a cached access token this long before it expires.
    token_refresh_margin_seconds: int = 60
    # When neither `expiresIn` nor the JWT's `exp` tells the lifetime, trust a token this long.
    default_token_lifetime_seconds: int = 300
    # [decision] fields of the string signed for create-order and execute, in order, as `key=value&key=value`.
    create_signed_fields: tuple[str, ...] = ("address", "amount", "currency", "requestId")
    execute_signed_fields: tuple[str, ...] = ("requestId", "token")
    # [decision] mode spelling.
    estimate_mode: str = "createEstimate"
    # [doc] the error code of a second create-order with a used requestId.
    order_exists_code: str = "7001"
    # [doc, middle spellings reconstructed] order statuses, compared after `normalise_status`.
    estimated_statuses: tuple[str, ...] = ("CREATED",)
    processing_statuses: tuple[str, ...] = (
        "ORDER_STARTED", "ORDER_PAYMENT_AWAITING", "ORDER_PAYMENT_PROCESSING", "ORDER_PAYMENT_INITIATED",
    )
    completed_statuses: tuple[str, ...] = ("COMPLETED",)
    failed_statuses: tuple[str, ...] = ("FAILED",)
    abandoned_statuses: tuple[str, ...] = ("ABANDONED",)

    @classmethod
    def from_settings(cls, overrides: Mapping[str, object]) -> Pay3Decisions:
        """Apply overrides from the provider profile's settings; unknown keys are an error, not ignored."""
        known = set(cls.__dataclass_fields__)
        unknown = set(overrides) - known
        if unknown:
            # InvalidFieldError is a ValueError that the faces of the app show as one clear line.
            raise InvalidFieldError("protocol", f"unknown Pay3 protocol settings: {', '.join(sorted(unknown))}")
        values = {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in overrides.items()}
        return cls(**values)  # type: ignore[arg-type]

    def overrides(self) -> dict[str, Any]:
        """What differs from the decisions above: all a profile needs to store."""
        default = asdict(Pay3Decisions())
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if default[k] != v}


def string_to_sign(fields: Mapping[str, str], names: tuple[str, ...]) -> str:
    return "&".join(f"{name}={fields[name]}" for name in names)


def sign(message: str, api_secret: str) -> str:
    """HMAC-SHA256 keyed with the API secret, standard padded base64 (as Pay3's fiat orders document)."""
    digest = hmac.new(api_secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def normalise_status(word: str) -> str:
    """`order payment processing`, `Order_Payment_Processing` → `ORDER_PAYMENT_PROCESSING`."""
    return "_".join(word.replace("_", " ").split()).upper()
