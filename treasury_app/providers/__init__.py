"""Provider clients: the app's only doors to real money. Only this package speaks HTTP to providers.

What is here
------------
- `interface.py`   the provider-independent interface (`PayoutProvider`) and the frozen values it returns:
                   `PayoutOption`, `Estimate`, `ProviderPayoutState`, `Balance`. Services see nothing else.
- `errors.py`      the typed errors every client raises. `OutcomeUnknownError` means "may have happened":
                   never treat it as a failure, reconcile by the idempotency key. `RequestNotSentError`
                   means "certainly never left this machine" (no connection could be made).
- `http_transport.py`  one httpx `AsyncClient` per profile, and the one rule about repeating a call
                   (`CallKind`): reads and idempotent writes are repeated, other writes never; a write whose
                   answer is lost or unreadable ends as `OutcomeUnknownError`. TLS verification is always on.
- `answer_reading.py`  lenient, exact reading of JSON answers (`Decimal`, never float) into typed errors.
- `redaction.py`   the one redaction mechanism: registered secrets are masked in every log record and
                   every `ProviderError` text.
- `cryptomus*.py`, `pay3*.py`  the two providers, each as: a profile (`…Profile`, frozen, no secret), a
                   client (`…Provider`), the reading of its answers (`…_answers.py`), and its signing.
- `kinds.py`       the providers by name, for services and the command line.

Adding a third provider ("acme")
--------------------------------
1. `acme.py`: `AcmeProfile` (frozen dataclass: `base_url` checked with `validate_base_url`, the account id,
   options; `to_settings()` / `from_settings()`; never the secret) and `AcmeProvider(profile, secret, *,
   settings=None, transport=None)` implementing every method of `PayoutProvider`. Call
   `register_secret(secret)` in `__init__` and for every token it later obtains. Send each call through
   `ProviderHttp.exchange` with the right `CallKind`: `READ` for what changes nothing, `IDEMPOTENT_WRITE`
   only when the provider documents that repeating the call with the same key cannot pay twice,
   `ONE_SHOT_WRITE` otherwise. Read answers inside the `interpret` callback (so an unreadable answer to a
   write becomes `OutcomeUnknownError`), with an `AnswerReader`.
2. `acme_answers.py`: the provider's success shape and error shape → `errors.py` classes (validation fields
   mapped to the form's field names), and its status words → `PayoutStatus` with finality, the raw word
   kept. An unknown word is never final.
3. Where the provider's documentation is silent, put every decision in one frozen dataclass (as
   `pay3_protocol.Pay3Decisions`) that the profile's settings can override.
4. Add its `ProviderKind` to `kinds.PROVIDER_KINDS`, its name to `domain.payout_request.PROVIDERS`, a
   `provider set acme` command to `commands/provider_commands.py` and a `set_acme` method to
   `services.provider_profiles` (and its admin-checked, audited twin in `services.provider_administration`).
5. Teach the sandbox its protocol, and test against it as `tests/providers/test_provider_cryptomus_*.py`
   and `test_provider_pay3_*.py` do: every endpoint, every error class, every fault.
"""
