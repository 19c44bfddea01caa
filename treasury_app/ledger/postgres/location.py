"""A team ledger's address: a `postgresql://` URL, shown back without its password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(text: str) -> bool:
    return urlsplit(str(text)).scheme in SCHEMES


def shown_url(url: str) -> str:
    """The URL as people may see it: `postgresql://user@host:port/database`, never the password or options."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    where = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        where += f":{parts.port}"
    return urlunsplit(("postgresql", where, parts.path or "/", "", ""))
