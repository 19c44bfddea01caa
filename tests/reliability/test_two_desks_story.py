"""Two desks, one team ledger on PostgreSQL: each desk a data folder and a home of its own, on a host of its own,
every step a real `python -m treasury_app` process as a script would run it. Desk A reaches the ledger through
TREASURY_LEDGER_URL; desk B was connected once with `ledger connect` (its password in a real Secret Service).

The whole story: the operators set up at both desks, a large payout composed at desk A that needs approval, approved
by another operator at desk B, executed at desk A; a second one executed by both desks at the same moment (one
provider payout, one outcome, the other desk told in words); desk A's `refresh --watch` follows both to completed
at the sandbox; `audit verify` passes at both desks and reaches the same head.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import urlsplit

import pytest
from desk_fixtures import TRON_ADDRESS, password_of, run_app
from provider_fixtures import Sandbox
from reliability_fixtures import DeskHosts, executed, only_executed
from secret_service_bus import secret_service  # noqa: F401 — fixture

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import open_ledger
from treasury_app.ledger.location import without_password
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV
from treasury_app.services.payout_outcomes import CLAIM_HOLDER_KEY
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

BACKENDS = ("postgresql",)
# What the desk that loses the race for the claim may be told (either it lost the compare-and-set, or it read the
# payout after the other desk's claim): words naming the payout, never a traceback.
LOSING_WORDS = ("already sent", "changed while", "cannot be executed")


@dataclass(frozen=True)
class Desk:
    """One desk: its data folder and home, its host, and how it reaches the team ledger."""

    data_dir: Path
    host: str | None
    env: dict[str, str] = field(repr=False)  # a team ledger's URL with its password: never in a test's report

    def run(self, *words: str, acting: str | None = None, stdin: str = "") -> CompletedProcess[str]:
        if acting is not None:
            words = (*words, "--as", acting)
        return run_app(self.data_dir, *words, password=password_of(acting) if acting else None, stdin=stdin,
                       env_extra=self.env, host=self.host)

    def ok(self, *words: str, acting: str | None = None, stdin: str = "") -> str:
        done = self.run(*words, acting=acting, stdin=stdin)
        assert done.returncode == 0, f"{' '.join(words)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def json(self, *words: str, acting: str | None = None) -> Any:
        return json.loads(self.ok(*words, "--json", acting=acting), parse_float=lambda text: pytest.fail(f"float {text} in JSON"))


def make_desk(tmp_path: Path, name: str, host: str | None, sandbox: Sandbox, **env: str) -> Desk:
    home = tmp_path / f"home-{name}"
    home.mkdir()
    return Desk(tmp_path / f"desk-{name}", host, {"HOME": str(home), SANDBOX_URL_ENV: sandbox.base_url, **env})


def new_payout(desk: Desk, provider: str) -> int:
    said = desk.json("payout", "new", "--provider", provider, "--currency", "USDT", "--network", "TRON",
                     "--address", TRON_ADDRESS, "--amount", "1500", acting="alice")
    assert said["payout"]["status"] == "awaiting_approval", said
    return int(said["payout"]["id"])


def test_two_desks_compose_approve_execute_and_follow_payouts_on_one_team_ledger(
        tmp_path, postgres_database, sandbox, desk_hosts: DeskHosts, secret_service):  # noqa: F811
    desk_a = make_desk(tmp_path, "a", desk_hosts.a, sandbox, **{TEAM_LEDGER_ENV: postgres_database})
    desk_b = make_desk(tmp_path, "b", desk_hosts.b, sandbox, **{TEAM_LEDGER_ENV: ""})
    bare = without_password(postgres_database)
    password = urlsplit(postgres_database).password
    connected = desk_b.ok("ledger", "connect", bare, "--password-stdin", stdin=password + "\n")
    assert password not in connected
    said_a, said_b = desk_a.json("ledger", "info"), desk_b.json("ledger", "info")
    assert (said_a["chosen_by"], said_b["chosen_by"]) == (TEAM_LEDGER_ENV, "ledger connect")
    assert said_a["team_ledger"] is said_b["team_ledger"] is True
    assert said_a["ledger_file"] == said_b["ledger_file"]  # one ledger, as each desk names it

    # The operators: the admin set up at desk A, the approver and a second initiator added from desk B.
    desk_a.ok("operator", "add", "root", "--role", "admin", stdin=password_of("root") + "\n")
    desk_a.ok("operator", "add", "alice", "--role", "initiator", acting="root", stdin=password_of("alice") + "\n")
    desk_b.ok("operator", "add", "bob", "--role", "approver", acting="root", stdin=password_of("bob") + "\n")
    desk_b.ok("operator", "add", "carol", "--role", "initiator", acting="root", stdin=password_of("carol") + "\n")
    desk_a.ok("policy", "set", "--currency", "USDT", "--approval-threshold", "1000", acting="root")

    # A large payout composed at desk A waits for a second person, who approves it at desk B; desk A sends it.
    first = new_payout(desk_a, "cryptomus")
    desk_b.ok("payout", "approve", str(first), acting="bob")
    sent = desk_a.ok("payout", "execute", str(first), "--yes", acting="alice")
    assert f"payout {first}: " in sent and "processing" in sent

    # A second one, executed by both desks at the same moment (alice at A, carol at B).
    second = new_payout(desk_a, "pay3")
    desk_b.ok("payout", "approve", str(second), acting="bob")
    with ThreadPoolExecutor(2) as both:
        runs = list(both.map(lambda run: run[0].run("payout", "execute", str(second), "--yes", acting=run[1]),
                             ((desk_a, "alice"), (desk_b, "carol"))))
    winners = [r for r in runs if r.returncode == 0]
    losers = [r for r in runs if r.returncode != 0]
    assert len(winners) == 1 and len(losers) == 1, [(r.returncode, r.stdout, r.stderr) for r in runs]
    told = losers[0].stderr.lower()
    assert f"payout {second}" in told and any(words in told for words in LOSING_WORDS), losers[0].stderr
    assert "Traceback" not in losers[0].stderr

    # The provider finishes both; desk A's poller follows them to completed.
    sandbox.advance(3600)
    watched = [json.loads(line) for line in desk_a.ok("refresh", "--watch", "--json").splitlines()]
    assert {(e["payout_id"], e["after"]) for e in watched if e["event"] == "change"} >= {(first, "completed"),
                                                                                     (second, "completed")}
    assert watched[-1] == {"event": "all_final", "open_payouts": 0}

    with open_ledger(postgres_database) as ledger:
        for payout_id, provider in ((first, "cryptomus"), (second, "pay3")):
            payout = ledger.payouts.get(payout_id)
            shown = desk_b.json("payout", "show", str(payout_id))["payout"]
            assert (shown["status"], shown["provider"], shown["amount"]) == ("completed", provider, "1500")
            row = only_executed(sandbox, payout)  # the sandbox's own books: one payout under the key
            assert row["status"] == {"cryptomus": "paid", "pay3": "COMPLETED"}[provider]
            claims = [e for e in ledger.payouts.events(payout_id) if e.to_status is PayoutStatus.SUBMITTING]
            assert len(claims) == 1, claims  # one outcome in the ledger: one claim, one send
        first_claim = next(e for e in ledger.payouts.events(first) if e.to_status is PayoutStatus.SUBMITTING)
        if desk_hosts.a is not None:
            assert str(first_claim.detail[CLAIM_HOLDER_KEY]).startswith(f"{desk_hosts.a}:")
    assert len(executed(sandbox)) == 2

    heads = []
    for desk in (desk_a, desk_b):
        verdict = desk.ok("audit", "verify").splitlines()
        assert verdict[0].startswith("audit trail intact: "), verdict
        heads.append(next(line for line in verdict if line.startswith("head: ")))
    assert heads[0] == heads[1]
    for desk in (desk_a, desk_b):
        assert not (desk.data_dir / "ledger.sqlite3").exists()  # nothing of the ledger on either desk
