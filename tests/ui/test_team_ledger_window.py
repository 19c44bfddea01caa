"""The window on a team ledger (a real PostgreSQL server, postgres_cluster.py): it says which ledger it uses, and
what another desk commits shows in it without a refresh (LISTEN/NOTIFY): a payout added there appears here, and
its status moves here as it moves there."""

from __future__ import annotations

from ledger_fixtures import make_request
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from ui_loop import ui_run, until

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import LedgerLocation, open_ledger
from treasury_app.ledger.location import shown_url
from treasury_app.services.desk_session import DeskSession, SandboxChoice
from treasury_app.services.ledger_choice import ChosenBy, LedgerChoice
from treasury_app.ui.shell import Shell


def test_the_window_names_the_team_ledger_and_shows_another_desks_payouts_as_they_commit(
        loop, qtbot, tmp_path, sandbox, postgres_database):
    choice = LedgerChoice(LedgerLocation(url=postgres_database), ChosenBy.CONNECT)

    async def story() -> None:
        session = await DeskSession.open(tmp_path / "desk-a", ledger=choice,
                                         sandbox=SandboxChoice(url=sandbox.base_url), clock=sandbox.clock)
        shell = Shell(session)
        qtbot.addWidget(shell.window)
        try:
            status = shell.window.status.ledger
            assert status.text() == f"Team ledger: {shown_url(postgres_database).removeprefix('postgresql://')}"
            assert "password" not in status.toolTip() and postgres_database not in status.toolTip()
            assert shell.window.windowTitle() == f"Team ledger {shown_url(postgres_database)}"
            assert session._feed is not None and session._feed.wait_until_listening(10)
            model = shell.model
            assert model.rowCount() == 0
            with open_ledger(postgres_database) as desk_b:  # another desk, its own connection
                added = desk_b.payouts.add(make_request(), idempotency_key="from-desk-b", actor="bob")
                await until(lambda: model.rowCount() == 1, 10, "desk B's payout in desk A's table")
                assert model.payout_id_at(0) == added.id
                desk_b.payouts.transition(added.id, PayoutStatus.ESTIMATED, actor="bob")
                await until(lambda: model.row_at(0).status is PayoutStatus.ESTIMATED, 10,
                            "desk B's status change in desk A's table")
        finally:
            await shell.close()
            await session.aclose()

    ui_run(loop, story())
