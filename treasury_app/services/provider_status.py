"""What the desk knows of a provider's reachability, as a value the window shows: kept apart from
`provider_health`, which learns it from the providers' calls, so that the window's status bar can be drawn
before any provider client is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Reachability(StrEnum):
    NOT_ASKED = "not asked yet"
    ANSWERING = "answering"
    BUSY = "busy (asked to wait)"
    UNREACHABLE = "not answering"


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    reachability: Reachability = Reachability.NOT_ASKED
    last_asked_at: datetime | None = None
    last_answer_at: datetime | None = None
    problem: str | None = None  # why the last call got no usable answer
