"""Desk-wide settings as JSON values under a key (provider profiles, approval expiry…); never secrets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .column_codecs import decode_json, encode_json
from .connection import LedgerConnection
from .timestamps import format_timestamp


class SettingsRepository:
    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime]) -> None:
        self._link = link
        self._clock = clock

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value (objects come back as read-only mappings, numbers with decimals as Decimal)."""
        row = self._link.row("SELECT value FROM settings WHERE key = ?", (_key(key),))
        return default if row is None else decode_json(row["value"])

    def set(self, key: str, value: Any) -> None:
        text = encode_json(value)  # refuses floats and what JSON cannot hold, before taking the lock
        with self._link.transaction():
            self._link.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (_key(key), text, format_timestamp(self._clock())),
            )

    def delete(self, key: str) -> bool:
        """Forget a setting; False when there was none."""
        with self._link.transaction():
            return self._link.execute("DELETE FROM settings WHERE key = ?", (_key(key),)).rowcount > 0


def _key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or key != key.strip():
        raise ValueError(f"a setting's key must be non-empty text without surrounding spaces, not {key!r}")
    return key
