"""The catalogue of what can be paid: networks (with their address format) and currency + network pairs.

Codes are the app's own, in upper case; each provider module maps them to its wire codes
(Cryptomus `USDT`/`tron`, Pay3 `USDT-TRON`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import InvalidFieldError


class AddressFormat(StrEnum):
    """How a network writes its addresses; `domain.addresses` validates each one."""

    BITCOIN = "bitcoin"
    BITCOIN_TESTNET = "bitcoin_testnet"
    LITECOIN = "litecoin"
    DOGECOIN = "dogecoin"
    EVM = "evm"
    TRON = "tron"
    TON = "ton"
    SOLANA = "solana"


@dataclass(frozen=True)
class Network:
    code: str
    name: str
    address_format: AddressFormat
    # Cryptomus accepts `priority` only on these networks; it changes the network fee.
    supports_priority: bool = False
    # A memo (comment/tag) travels with the transfer on TON; exchanges need it to credit a deposit.
    supports_memo: bool = False
    memo_max_length: int = 0
    # Where a person can look a transaction up; `{tx}` is replaced by the hash.
    explorer_tx_url: str = ""
    is_testnet: bool = False

    def explorer_link(self, tx_hash: str) -> str:
        return self.explorer_tx_url.format(tx=tx_hash) if self.explorer_tx_url else ""


@dataclass(frozen=True)
class Asset:
    """A currency on one network, e.g. USDT on TRON, with the decimal places its amounts may have."""

    currency: str
    network: Network
    decimals: int

    @property
    def code(self) -> str:
        return f"{self.currency}-{self.network.code}"

    @property
    def display_places(self) -> int:
        """The decimals a person sees at least (an amount's further digits are always shown too): cents for
        stablecoins, satoshis for Bitcoin's family, six places for the 18-decimal EVM coins."""
        if self.currency in STABLECOINS:
            return min(2, self.decimals)
        return min(self.decimals, 8 if self.network.address_format in _SATOSHI_FORMATS else 6)

    def __str__(self) -> str:
        return f"{self.currency} on {self.network.name}"


STABLECOINS = frozenset({"USDT", "USDC"})
_SATOSHI_FORMATS = frozenset({AddressFormat.BITCOIN, AddressFormat.BITCOIN_TESTNET, AddressFormat.LITECOIN,
                              AddressFormat.DOGECOIN})

NETWORKS: dict[str, Network] = {
    n.code: n
    for n in (
        Network("BTC", "Bitcoin", AddressFormat.BITCOIN, supports_priority=True,
                explorer_tx_url="https://mempool.space/tx/{tx}"),
        Network("BTC_TESTNET", "Bitcoin testnet", AddressFormat.BITCOIN_TESTNET, supports_priority=True,
                explorer_tx_url="https://mempool.space/testnet/tx/{tx}", is_testnet=True),
        Network("LTC", "Litecoin", AddressFormat.LITECOIN,
                explorer_tx_url="https://litecoinspace.org/tx/{tx}"),
        Network("DOGE", "Dogecoin", AddressFormat.DOGECOIN,
                explorer_tx_url="https://dogechain.info/tx/{tx}"),
        Network("ETH", "Ethereum", AddressFormat.EVM, supports_priority=True,
                explorer_tx_url="https://etherscan.io/tx/{tx}"),
        Network("BSC", "BNB Smart Chain", AddressFormat.EVM, supports_priority=True,
                explorer_tx_url="https://bscscan.com/tx/{tx}"),
        Network("POLYGON", "Polygon", AddressFormat.EVM, supports_priority=True,
                explorer_tx_url="https://polygonscan.com/tx/{tx}"),
        Network("TRON", "Tron", AddressFormat.TRON,
                explorer_tx_url="https://tronscan.org/#/transaction/{tx}"),
        Network("TON", "TON", AddressFormat.TON, supports_memo=True, memo_max_length=30,
                explorer_tx_url="https://tonviewer.com/transaction/{tx}"),
        Network("SOL", "Solana", AddressFormat.SOLANA,
                explorer_tx_url="https://solscan.io/tx/{tx}"),
    )
}


def _asset(currency: str, network: str, decimals: int) -> Asset:
    return Asset(currency, NETWORKS[network], decimals)


# Decimals are the token's own on that chain (USDT has 6 on TRON/ETH/POLYGON but 18 on BSC).
ASSETS: dict[tuple[str, str], Asset] = {
    (a.currency, a.network.code): a
    for a in (
        _asset("BTC", "BTC", 8),
        _asset("BTC", "BTC_TESTNET", 8),
        _asset("LTC", "LTC", 8),
        _asset("DOGE", "DOGE", 8),
        _asset("ETH", "ETH", 18),
        _asset("BNB", "BSC", 18),
        _asset("POL", "POLYGON", 18),
        _asset("TRX", "TRON", 6),
        _asset("TON", "TON", 9),
        _asset("SOL", "SOL", 9),
        _asset("USDT", "TRON", 6),
        _asset("USDT", "ETH", 6),
        _asset("USDT", "BSC", 18),
        _asset("USDT", "POLYGON", 6),
        _asset("USDT", "TON", 6),
        _asset("USDT", "SOL", 6),
        _asset("USDC", "ETH", 6),
        _asset("USDC", "BSC", 18),
        _asset("USDC", "POLYGON", 6),
        _asset("USDC", "SOL", 6),
    )
}


def find_asset(currency: str, network: str | None = None) -> Asset:
    """The asset for a currency and network code (case-insensitive).

    The network may be left out only when the currency lives on exactly one network, as Cryptomus allows.
    """
    cur = known_currency(currency)
    on_networks = [a for (c, _), a in ASSETS.items() if c == cur]
    if network is None or not network.strip():
        if len(on_networks) == 1:
            return on_networks[0]
        codes = ", ".join(a.network.code for a in on_networks)
        raise InvalidFieldError("network", f"{cur} exists on several networks; choose one of {codes}")
    net = network.strip().upper()
    asset = ASSETS.get((cur, net))
    if asset is None:
        codes = ", ".join(a.network.code for a in on_networks)
        raise InvalidFieldError("network", f"{cur} is not available on '{network}'; choose one of {codes}")
    return asset


def known_currency(currency: str) -> str:
    """The currency's code in upper case; `InvalidFieldError` when it is empty or not in the catalogue."""
    cur = (currency or "").strip().upper()
    if not cur:
        raise InvalidFieldError("currency", "is empty")
    if not any(c == cur for c, _ in ASSETS):
        raise InvalidFieldError("currency", f"'{currency}' is not a currency this app knows")
    return cur


def currencies() -> list[str]:
    """Every currency code of the catalogue, sorted."""
    return sorted({c for c, _ in ASSETS})


def decimals_of(currency: str) -> int:
    """The most decimal places the currency has on any network (for totals across networks)."""
    found = [a.decimals for (c, _), a in ASSETS.items() if c == currency.upper()]
    if not found:
        raise InvalidFieldError("currency", f"'{currency}' is not a currency this app knows")
    return max(found)
