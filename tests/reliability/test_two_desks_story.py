"""Two desks, one team ledger on PostgreSQL: each desk a data folder and a home of its own, on a host of its own,
every step a real `python -m treasury_app` process as a script would run it. Desk A reaches the ledger through
TREASURY_LEDGER_URL; desk B was connected once with `ledger connect` (its password in a real Secret Service).

The whole story: the operators set up at both desks, a large payout composed at desk A that needs approval, approved
by another operator at desk B, executed at desk A; a second one executed by both desks at the same moment (one
provider payout, one outcome, the other desk told in words); desk A's `refresh --watch` follows both to completed
at the sandbox; `audit verify` passes at both desks and reaches the same head. And desk A's poller killed: desk B
polls once the server has freed desk A's poll leases, and says while they are held that another desk polls.
"""

from __future__ import annotations

import json
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from desk_fixtures import TRON_ADDRESS, app_invocation, password_of, run_app
from provider_fixtures import Sandbox
from reliability_fixtures import (
    PROCESS_TIMEOUT,
    PROVIDERS,
    DeskHosts,
    approved_payout,
    executed,
    only_executed,
    wait_until,
)
from secret_service_bus import secret_service  # noqa: F401 — fixture

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import open_ledger
from treasury_app.ledger.location import without_password
from treasury_app.ledger.postgres.connection import POLL_LEASE_SPACE
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV
from treasury_app.services.payout_outcomes import CLAIM_HOLDER_KEY
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

BACKENDS = ("postgresql",)
# What the desk that loses the race for the claim may be told (it lost the compare-and-set, at the claim or at the
# version the approval check read, or it read the payout after the other desk's claim): words naming the payout,
# never a traceback. Under a full suite's load the loser was told "changed since it was read … 'submitting'".
LOSING_WORDS = ("already sent", "changed while", "changed since it was read", "cannot be executed")


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

    def start(self, output: Path, *words: str) -> Watch:
        command, env = app_invocation(self.data_dir, *words, env_extra=self.env, host=self.host)
        with open(output, "wb") as sink:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, env=env)
        return Watch(process, output)

    def json(self, *words: str, acting: str | None = None) -> Any:
        return json.loads(self.ok(*words, "--json", acting=acting),
                          parse_float=lambda text: pytest.fail(f"float {text} in JSON"))


@dataclass
class Watch:
    """A `refresh --watch --json` process of a desk, its output in a file (a pipe could fill up)."""

    process: subprocess.Popen[bytes]
    output: Path

    def lines(self) -> list[dict[str, Any]]:
        text = self.output.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()[:text.count("\n")]]  # whole lines only

    def check(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"the watch ended with {self.process.returncode}:\n{self.output.read_text()}")

    def wait_for_line(self, index: int) -> dict[str, Any]:
        return wait_until(lambda: len(self.lines()) > index and self.lines()[index], f"line {index} of the watch",
                          check=self.check)

    def all_lines(self) -> list[dict[str, Any]]:
        """Its lines once it has ended by itself (every payout final)."""
        code = self.process.wait(timeout=PROCESS_TIMEOUT)
        assert code == 0, self.output.read_text()
        return self.lines()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=PROCESS_TIMEOUT)


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


def poll_leases_held(postgres_database: str) -> int:
    """How many providers' poll leases of this team ledger some desk's session holds now, as the server says."""
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s::oid "
            # The lock's second key as pg_locks shows it: the signed hash read as an unsigned oid.
            "AND objid::bigint IN (SELECT mod(hashtext(current_schema() || ':' || name)::bigint + 4294967296, "
            "4294967296) FROM unnest(%s::text[]) AS name)",
            (POLL_LEASE_SPACE, list(PROVIDERS))).fetchone()[0]


async def test_desk_b_polls_once_the_poller_of_desk_a_is_killed_and_says_so_while_it_lives(
        tmp_path, postgres_database, sandbox, desk_hosts: DeskHosts, desk, providers, clock):
    """One desk at a time polls a provider (a session lock per provider). While desk A's `refresh --watch` holds
    them, desk B's `refresh` asks nothing and says why, and so does its `refresh --watch`; killed, desk A's
    session ends and its leases with it, and desk B's watch takes them and follows the payout to completed."""
    workflow = PayoutWorkflow(desk.ledger, providers, clock)
    payout = await workflow.execute(desk.sign_in("alice"), (await approved_payout(workflow, desk, "pay3")).id)
    assert payout.status is PayoutStatus.PROCESSING
    desk_a = make_desk(tmp_path, "a", desk_hosts.a, sandbox, **{TEAM_LEDGER_ENV: postgres_database})
    desk_b = make_desk(tmp_path, "b", desk_hosts.b, sandbox, **{TEAM_LEDGER_ENV: postgres_database})
    watch_a = desk_a.start(tmp_path / "watch-a.txt", "refresh", "--watch", "--json")
    watch_b = None
    try:
        wait_until(lambda: poll_leases_held(postgres_database) == len(PROVIDERS), "desk A to hold the poll leases",
                   check=watch_a.check)
        said = desk_b.ok("refresh")
        assert "cryptomus, pay3: polled by another desk" in said, said
        assert "asked about 0 payout(s) in 0 request(s)" in said
        watch_b = desk_b.start(tmp_path / "watch-b.txt", "refresh", "--watch", "--json")
        assert watch_b.wait_for_line(0) == {"event": "polled_elsewhere", "providers": list(PROVIDERS)}
    finally:
        watch_a.kill()
    sandbox.advance(3600)  # the provider finishes the payout meanwhile
    try:
        events = watch_b.all_lines()
    finally:
        watch_b.kill()
    # Said after the round that took the lease (a round's report comes once its changes are recorded). The round
    # asks for the two leases one after the other, and desk A's session may end between the two: then that round
    # takes pay3's alone and the payout is final before the next round would say cryptomus is free too.
    taken = [e for e in events[1:-1] if e["event"] == "polled_elsewhere"]
    assert taken and "pay3" not in taken[-1]["providers"], events
    assert [(e["payout_id"], e["after"]) for e in events if e["event"] == "change"] == [(payout.id, "completed")]
    assert events[-1] == {"event": "all_final", "open_payouts": 0}
    row = only_executed(sandbox, payout)
    assert row["status"] == "COMPLETED" and len(executed(sandbox)) == 1
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.COMPLETED
