"""Cryptomus request bodies and signs: encode the PHP way, sign exactly the bytes that are sent."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any


def encode_body(data: Mapping[str, Any] | None) -> bytes:
    """The body as Cryptomus' PHP SDK writes it: compact, `/` escaped as `\\/`, non-ASCII as raw UTF-8.

    Keys keep their insertion order. A call without parameters sends `{}` (our decision in cryptomus.md).
    """
    text = json.dumps(dict(data or {}), ensure_ascii=False, separators=(",", ":"))
    # In JSON a `/` can only occur inside a string, so escaping every one is exactly PHP's behaviour.
    return text.replace("/", "\\/").encode("utf-8")


def sign_body(body: bytes, payout_key: str) -> str:
    """`md5(base64(body) + key)` in lowercase hex, over the exact bytes sent."""
    return hashlib.md5(base64.b64encode(body) + payout_key.encode("utf-8")).hexdigest()
