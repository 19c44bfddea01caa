"""What can go wrong when talking to a provider, as typed errors a person (or the workflow) can act on.

The one distinction that matters most for money: `OutcomeUnknownError` means the request may have reached
the provider and may have created a payout. It is never treated as a failure; the payout is reconciled by its
idempotency key. Every other error here means the provider certainly did not act on the request;
`RequestNotSentError` means more: the request never even left this machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from treasury_app.domain.errors import TreasuryError

from .redaction import redact

if TYPE_CHECKING:
    from treasury_app.domain.provider_capabilities import UnsupportedChoiceError

    from .interface import ProviderPayoutState


class ProviderError(TreasuryError):
    """Base of every provider error; `provider` names which one answered (or failed to).

    The message is redacted when the error is built: a provider's words, quoted back, can never carry a
    secret into a log line or a dialog.
    """

    def __init__(self, provider: str, message: str) -> None:
        self.provider = provider
        self.message = redact(message)
        super().__init__(f"{provider}: {self.message}")


class ProviderValidationError(ProviderError):
    """The provider refused fields of the request; `fields` maps our form's field names to its reasons."""

    def __init__(self, provider: str, fields: Mapping[str, tuple[str, ...]]) -> None:
        self.fields = dict(fields)
        listing = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in self.fields.items())
        super().__init__(provider, f"the provider refused the request ({listing})")

    @classmethod
    def of_choices(cls, provider: str, problems: Sequence[UnsupportedChoiceError]) -> ProviderValidationError:
        """A request carrying choices the provider does not take (its `capabilities`), refused by its client
        before anything is sent: the workflow checks them at compose, so this guards a stored payout."""
        return cls(provider, {problem.field: (problem.message,) for problem in problems})


class InsufficientFundsError(ProviderError):
    """The balance the payout is paid from does not cover it (amount plus fee)."""


class AmountLimitError(ProviderError):
    """The amount is under the minimum or over the maximum; `limit` is the bound when the provider said it."""

    def __init__(self, provider: str, message: str, *, bound: str, limit: Decimal | None) -> None:
        self.bound = bound  # "minimum" or "maximum"
        self.limit = limit
        super().__init__(provider, message)


class ForbiddenError(ProviderError):
    """Payouts are blocked for this account (e.g. for 24 hours after a key change)."""


class NotFoundError(ProviderError):
    """The currency, service, wallet or order does not exist at the provider."""


class AuthenticationError(ProviderError):
    """The credentials were refused; fix them in the provider profile."""


class RateLimitedError(ProviderError):
    """The provider refused the call for now (HTTP 429); nothing was done. Try again after `retry_after_seconds`."""

    def __init__(self, provider: str, retry_after_seconds: float | None) -> None:
        self.retry_after_seconds = retry_after_seconds
        wait = f"; retry after {retry_after_seconds:g} s" if retry_after_seconds is not None else ""
        super().__init__(provider, f"too many requests{wait}")


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or answered with a server error, and certainly did not act."""


class RequestNotSentError(ProviderUnavailableError):
    """The call never left this machine: no connection to the provider could be made (refused, name not found,
    TLS handshake failed, connect or pool timeout) on any attempt, so not one byte of the request was written.

    Only the transport raises it, and only then; a timeout or dropped connection after connecting is not it.
    It is what lets the workflow put a first send back where it was instead of making it `unknown`.
    """


class UnexpectedAnswerError(ProviderError):
    """The provider answered something this app cannot read (HTML, empty body, missing or mistyped fields)."""


class OutcomeUnknownError(ProviderError):
    """The request may have reached the provider: never treat as failed; reconcile by idempotency key."""


class RequestRefusedError(ProviderError):
    """The provider refused the request for a reason none of the classes above names; it did not act.

    `code` is the provider's own error code when it sent one.
    """

    def __init__(self, provider: str, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(provider, message)


class EstimateExpiredError(ProviderError):
    """The estimate (e.g. Pay3's order token) is too old to execute; estimate again under a fresh key."""


class OrderAlreadyExistsError(ProviderError):
    """The provider already has an order under this idempotency key; `state` is what it says about it.

    Pay3 answers `7001` to a second create-order with a used `requestId`. The order was read instead of
    reporting a bare error, so the workflow can decide: executed (follow it) or only estimated (its token is
    lost with the first answer: estimate again under a fresh key; nothing was paid).
    """

    def __init__(self, provider: str, idempotency_key: str, state: ProviderPayoutState | None) -> None:
        self.idempotency_key = idempotency_key
        self.state = state
        seen = f"its status there is {state.provider_status}" if state is not None else "it could not be read"
        super().__init__(provider, f"an order already exists under {idempotency_key}; {seen}")
