"""What a payout provider accepts for a payout's choices (network, who pays the fee, priority, memo) and what it
takes when a person leaves a choice out. Each provider module states its own; the command line and the compose
form read the same value, so a default is never one the provider refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assets import ASSETS, NETWORKS, Asset, find_asset, known_currency
from .errors import InvalidFieldError
from .payout_request import FeeMode, Priority


class UnsupportedChoiceError(InvalidFieldError):
    """A choice the provider does not take: `field`, what was asked (`requested`), and what it `allowed`
    (values, possibly none). `reason` is the sentence without the field's name, for a face to word its own."""

    def __init__(self, field: str, capabilities: ProviderCapabilities, requested: str, reason: str,
                 allowed: tuple[str, ...]) -> None:
        self.provider = capabilities.provider
        self.provider_title = capabilities.title
        self.requested = requested
        self.reason = reason
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(field, f"{reason} (allowed: {allowed_text})")


@dataclass(frozen=True)
class ProviderCapabilities:
    """One provider's choices. Network and asset codes are the catalogue's (`TRON`, `USDT-TRON`)."""

    provider: str  # its name, as in `payout_request.PROVIDERS`
    title: str
    fee_modes: tuple[FeeMode, ...]  # what it accepts, its default first
    networks: frozenset[str]  # where it pays out at all
    # The assets it pays, when fixed by its profile (Pay3's agreed currencies); None: every asset of the
    # catalogue on `networks`, and the provider's own list, read at run time (`payout_options`), has the last word.
    assets: frozenset[str] | None = None
    priorities: tuple[Priority, ...] = ()  # accepted on `priority_networks` only
    priority_networks: frozenset[str] = frozenset()
    # Taken where the network takes a priority and none was chosen; None: nothing is sent, the provider decides.
    default_priority: Priority | None = None
    memo_networks: frozenset[str] = frozenset()
    # Whether its payout options carry a minimum and maximum amount (Cryptomus' services list does; Pay3
    # publishes none, and only its estimate can refuse an amount).
    publishes_limits: bool = False

    def __post_init__(self) -> None:
        if not self.fee_modes:
            raise ValueError(f"{self.provider}: a provider takes its fee in at least one way")
        if self.default_priority is not None and self.default_priority not in self.priorities:
            raise ValueError(f"{self.provider}: the default priority must be one it accepts")

    @property
    def default_fee_mode(self) -> FeeMode:
        return self.fee_modes[0]

    def takes_priority_on(self, network_code: str) -> bool:
        return bool(self.priorities) and network_code in self.priority_networks

    def takes_memo_on(self, network_code: str) -> bool:
        return network_code in self.memo_networks

    def pays(self, asset: Asset) -> bool:
        return asset.network.code in self.networks and (self.assets is None or asset.code in self.assets)

    def assets_of(self, currency: str) -> tuple[Asset, ...]:
        """The catalogue's assets of `currency` that it pays, in catalogue order."""
        code = currency.strip().upper()
        return tuple(asset for (cur, _), asset in ASSETS.items() if cur == code and self.pays(asset))

    @property
    def paid_assets(self) -> tuple[Asset, ...]:
        return tuple(asset for asset in ASSETS.values() if self.pays(asset))

    # --- choosing ------------------------------------------------------------------------------------

    def asset_for(self, currency: str, network: str | None) -> Asset:
        """The asset asked for; with no network, the only one it pays the currency on. Refused assets raise
        `UnsupportedChoiceError`; a currency it pays on several networks needs the network (`InvalidFieldError`)."""
        if network is not None and network.strip():
            asset = find_asset(currency, network)
            self.check_asset(asset)
            return asset
        code = known_currency(currency)
        offered = self.assets_of(code)
        if len(offered) == 1:
            return offered[0]
        if not offered:
            raise self._currency_refused(code)
        codes = ", ".join(asset.network.code for asset in offered)
        raise InvalidFieldError("network", f"{self.title} pays {code} on several networks; choose one of {codes}")

    def fee_mode_for(self, requested: FeeMode | None) -> FeeMode:
        """The fee mode asked for, or the default when none was; `UnsupportedChoiceError` if refused."""
        if requested is None:
            return self.default_fee_mode
        if requested not in self.fee_modes:
            raise UnsupportedChoiceError("fee_mode", self, requested.value, self._fee_reason(),
                                         tuple(mode.value for mode in self.fee_modes))
        return requested

    def priority_for(self, requested: Priority | None, asset: Asset) -> Priority | None:
        """The priority asked for, or the default where the network takes one; refused where it takes none."""
        network = asset.network
        if requested is None:
            return self.default_priority if self.takes_priority_on(network.code) else None
        if not self.priorities:
            raise UnsupportedChoiceError("priority", self, requested.value, f"{self.title} takes no priority", ())
        if not self.takes_priority_on(network.code):
            raise UnsupportedChoiceError(
                "priority", self, requested.value,
                f"{self.title} takes a priority on {self._network_names(self.priority_networks)} only, not on "
                f"{network.name}", ())
        if requested not in self.priorities:
            raise UnsupportedChoiceError("priority", self, requested.value,
                                         f"{self.title} does not take the priority '{requested.value}'",
                                         tuple(level.value for level in self.priorities))
        return requested

    def check_memo(self, memo: str | None, asset: Asset) -> None:
        if memo and not self.takes_memo_on(asset.network.code):
            where = (f"a memo on {self._network_names(self.memo_networks)} only, not on {asset.network.name}"
                     if self.memo_networks else "no memo")
            raise UnsupportedChoiceError("memo", self, memo, f"{self.title} takes {where}", ())

    def check_asset(self, asset: Asset) -> None:
        """Refuses an asset it does not pay, naming the networks it pays that currency on (or its currencies)."""
        if self.pays(asset):
            return
        offered = self.assets_of(asset.currency)
        if not offered:
            raise self._currency_refused(asset.currency)
        names = _joined([a.network.name for a in offered])
        raise UnsupportedChoiceError("network", self, asset.network.code,
                                     f"{self.title} pays {asset.currency} on {names} only, not on "
                                     f"{asset.network.name}", tuple(a.network.code for a in offered))

    def choice_problems(self, asset: Asset, fee_mode: FeeMode | None, priority: Priority | None,
                        memo: str | None) -> list[UnsupportedChoiceError]:
        """Every refused choice at once (the compose form shows each beside its field)."""
        problems = []
        for check in (lambda: self.check_asset(asset), lambda: self.fee_mode_for(fee_mode),
                      lambda: self.priority_for(priority, asset), lambda: self.check_memo(memo, asset)):
            try:
                check()
            except UnsupportedChoiceError as problem:
                problems.append(problem)
        return problems

    # --- wording -------------------------------------------------------------------------------------

    def _currency_refused(self, currency: str) -> UnsupportedChoiceError:
        paid = tuple(sorted({asset.currency for asset in self.paid_assets}))
        return UnsupportedChoiceError("currency", self, currency, f"{self.title} does not pay out {currency}", paid)

    def _fee_reason(self) -> str:
        if self.fee_modes == (FeeMode.FROM_AMOUNT,):
            return f"{self.title} always takes its fee from the amount"
        if self.fee_modes == (FeeMode.FROM_BALANCE,):
            return f"{self.title} always takes its fee from the balance"
        return f"{self.title} does not take its fee that way"

    @staticmethod
    def _network_names(codes: frozenset[str]) -> str:
        return _joined([network.name for code, network in NETWORKS.items() if code in codes])


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
