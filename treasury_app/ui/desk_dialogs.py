"""Every dialog the desk opens (New payout, Send, Approvals, Export, Audit trail, Address book, Administration),
each made over the signed-in operator's calls and kept alive while it is open. The shell decides when; this
module knows how.

Each dialog's module (and the services behind it) is imported when it is first wanted: the window's start
waits for nothing it does not show (tests/benchmarks/window.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from treasury_app.domain.roles import may_administer

from .operations import Operations

if TYPE_CHECKING:
    from treasury_app.ledger import PayoutRecord

    from .desk_calls import DeskCalls
    from .main_window import DeskWindow
    from .payouts.model import PayoutTableModel


class DeskDialogs:
    """`shown`: the dialogs open now (closed on sign-out and on closing the window)."""

    def __init__(self, operations: Operations, window: DeskWindow, model: PayoutTableModel,
                 provider_titles: Mapping[str, str], calls: Callable[[], DeskCalls | None]) -> None:
        self._operations = operations
        self._window = window
        self._model = model
        self._provider_titles = provider_titles
        self._calls = calls  # the signed-in operator's, read at each opening (None: nobody signed in)
        self.shown: list[QWidget] = []
        self._hidden: list[QWidget] = []  # hidden by the idle lock, to show again to the same operator

    def keep(self, dialog: QWidget) -> None:
        """Keep a non-modal dialog alive while it is open, and forget it once closed."""
        self.shown.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: self.shown.remove(d) if d in self.shown else None)

    def close_all(self) -> None:
        self._hidden = []
        for dialog in list(self.shown):
            dialog.close()
            if not dialog.isVisible() and dialog in self.shown:  # hidden by the lock: Qt ends it without `finished`
                self.shown.remove(dialog)
                dialog.deleteLater()

    def hide_all(self) -> None:
        """Out of sight behind the idle lock, as they are (a half-written form kept): `show_hidden` brings them
        back for the same operator; `close_all` ends them for another."""
        self._hidden = [dialog for dialog in self.shown if dialog.isVisible()]
        for dialog in self._hidden:
            dialog.hide()

    def show_hidden(self) -> None:
        hidden, self._hidden = self._hidden, []
        for dialog in hidden:
            if dialog in self.shown:
                dialog.show()

    def compose(self) -> None:
        if (calls := self._calls()) is None:
            return
        from .compose.compose_dialog import ComposeDialog

        dialog = ComposeDialog(self._operations, calls.compose_backend(), parent=self._window)
        dialog.payout_changed.connect(self._select_when_shown)
        self.keep(dialog)
        present(dialog)

    def send(self, payout_id: int, approved_by: tuple[str, ...]) -> None:
        if (calls := self._calls()) is None:
            return
        from .payouts.send_dialog import SendDialog

        dialog = SendDialog(self._operations, calls.reviewed(payout_id), lambda: calls.send(payout_id),
                            approved_by=", ".join(approved_by) or None, parent=self._window)
        self.keep(dialog)
        dialog.open()  # window-modal: nothing else is done on the desk while it asks
        dialog.raise_()
        dialog.activateWindow()

    def approvals(self, payout_id: int | None = None, *, others: bool = False) -> None:
        """The approvals queue (on its "Waiting for others" tab with `others`), with `payout_id` chosen."""
        if (calls := self._calls()) is None:
            return
        from .approvals.queue_dialog import ApprovalsDialog

        dialog = ApprovalsDialog(self._operations, calls.acting, load_queue=calls.approval_queue,
                                 actions_of=calls.actions_of, title_of=calls.title_of, parent=self._window)
        if others:
            dialog.tabs.setCurrentWidget(dialog.for_others)
        if payout_id is not None:
            dialog.select_payout(payout_id)
        self.keep(dialog)
        present(dialog)

    def export(self) -> None:
        if (calls := self._calls()) is None:
            return
        from .export_dialog import ExportDialog

        dialog = ExportDialog(self._operations, calls.export, providers=list(self._provider_titles.items()),
                              choice=self._window.filters.current_choice(), parent=self._window)
        self.keep(dialog)
        present(dialog)

    def audit(self) -> None:
        if (calls := self._calls()) is None:
            return
        from .audit.audit_dialog import AuditDialog

        dialog = AuditDialog(self._operations, calls.acting, calls.verify_audit, parent=self._window)
        self.keep(dialog)
        present(dialog)

    def address_book(self, payout: PayoutRecord | None = None) -> None:
        """The Address book screen; or, from a completed payout, the entry form prefilled with its destination."""
        if (calls := self._calls()) is None:
            return
        from .address_book.screen import AddressBookDialog, EntryDialog, entry_fields_of

        dialog = AddressBookDialog(self._operations, calls.acting, parent=self._window) if payout is None else \
            EntryDialog(self._operations, calls.acting, fields=entry_fields_of(payout), from_payout=payout.id,
                        parent=self._window)
        self.keep(dialog)
        present(dialog)

    def administration(self) -> None:
        """Operators, policy, providers: only for an operator whose roles allow one of them (the action is
        hidden and disabled for the others, and the services refuse them anyway)."""
        if (calls := self._calls()) is None:
            return
        from .admin.admin_dialog import AdministrationDialog

        if not may_administer(calls.acting.roles):
            return
        dialog = AdministrationDialog(self._operations, calls.acting, calls.check_provider, parent=self._window)
        self.keep(dialog)
        present(dialog)

    def _select_when_shown(self, payout_id: int) -> None:
        """After the table re-read its query (a new payout), select the payout the dialog wrote."""
        if self._window.table.select_payout(payout_id):
            return

        def once_read() -> None:
            self._model.query_finished.disconnect(once_read)
            self._window.table.select_payout(payout_id)

        self._model.query_finished.connect(once_read)


def present(dialog: QWidget) -> None:
    """Shown, in front and with the keyboard: a dialog opened by a shortcut takes the keys that follow."""
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
