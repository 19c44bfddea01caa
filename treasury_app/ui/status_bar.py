"""The window's status bar: who is signed in (and as what), SANDBOX when no real money moves, what the poller
is doing and when it last asked, and whether each provider answers."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from treasury_app.services.provider_status import ProviderStatus, Reachability

from . import theme
from .texts import local_time
from .widgets import ElidedLabel, sandbox_badge

if TYPE_CHECKING:  # the poller and the directory load after the first paint
    from treasury_app.services.operator_accounts import SignedIn
    from treasury_app.services.poller import RefreshReport
    from treasury_app.services.provider_directory import ProviderConnection

_DOTS = {
    Reachability.NOT_ASKED: ("#80868b", "#9aa0a6"),
    Reachability.ANSWERING: theme.OK_COLOUR,
    Reachability.BUSY: theme.WARNING_COLOUR,
    Reachability.UNREACHABLE: theme.ERROR_COLOUR,
}


class DeskStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.operator = QLabel("Not signed in")
        self.operator.setAccessibleName("Signed-in operator")
        self.poller = ElidedLabel("Connecting to the providers…")
        self.poller.setTextFormat(Qt.TextFormat.PlainText)
        self.poller.setAccessibleName("Poller")
        self._titles: dict[str, str] = {}
        self._sandbox: dict[str, bool] = {}
        self.providers: dict[str, QLabel] = {}
        self.badge = sandbox_badge()
        self.badge.setVisible(False)
        self.ledger = QLabel()
        self.ledger.setAccessibleName("Ledger")
        self.addWidget(self.operator)
        self.addWidget(self.badge)
        self.addWidget(self.ledger)
        self.addWidget(self.poller, 1)

    def show_ledger(self, where: str, *, team: bool) -> None:
        """Which ledger this window reads and writes: the team's on its server, or this desk's own file."""
        if team:
            self.ledger.setText(f"Team ledger: {html.escape(where.removeprefix('postgresql://'))}")
            self.ledger.setToolTip(f"Shared with every desk connected to {where}")
        else:
            self.ledger.setText("Desk ledger")
            self.ledger.setToolTip(f"This desk's own file: {where}")

    def show_ledger_lost(self, where: str, problem: str) -> None:
        """The team ledger's server is not answering (`show_ledger` again when it is back)."""
        colour = theme.tone(theme.ERROR_COLOUR).name()
        self.ledger.setText(f"<span style='color:{colour}'>●</span> Team ledger: "
                            f"<b style='color:{colour}'>not reachable</b>, reconnecting…")
        self.ledger.setToolTip(f"{where} is not answering: {problem}" if problem else f"{where} is not answering")

    def show_connections(self, connections: Sequence[ProviderConnection]) -> None:
        """Each provider's reachability, and the SANDBOX badge when one of them is the sandbox."""
        self._titles = {c.name: c.title for c in connections}
        self._sandbox = {c.name: c.is_sandbox for c in connections}
        names = ", ".join(c.title for c in connections if c.is_sandbox)
        self.badge.setToolTip(f"{names}: the local sandbox. Nothing you do there moves real money.")
        self.badge.setVisible(bool(names))
        self.poller.setText("Poller starting…")
        for label in self.providers.values():
            self.removeWidget(label)
            label.deleteLater()
        self.providers = {}
        for connection in connections:
            label = QLabel()
            label.setAccessibleName(f"{connection.title} reachability")
            self.providers[connection.name] = label
            self.addPermanentWidget(label)
            self.show_provider(ProviderStatus(connection.name))

    def show_operator(self, signed: SignedIn | None) -> None:
        if signed is None:
            self.operator.setText("Not signed in")
            return
        roles = ", ".join(sorted(signed.roles))
        self.operator.setText(f"<b>{html.escape(signed.name)}</b> ({html.escape(roles)})")

    def show_round(self, report: RefreshReport) -> None:
        when = local_time(report.finished_at, seconds=True)
        watching = (f"following {report.open_payouts} payout{'s' if report.open_payouts != 1 else ''} in flight"
                    if report.open_payouts else "no payout in flight")
        text = f"Poller: {watching} · last asked {when}"
        if report.polled_elsewhere:
            names = ", ".join(self._titles.get(name, name) for name in report.polled_elsewhere)
            text += f" · {names} polled by another desk"
        if report.problems:
            text += f" · {len(report.problems)} problem{'s' if len(report.problems) != 1 else ''}"
        self.poller.setText(text)
        self.poller.setToolTip("\n".join(report.problems) or "Every provider answered.")

    def show_provider(self, status: ProviderStatus) -> None:
        label = self.providers.get(status.name)
        if label is None:
            return
        colour = theme.tone(_DOTS[status.reachability]).name()
        title = self._titles.get(status.name, status.name) + (" (sandbox)" if self._sandbox.get(status.name) else "")
        label.setText(f"<span style='color:{colour}'>●</span> {html.escape(title)}: {status.reachability.value}")
        asked = f"last asked {local_time(status.last_asked_at, seconds=True)}" if status.last_asked_at else ""
        label.setToolTip("\n".join(filter(None, [asked, status.problem or ""])) or "Not asked yet.")
