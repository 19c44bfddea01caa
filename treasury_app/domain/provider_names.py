"""The providers the app knows, by the name the ledger stores and the title people know them by.

Here, in the pure layer, so that a face can name a provider (the window's first paint, a report) without
loading the providers' clients; `providers.kinds` takes its titles from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PROVIDER_TITLES: Mapping[str, str] = MappingProxyType({"cryptomus": "Cryptomus", "pay3": "Pay3"})


def provider_title(name: str) -> str:
    """The provider's title ("Pay3"), or the name as stored for a provider this version does not know."""
    return PROVIDER_TITLES.get(name, name)
