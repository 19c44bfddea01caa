"""Which ledger a desk opens: a team ledger on PostgreSQL, or the desk's own SQLite file in its data folder.

In this order: `--ledger` (`explicit`), `TREASURY_LEDGER_URL`, the team ledger set by `treasury-app ledger
connect` (kept in the data folder as `team-ledger.json`: the URL without its password), and else the file
`ledger.sqlite3` of the data folder. A team ledger's password lives in the OS keyring, like every secret, under
the server, user and database it is for; a URL given with its password (flag or environment) keeps its own.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from treasury_app.app_paths import ledger_path
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import open_ledger
from treasury_app.ledger.location import (
    LedgerLocation,
    has_password,
    is_postgres_url,
    password_in,
    shown_url,
    user_in,
    with_password,
    without_password,
)

if TYPE_CHECKING:  # the keyring loads only where a team ledger is used (the window's first paint does without)
    from treasury_app.security.credentials import CredentialStore

TEAM_LEDGER_ENV = "TREASURY_LEDGER_URL"
TEAM_LEDGER_SETTING = "team-ledger.json"
KEYRING_KIND = "team-ledger"  # the keyring entry's user name: "team-ledger:postgresql://user@host:port/db"


class ChosenBy(StrEnum):
    FLAG = "--ledger"
    ENVIRONMENT = TEAM_LEDGER_ENV
    CONNECT = "ledger connect"
    DATA_FOLDER = "data folder"


@dataclass(frozen=True)
class LedgerChoice:
    location: LedgerLocation
    chosen_by: ChosenBy


def choose_ledger(data_dir: Path, explicit: str | None = None, *, environ: Mapping[str, str] | None = None,
                  credentials: CredentialStore | None = None) -> LedgerChoice:
    environ = os.environ if environ is None else environ
    if explicit:
        return LedgerChoice(_location(explicit, "--ledger", credentials), ChosenBy.FLAG)
    if environ.get(TEAM_LEDGER_ENV):
        return LedgerChoice(_location(environ[TEAM_LEDGER_ENV], TEAM_LEDGER_ENV, credentials), ChosenBy.ENVIRONMENT)
    connected = connected_url(data_dir)
    if connected is not None:
        return LedgerChoice(_location(connected, TEAM_LEDGER_SETTING, credentials), ChosenBy.CONNECT)
    return LedgerChoice(LedgerLocation(file=ledger_path(data_dir)), ChosenBy.DATA_FOLDER)


def demo_ledger(data_dir: Path) -> LedgerChoice:
    """The demo folder's own file, never a team ledger (the demo writes made-up payouts)."""
    return LedgerChoice(LedgerLocation(file=ledger_path(data_dir)), ChosenBy.DATA_FOLDER)


def connected_url(data_dir: Path) -> str | None:
    """The team ledger `ledger connect` set for this data folder (no password), or None."""
    setting = data_dir / TEAM_LEDGER_SETTING
    try:
        stored = json.loads(setting.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise InvalidFieldError(TEAM_LEDGER_SETTING, f"cannot be read ({error}); run `treasury-app ledger "
                                                     f"connect` again or delete {setting}") from None
    url = stored.get("url") if isinstance(stored, dict) else None
    if not isinstance(url, str) or not is_postgres_url(url):
        raise InvalidFieldError(TEAM_LEDGER_SETTING, f"holds no postgresql:// URL; run `treasury-app ledger connect` "
                                                     f"again or delete {setting}")
    return url


def team_ledger_location(url: str, password: str | None, *,
                         credentials: CredentialStore | None = None) -> LedgerLocation:
    """The team ledger at `url` with its password: given in the URL or on its own (not both), else the one the
    keyring keeps for it (`ledger connect`), else none (the server may want none, or libpq finds it)."""
    bare, password = _url_and_password(url, password)
    if password:
        return LedgerLocation(url=with_password(bare, password))
    return _location(bare, "url", credentials)


def connect_team_ledger(data_dir: Path, url: str, password: str | None, *,
                        credentials: CredentialStore | None = None) -> LedgerChoice:
    """Make this desk use the team ledger at `url` from now on: reach it (creating its tables on an empty
    database, refusing one that holds other tables), then keep the password in the keyring and the URL, without
    it, in the data folder. Nothing is kept when the server cannot be reached or refuses."""
    bare, password = _url_and_password(url, password)
    full = with_password(bare, password) if password else bare
    with open_ledger(LedgerLocation(url=full)):
        pass  # reached, ours (or made ours) and at this version's schema
    from treasury_app.security.credentials import (
        CredentialStore,
        KeyringUnavailableError,
    )

    store = credentials or CredentialStore()
    if password:
        store.store(KEYRING_KIND, shown_url(bare), password)
    else:
        try:
            store.delete(KEYRING_KIND, shown_url(bare))  # a password kept from before would be sent again
        except KeyringUnavailableError:
            pass
    _write_setting(data_dir, {"url": bare})
    return LedgerChoice(LedgerLocation(url=full), ChosenBy.CONNECT)


def disconnect_team_ledger(data_dir: Path, *, credentials: CredentialStore | None = None) -> str | None:
    """Back to the data folder's own file: the setting and its keyring entry removed. The URL it was (shown), or
    None when none was set. The team ledger itself is untouched."""
    url = connected_url(data_dir)
    if url is None:
        return None
    (data_dir / TEAM_LEDGER_SETTING).unlink()
    from treasury_app.security.credentials import (
        CredentialStore,
        KeyringUnavailableError,
    )

    try:
        (credentials or CredentialStore()).delete(KEYRING_KIND, shown_url(url))
    except KeyringUnavailableError:
        pass  # nothing will read it again; the keyring's owner may remove it
    return shown_url(url)


def _location(url_or_path: str, where: str, credentials: CredentialStore | None) -> LedgerLocation:
    if not is_postgres_url(url_or_path):
        if "://" in url_or_path:
            _check_url(url_or_path, where)
        return LedgerLocation(file=Path(url_or_path).expanduser().resolve())
    if has_password(url_or_path) or not user_in(url_or_path):
        return LedgerLocation(url=url_or_path)
    password = kept_password(url_or_path, credentials=credentials)
    # No password kept: the server may not want one (certificates, peer), or libpq finds it (~/.pgpass).
    return LedgerLocation(url=with_password(url_or_path, password) if password else url_or_path)


def kept_password(url: str, *, credentials: CredentialStore | None = None) -> str | None:
    """The password the keyring keeps for this server, user and database (`ledger connect`), if any."""
    from treasury_app.security.credentials import (
        CredentialNotFoundError,
        CredentialStore,
        KeyringUnavailableError,
    )

    try:
        return (credentials or CredentialStore()).read(KEYRING_KIND, shown_url(url))
    except (CredentialNotFoundError, KeyringUnavailableError):
        return None


def _url_and_password(url: str, password: str | None) -> tuple[str, str | None]:
    """The URL without its password, and the password: from the URL or given on its own, never both."""
    _check_url(url, "url")
    if has_password(url):
        if password:
            raise InvalidFieldError("password", "is given twice: in the URL and on its own; give it once")
        return without_password(url), password_in(url)
    return url, password


def _check_url(url: str, field: str) -> None:
    if not is_postgres_url(url):
        raise InvalidFieldError(field, "must be a PostgreSQL URL: postgresql://user@host:5432/database")


def _write_setting(data_dir: Path, value: dict[str, str]) -> None:
    """Written whole or not at all: a temporary file beside it, then renamed over it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".team-ledger-", suffix=".json", dir=data_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(value, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, data_dir / TEAM_LEDGER_SETTING)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
