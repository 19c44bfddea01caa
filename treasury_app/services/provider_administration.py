"""Admin-only changes to provider profiles: each one checked against the operator's roles and audited.

Reading profiles (show, check, assets) stays with `ProviderProfiles`; changing where money is sent from, and
with which credentials, is an admin's act and leaves a row in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger
from treasury_app.security.credentials import CredentialStore
from treasury_app.services import audit
from treasury_app.services.audit import AuditAction
from treasury_app.services.operator_accounts import SignedIn, require_permission
from treasury_app.services.provider_profiles import ProfileSummary, ProviderProfiles, Secret


class ProviderAdministration:
    def __init__(self, ledger: Ledger, credentials: CredentialStore) -> None:
        self._ledger = ledger
        self._profiles = ProviderProfiles(ledger.settings, credentials)

    def set_cryptomus(self, *, acting: SignedIn, merchant: str, payout_key: Secret, base_url: str) -> ProfileSummary:
        key = self._secret_from(acting, payout_key, "set up Cryptomus")
        return self._audited(acting, "cryptomus", lambda: self._profiles.set_cryptomus(
            merchant=merchant, payout_key=key, base_url=base_url))

    def set_pay3(self, *, acting: SignedIn, api_secret: Secret, **profile: Any) -> ProfileSummary:
        secret = self._secret_from(acting, api_secret, "set up Pay3")
        return self._audited(acting, "pay3", lambda: self._profiles.set_pay3(api_secret=secret, **profile))

    def remove(self, name: str, *, acting: SignedIn) -> bool:
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_PROVIDERS, f"remove {name}")
            removed = self._profiles.remove(name)
            if removed:
                audit.record(self._ledger, admin.name, AuditAction.PROVIDER_REMOVED, f"provider:{name}")
        return removed

    def _secret_from(self, acting: SignedIn, secret: Secret, doing: str) -> str:
        # The permission is checked before anyone types a secret, and the secret is read before the ledger's
        # write lock is taken: a person typing must not hold up every other window.
        require_permission(self._ledger, acting, Permission.MANAGE_PROVIDERS, doing)
        return secret() if callable(secret) else secret

    def _audited(self, acting: SignedIn, name: str, change: Callable[[], ProfileSummary]) -> ProfileSummary:
        """The profile and its audit row commit together (the keyring, outside SQLite, is written first)."""
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_PROVIDERS, f"set up {name}")
            summary = change()
            detail = {"base_url": summary.base_url, "account": summary.account,
                      "secret": f"{summary.secret_label}, kept in the OS keyring"}
            audit.record(self._ledger, admin.name, AuditAction.PROVIDER_SET, f"provider:{name}", detail)
        return summary
