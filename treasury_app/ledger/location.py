"""Where a ledger is: a desk's own SQLite file, or a team ledger's PostgreSQL URL.

Work that runs off the opening thread (the desk worker, a background report, the audit verification) opens the
same ledger again from its `Ledger.location`, whichever kind it is. The URL may carry the password the desk
connects with, so a location never shows it: `shown` (and `str`) is the file's path or the URL without password
or options, and the URL itself stays out of `repr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .postgres.location import is_postgres_url, shown_url

__all__ = ["LedgerLocation", "has_password", "is_postgres_url", "password_in", "shown_url", "user_in",
           "with_password", "without_password"]


@dataclass(frozen=True)
class LedgerLocation:
    file: Path | None = None
    url: str | None = field(default=None, repr=False)  # may hold the password

    def __post_init__(self) -> None:
        if (self.file is None) == (self.url is None):
            raise ValueError("a ledger location is either a file or a team ledger's URL")
        if self.url is not None and not is_postgres_url(self.url):
            raise ValueError("a team ledger's URL starts with postgresql://")

    @classmethod
    def of(cls, target: Path | str | LedgerLocation) -> LedgerLocation:
        if isinstance(target, LedgerLocation):
            return target
        if isinstance(target, str) and is_postgres_url(target):
            return cls(url=target)
        return cls(file=Path(target))

    @property
    def is_team_ledger(self) -> bool:
        return self.url is not None

    @property
    def shown(self) -> str:
        return shown_url(self.url) if self.url is not None else str(self.file)

    def __str__(self) -> str:
        return self.shown


def has_password(url: str) -> bool:
    return urlsplit(url).password is not None


def password_in(url: str) -> str | None:
    """The URL's password, decoded (None when it has none)."""
    password = urlsplit(url).password
    return None if password is None else unquote(password)


def user_in(url: str) -> str:
    return urlsplit(url).username or ""


def without_password(url: str) -> str:
    """The URL with its options (sslmode, …) but no password: what a desk may write into its settings."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, host = _user_and_host(parts.netloc)
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, parts.fragment))


def with_password(url: str, password: str) -> str:
    """The URL with `password` put in (the one from the keyring); a URL that has one already keeps its own."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    if not parts.username:
        raise ValueError("a team ledger's URL needs a user name to go with a password (postgresql://user@host/db)")
    user, host = _user_and_host(parts.netloc)
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _user_and_host(netloc: str) -> tuple[str, str]:
    """The user name as written (still percent-encoded) and the host:port of a URL's network location."""
    userinfo, _, host = netloc.rpartition("@")
    return userinfo.partition(":")[0], host
