"""Faults the sandbox injects on purpose, so reliability tests meet every way a provider call can go wrong.

A fault is written `PROVIDER:ENDPOINT:KIND[=VALUE][:COUNT]`, e.g. `cryptomus:create:500`,
`pay3:execute:commit-drop:1`, `any:any:latency=0.5`. Without COUNT a fault is sticky; with it, it hits the
next COUNT matching calls and then disappears.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

ENDPOINTS: dict[str, tuple[str, ...]] = {
    "cryptomus": ("create", "info", "list", "services", "balance"),
    "pay3": ("token", "create", "execute", "details"),
}
ANY = "*"


class FaultKind(StrEnum):
    LATENCY = "latency"  # wait VALUE seconds, then answer normally
    SERVER_ERROR = "500"  # HTTP 500 with the provider's server-error body; nothing done
    RATE_LIMITED = "429"  # HTTP 429 with Retry-After: VALUE (default 1); nothing done
    DROP = "drop"  # close the TCP connection without any answer; nothing done
    MALFORMED = "malformed"  # HTTP 200 whose JSON body is cut off; nothing done
    HTML = "html"  # HTTP 502 with a proxy's HTML error page; nothing done
    COMMIT_DROP = "commit-drop"  # do the work (create the payout), then close without any answer


FAULT_SYNTAX_HELP = """\
PROVIDER  cryptomus | pay3 | any
ENDPOINT  cryptomus: create info list services balance
          pay3:      token create execute details
          any
KIND      latency=SECONDS   answer normally after a delay
          500               HTTP 500, the provider's server-error body
          429[=SECONDS]     HTTP 429 with Retry-After (default 1)
          drop              close the connection, no answer
          malformed         HTTP 200 with a cut-off JSON body
          html              HTTP 502 with an HTML error page
          commit-drop       create the payout, then close with no answer
COUNT     hit the next COUNT calls only (default: every call)"""


class FaultSpecError(ValueError):
    """A fault written in a way the grammar does not allow; the message says what to change."""


@dataclass(frozen=True)
class FaultRule:
    provider: str
    endpoint: str
    kind: FaultKind
    value: float | None = None
    count: int | None = None

    def matches(self, provider: str, endpoint: str) -> bool:
        return self.provider in (ANY, provider) and self.endpoint in (ANY, endpoint)

    @property
    def retry_after(self) -> int:
        return max(0, round(self.value if self.value is not None else 1))

    def spec(self) -> str:
        """The rule written back in the command-line grammar."""
        provider = "any" if self.provider == ANY else self.provider
        endpoint = "any" if self.endpoint == ANY else self.endpoint
        kind = str(self.kind) if self.value is None else f"{self.kind}={self.value:g}"
        text = f"{provider}:{endpoint}:{kind}"
        return text if self.count is None else f"{text}:{self.count}"


def parse_fault(spec: str) -> FaultRule:
    """Read one fault in the grammar of `FAULT_SYNTAX_HELP`."""
    parts = spec.strip().split(":")
    if len(parts) not in (3, 4):
        raise FaultSpecError(f"'{spec}': write PROVIDER:ENDPOINT:KIND[=VALUE][:COUNT], e.g. cryptomus:create:500")
    provider = _parse_provider(parts[0].strip().lower(), spec)
    endpoint = _parse_endpoint(provider, parts[1].strip().lower(), spec)
    kind, value = _parse_kind(parts[2].strip().lower(), spec)
    count = _parse_count(parts[3].strip(), spec) if len(parts) == 4 else None
    return FaultRule(provider, endpoint, kind, value, count)


def fault_from_json(item: object) -> FaultRule:
    """A fault sent to the control endpoint: a spec string, or an object with the same parts."""
    if isinstance(item, str):
        return parse_fault(item)
    if not isinstance(item, dict):
        raise FaultSpecError("a fault is a string like 'cryptomus:create:500' or an object with provider, "
                             "endpoint, kind, and optionally value and count")
    kind = str(item.get("kind", ""))
    if item.get("value") is not None:
        kind = f"{kind}={item['value']}"
    spec = f"{item.get('provider', 'any')}:{item.get('endpoint', 'any')}:{kind}"
    if item.get("count") is not None:
        spec = f"{spec}:{item['count']}"
    return parse_fault(spec)


def _parse_provider(text: str, spec: str) -> str:
    if text in ("any", ANY):
        return ANY
    if text not in ENDPOINTS:
        raise FaultSpecError(f"'{spec}': provider '{text}' is not one of cryptomus, pay3, any")
    return text


def _parse_endpoint(provider: str, text: str, spec: str) -> str:
    if text in ("any", ANY):
        return ANY
    known = ENDPOINTS[provider] if provider != ANY else tuple(sorted({e for es in ENDPOINTS.values() for e in es}))
    if text not in known:
        raise FaultSpecError(f"'{spec}': endpoint '{text}' is not one of {', '.join(known)}, any")
    return text


def _parse_kind(text: str, spec: str) -> tuple[FaultKind, float | None]:
    name, has_value, raw_value = text.partition("=")
    try:
        kind = FaultKind(name)
    except ValueError:
        names = ", ".join(k.value for k in FaultKind)
        raise FaultSpecError(f"'{spec}': kind '{name}' is not one of {names}") from None
    if not has_value:
        if kind is FaultKind.LATENCY:
            raise FaultSpecError(f"'{spec}': latency needs seconds, e.g. latency=2.5")
        return kind, None
    if kind not in (FaultKind.LATENCY, FaultKind.RATE_LIMITED):
        raise FaultSpecError(f"'{spec}': only latency and 429 take a value")
    try:
        value = float(raw_value)
    except ValueError:
        raise FaultSpecError(f"'{spec}': '{raw_value}' is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise FaultSpecError(f"'{spec}': seconds must be between 0 and 3600")
    return kind, value


def _parse_count(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise FaultSpecError(f"'{spec}': COUNT must be a whole number of calls, 1 or more")
    return int(text)


@dataclass(frozen=True)
class DrawnFaults:
    """What happens to one call: a delay first, then at most one fault instead of (or after) the work."""

    latency: float = 0.0
    fault: FaultRule | None = None


class FaultBoard:
    """The faults in force; calls on any thread draw from it, counted faults wear out as they hit."""

    def __init__(self, rules: tuple[FaultRule, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._active: list[list] = []  # [rule, calls left or None]
        self.replace(rules)

    def replace(self, rules: tuple[FaultRule, ...] | list[FaultRule]) -> None:
        with self._lock:
            self._active = [[rule, rule.count] for rule in rules]

    def add(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._active.extend([rule, rule.count] for rule in rules)

    def clear(self) -> None:
        self.replace(())

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [{"fault": rule.spec(), "remaining": left} for rule, left in self._active]

    def draw(self, provider: str, endpoint: str) -> DrawnFaults:
        latency = 0.0
        fault: FaultRule | None = None
        with self._lock:
            for entry in self._active:
                rule = entry[0]
                if not rule.matches(provider, endpoint):
                    continue
                if rule.kind is FaultKind.LATENCY:
                    latency += rule.value or 0.0
                elif fault is None:
                    fault = rule
                else:
                    continue
                if entry[1] is not None:
                    entry[1] -= 1
            self._active = [entry for entry in self._active if entry[1] is None or entry[1] > 0]
        return DrawnFaults(latency, fault)
