"""What a sandbox run simulates: credentials, balances, services, currencies, pace and faults.

Every default credential is fixed, published and obviously fake: the sandbox moves no money, and anyone who
can reach it may use it (which is why it binds to loopback unless told otherwise).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from treasury_app.domain.assets import Asset, find_asset

from .faults import FaultRule

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
DEFAULT_CRYPTOMUS_MERCHANT = "8b7ef1b6-5c1f-4f0b-9b44-5a9d4b3c2a10"
DEFAULT_CRYPTOMUS_PAYOUT_KEY = "sandbox-cryptomus-payout-key"
DEFAULT_PAY3_CLIENT_ID = "sandbox-client"
DEFAULT_PAY3_API_SECRET = "sandbox-pay3-api-secret"


@dataclass(frozen=True)
class CryptomusService:
    """One line of `/v1/payout/services`: a currency on a network, its limits and its commission.

    `network` is Cryptomus's network code, which for every network it shares with the app's catalogue is the
    catalogue's own code (TRON, ETH, BSC, ...).
    """

    currency: str
    network: str
    min_amount: Decimal
    max_amount: Decimal
    fee_amount: Decimal
    percent: Decimal = Decimal("0")
    is_available: bool = True

    @property
    def asset(self) -> Asset:
        return find_asset(self.currency, self.network)


@dataclass(frozen=True)
class Pay3Currency:
    """A Pay3 currency code the client may use, the catalogue asset it means, and Pay3's fee for a payout."""

    code: str
    currency: str
    network: str
    fee: Decimal

    @property
    def asset(self) -> Asset:
        return find_asset(self.currency, self.network)


def _services(*rows: tuple[str, str, str, str, str, str, bool]) -> tuple[CryptomusService, ...]:
    return tuple(
        CryptomusService(cur, net, Decimal(lo), Decimal(hi), Decimal(fee), Decimal(pct), available)
        for cur, net, lo, hi, fee, pct, available in rows
    )


DEFAULT_CRYPTOMUS_SERVICES = _services(
    # USDT on TRON reproduces the documented messages "Minimum amount 0.5 USDT" / "Maximum amount 10000000 USDT"
    # and the webhook example's commission of 1 USDT.
    ("USDT", "TRON", "0.5", "10000000", "1", "0", True),
    ("USDT", "ETH", "5", "10000000", "3.5", "0", True),
    ("USDT", "BSC", "0.5", "10000000", "0.3", "0", True),
    ("USDT", "POLYGON", "0.5", "10000000", "0.2", "0", True),
    ("USDT", "TON", "0.5", "10000000", "0.1", "0", True),
    ("USDT", "SOL", "0.5", "10000000", "0.5", "0", True),
    ("USDC", "ETH", "5", "10000000", "3.5", "0", True),
    ("USDC", "POLYGON", "0.5", "10000000", "0.2", "0.5", True),
    # Listed but switched off: paying it answers "The service was not found".
    ("USDC", "BSC", "1", "10000000", "0.2", "0", False),
    ("BTC", "BTC", "0.0001", "1000", "0.00002", "0", True),
    ("ETH", "ETH", "0.001", "10000", "0.0005", "0", True),
    ("LTC", "LTC", "0.01", "100000", "0.0001", "0", True),
    # A service without a merchant wallet: paying it answers "Wallet not found".
    ("DOGE", "DOGE", "10", "10000000", "2", "0", True),
    ("TRX", "TRON", "1", "10000000", "1", "0", True),
    ("TON", "TON", "0.1", "1000000", "0.02", "0", True),
    ("SOL", "SOL", "0.01", "100000", "0.0001", "0", True),
    ("BNB", "BSC", "0.001", "10000", "0.0003", "0", True),
    ("POL", "POLYGON", "1", "10000000", "0.05", "0", True),
)


def _decimals(**values: str) -> Mapping[str, Decimal]:
    return MappingProxyType({k: Decimal(v) for k, v in values.items()})


DEFAULT_CRYPTOMUS_BALANCES = _decimals(
    USDT="25000", USDC="10000", BTC="1.5", ETH="20", LTC="50", TRX="10000", TON="2000", SOL="100", BNB="10",
    POL="5000",
)
DEFAULT_USD_RATES = _decimals(
    USDT="1", USDC="1", BTC="60000", ETH="3000", LTC="80", DOGE="0.15", TRX="0.12", TON="5", SOL="150", BNB="550",
    POL="0.5",
)
DEFAULT_FIAT_USD_RATES = _decimals(USD="1", EUR="1.08")

DEFAULT_PAY3_CURRENCIES = (
    Pay3Currency("BTC-BitcoinTestnet", "BTC", "BTC_TESTNET", Decimal("0.000066")),
    Pay3Currency("USDT-TRON", "USDT", "TRON", Decimal("1.5")),
    Pay3Currency("USDT-ETH", "USDT", "ETH", Decimal("4.2")),
    Pay3Currency("ETH-Ethereum", "ETH", "ETH", Decimal("0.0009")),
)
# BTC and ETH sit under the default threshold of 100, so their estimates carry the low-balance warning.
DEFAULT_PAY3_BALANCES = _decimals(**{
    "BTC-BitcoinTestnet": "0.5", "USDT-TRON": "25000", "USDT-ETH": "10000", "ETH-Ethereum": "12",
})


def _mapping(default: Mapping[str, Decimal]) -> Any:
    # A mapping is not hashable, so it takes no part in the config's hash.
    return field(default_factory=lambda: default, hash=False)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox run needs; `dataclasses.replace` makes a variant for a test.

    Times are in seconds. `speed` multiplies the pace of payout statuses (50: what takes a provider a minute
    takes about a second); token lifetimes stay real, because clients trust `expiresIn`.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow_remote: bool = False
    seed: int = 0
    speed: float = 1.0

    cryptomus_merchant: str = DEFAULT_CRYPTOMUS_MERCHANT
    cryptomus_payout_key: str = DEFAULT_CRYPTOMUS_PAYOUT_KEY
    cryptomus_services: tuple[CryptomusService, ...] = DEFAULT_CRYPTOMUS_SERVICES
    # Merchant wallets by currency; a currency missing here has no wallet.
    cryptomus_balances: Mapping[str, Decimal] = _mapping(DEFAULT_CRYPTOMUS_BALANCES)
    # For `balance_usd` and for conversions (fiat `currency` with `to_currency`, `from_currency` USDT).
    cryptomus_usd_rates: Mapping[str, Decimal] = _mapping(DEFAULT_USD_RATES)
    cryptomus_fiat_usd_rates: Mapping[str, Decimal] = _mapping(DEFAULT_FIAT_USD_RATES)
    cryptomus_forbidden: bool = False
    cryptomus_terminal_not_found: bool = False
    cryptomus_page_size: int = 15
    # Shares of payouts that end in `fail` and `system_fail`, drawn per order_id by the seed; by default none:
    # every payout ends `paid` except the test amounts (status_plans.fate_of_amount).
    cryptomus_fail_share: float = 0.0
    cryptomus_system_fail_share: float = 0.0

    pay3_client_id: str = DEFAULT_PAY3_CLIENT_ID
    pay3_api_secret: str = DEFAULT_PAY3_API_SECRET
    pay3_token_lifetime: int = 3600
    pay3_currencies: tuple[Pay3Currency, ...] = DEFAULT_PAY3_CURRENCIES
    pay3_balances: Mapping[str, Decimal] = _mapping(DEFAULT_PAY3_BALANCES)
    pay3_low_balance_threshold: Decimal = Decimal("100")
    # An estimate that is not executed within this time ends ABANDONED. `speed` does not shorten it: a desk
    # renews an estimate by its age on its own clock (10 minutes), so at --speed 50 a compressed lifetime
    # (18 s) would expire under a person still typing the approval.
    pay3_estimate_lifetime: int = 900
    pay3_fail_share: float = 0.0  # executed orders that end FAILED, drawn per requestId by the seed
    # Pay3 sends error codes as strings or numbers; the sandbox sends strings unless told otherwise.
    pay3_numeric_error_codes: bool = False

    faults: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be greater than zero")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")
        if self.pay3_token_lifetime <= 0:
            raise ValueError("pay3_token_lifetime must be positive")
        if self.cryptomus_page_size <= 0:
            raise ValueError("cryptomus_page_size must be positive")
        shares = (self.cryptomus_fail_share, self.cryptomus_system_fail_share, self.pay3_fail_share)
        if any(not 0 <= share <= 1 for share in shares) or sum(shares[:2]) > 1:
            raise ValueError("failure shares must be between 0 and 1 (Cryptomus' two together at most 1)")
        # A service or currency the catalogue does not know is refused now, not at the first payout.
        for item in (*self.cryptomus_services, *self.pay3_currencies):
            find_asset(item.currency, item.network)

    @property
    def host_is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def pay3_currency(self, code: str) -> Pay3Currency | None:
        return next((c for c in self.pay3_currencies if c.code.lower() == code.lower()), None)


def random_failure_shares(rate: float) -> dict[str, float]:
    """The config fields that make a share `rate` of payouts fail at random (by the seed), as `--failure-rate`
    does: Cryptomus ends four in five of them `fail` and one `system_fail`, Pay3 all `FAILED`."""
    if not 0 <= rate <= 1:
        raise ValueError(f"a failure rate is between 0 and 1, not {rate}")
    return {"cryptomus_fail_share": rate * 0.8, "cryptomus_system_fail_share": rate * 0.2, "pay3_fail_share": rate}


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
