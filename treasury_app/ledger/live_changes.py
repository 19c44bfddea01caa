"""What a ledger tells its followers when another desk commits (a team ledger's `ChangeFeed`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LedgerChange:
    """Payouts another desk added or changed (a change includes an approval given or voided). `everything`: too
    many to name, or announcements may have been missed (a reconnect): re-read what is shown."""

    payout_ids: frozenset[int] = frozenset()
    new_payouts: bool = False
    everything: bool = False

    @classmethod
    def everything_changed(cls) -> LedgerChange:
        return cls(new_payouts=True, everything=True)


@dataclass(frozen=True)
class LedgerReachability:
    """Whether the team ledger's server answers (its change feed's connection says), and if not, why, in words.
    `where` is the server as people may see it (`user@host:port/database`, never the password)."""

    reachable: bool
    where: str
    problem: str = ""


class FollowedChanges(Protocol):
    """A running feed of changes; `stop()` ends it (and waits for its thread)."""

    def stop(self) -> None: ...

    def wait_until_listening(self, timeout: float) -> bool: ...
