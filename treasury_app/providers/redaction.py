"""The one way secrets are kept out of log lines and error texts: a registry of secret strings and a redactor.

Provider clients register every secret they hold (payout key, API secret, each access token) the moment they
get it. From then on `redact()` replaces it wherever it appears, and every log record created in the process
is redacted as it is made (a log-record factory, so that records of httpx, httpcore or any other library are
covered too, not only our own loggers). `ProviderError` redacts its message when it is built. Not logging
secrets in the first place remains the rule; this is the net under it.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

MASK = "***"
# A "secret" shorter than this would garble every log line it matches; credentials refuse such secrets anyway.
MIN_SECRET_LENGTH = 4
# Access tokens come and go; the newest ones are kept (an old one may still be valid until it expires).
MAX_SECRETS = 256


class SecretRegistry:
    """The secrets this process holds, in every spelling they may take on the wire or in a message."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spellings: OrderedDict[str, None] = OrderedDict()

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        # The same secret may show up JSON-escaped (a body) or percent-encoded (a URL).
        spellings = {secret, json.dumps(secret)[1:-1], quote(secret, safe="")}
        with self._lock:
            for spelling in spellings:
                self._spellings.pop(spelling, None)
                self._spellings[spelling] = None
            while len(self._spellings) > MAX_SECRETS:
                self._spellings.popitem(last=False)

    def discard(self, secret: str | None) -> None:
        if not secret:
            return
        with self._lock:
            for spelling in (secret, json.dumps(secret)[1:-1], quote(secret, safe="")):
                self._spellings.pop(spelling, None)

    def redact(self, text: str) -> str:
        with self._lock:
            # Longest first, so that a secret containing another is masked whole.
            spellings = sorted(self._spellings, key=len, reverse=True)
        for spelling in spellings:
            if spelling in text:
                text = text.replace(spelling, MASK)
        return text

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._spellings)


SECRETS = SecretRegistry()


def register_secret(secret: str | None) -> None:
    """Make sure `secret` never appears in a log line or an error text from now on."""
    SECRETS.add(secret)
    install_log_redaction()


def forget_secret(secret: str | None) -> None:
    SECRETS.discard(secret)


def redact(text: str) -> str:
    return SECRETS.redact(text) if SECRETS else text


_install_lock = threading.Lock()
_installed = False


def install_log_redaction() -> None:
    """Wrap the process's log-record factory once, so every record is redacted when it is created."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _installed = True


def redact_record(record: logging.LogRecord) -> None:
    """Freeze the record's message and traceback as redacted text (handlers format them later)."""
    if not SECRETS:
        return
    try:
        message = record.getMessage()
    except Exception:  # a badly formatted log call must not break logging; keep what can be shown
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        # The formatter uses exc_text when set; the live exception objects are no longer needed to print it.
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
