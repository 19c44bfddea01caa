"""The Operators tab: every account (name, roles, active or disabled, locked until, wrong passwords in a row),
and what an admin does to one — add, change the roles, reset the password (which lifts a lock), unlock, and
disable (asked first). The services decide; a refusal (the last active admin, say) is shown in their words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QMessageBox, QTableWidgetItem, QVBoxLayout, QWidget

from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Changed, Failure, Operations
from ..texts import DASH, local_time
from ..widgets import button, field_error, hint, primary_button, question, record_table, row, show_field_error
from .operator_form import FormKind, OperatorDialog, role_names

if TYPE_CHECKING:
    from treasury_app.services.operator_accounts import OperatorSummary

COLUMNS = ("Name", "Roles", "State", "Locked until", "Wrong passwords")


class OperatorsTab(QWidget):
    def __init__(self, operations: Operations, acting: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admin-operators")
        self._operations = operations
        self._acting = acting
        self.operators: list[OperatorSummary] = []
        self.forms: list[QWidget] = []  # the forms and questions open now (kept alive while open)
        self.table = record_table(COLUMNS, "Operators", stretch=1)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.add_button = primary_button("Add operator…", "plus")
        self.roles_button = button("Change roles…", "user-check")
        self.reset_button = button("Reset password…", "key-round")
        self.unlock_button = button("Unlock", "lock")
        self.disable_button = button("Disable…", "user-round-x")
        self.add_button.clicked.connect(lambda: self._open_form(FormKind.ADD))
        self.roles_button.clicked.connect(lambda: self._open_form(FormKind.ROLES))
        self.reset_button.clicked.connect(lambda: self._open_form(FormKind.PASSWORD))
        self.unlock_button.clicked.connect(self._unlock)
        self.disable_button.clicked.connect(self._ask_disable)
        self.unlock_button.setToolTip("Lift the lock left by wrong passwords, keeping the password")
        self.problem = field_error()
        self.problem.setObjectName("operators-problem")
        self.notice = QLabel()
        self.notice.setObjectName("operators-notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(hint("Accounts are never deleted, only disabled, so the history keeps every name. "
                              "Every change here is recorded in the audit trail under your name."))
        layout.addLayout(row(self.add_button, self.roles_button, self.reset_button, self.unlock_button,
                             self.disable_button, stretch_first=False))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.notice)
        operations.changed.connect(self._changed)
        self._selection_changed()
        self.reload()

    def reload(self) -> None:
        self._operations.run_in_worker("read the operators", lambda desk: (desk.accounts.list(), desk.accounts.now()),
                                       on_done=lambda read: self._show(*read))

    def selected_operator(self) -> OperatorSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.operators[rows[0].row()] if rows and rows[0].row() < len(self.operators) else None

    def select_operator(self, name: str) -> bool:
        for index, operator in enumerate(self.operators):
            if operator.name == name:
                self.table.selectRow(index)
                return True
        return False

    def _changed(self, change: Changed) -> None:
        if change.operators:
            self.reload()

    def _show(self, operators: Sequence[OperatorSummary], now: datetime) -> None:
        """The accounts as read at `now`, the desk's time (a lock that ran out is not shown)."""
        chosen = self.selected_operator()
        self.operators = list(operators)
        self.table.setRowCount(len(self.operators))
        for index, operator in enumerate(self.operators):
            cells = (operator.name, role_names(operator.roles), "active" if operator.active else "disabled",
                     local_time(operator.locked_until) if operator.is_locked_at(now) else DASH,
                     str(operator.failed_attempts))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(index, column, item)
        if chosen is not None:
            self.select_operator(chosen.name)
        self._selection_changed()

    def _selection_changed(self) -> None:
        chosen = self.selected_operator()
        active = chosen is not None and chosen.active
        self.roles_button.setEnabled(active)
        self.reset_button.setEnabled(active)
        self.disable_button.setEnabled(active)
        self.unlock_button.setEnabled(active and bool(chosen.failed_attempts or chosen.locked_until))

    def _open_form(self, kind: FormKind) -> None:
        chosen = None if kind is FormKind.ADD else self.selected_operator()
        if kind is not FormKind.ADD and chosen is None:
            return
        self._say(None)
        form = OperatorDialog(self._operations, self._acting, kind, operator=chosen, parent=self)
        form.saved.connect(lambda result, k=kind: self._saved(k, result))
        self._keep(form)
        form.show()

    def _saved(self, kind: FormKind, result: object) -> None:
        if kind is FormKind.ADD:
            self._say(f"Operator {result.name} added with roles: {role_names(result.roles)}.")
        elif kind is FormKind.ROLES:
            self._say(f"{result.name} now holds the roles: {role_names(result.roles)}.")
        else:
            self._say(f"Password of {result} reset; any lock on the account is lifted. Give the new password to "
                      "them in person.")

    def _unlock(self) -> None:
        chosen, acting = self.selected_operator(), self._acting
        if chosen is None:
            return
        self._say(None)
        self._operations.run_in_worker(f"unlock {chosen.name}", lambda desk: desk.accounts.unlock(chosen.name,
                                                                                                  acting=acting),
                                       on_done=lambda done: self._say(f"{done.name} is unlocked and may sign in "
                                                                      "with the same password."),
                                       on_error=self._refused, changed=lambda _r: Changed(operators=True))

    def _ask_disable(self) -> None:
        chosen = self.selected_operator()
        if chosen is None:
            return
        self._say(None)
        box = question(self, "Disable an operator", f"Disable {chosen.name} for good?",
                       f"{chosen.name} can no longer sign in; the name stays in the history and cannot be used "
                       "again. The change is recorded in the audit trail.", "confirm-disable")
        box.buttonClicked.connect(lambda clicked: self._disable_answered(box, clicked, chosen.name))
        self._keep(box)
        box.open()  # never exec(): the window's loop stays single

    def _disable_answered(self, box: QMessageBox, clicked: object, name: str) -> None:
        if box.standardButton(clicked) is not QMessageBox.StandardButton.Yes:
            return
        acting = self._acting
        self._operations.run_in_worker(f"disable {name}", lambda desk: desk.accounts.disable(name, acting=acting),
                                       on_done=lambda done: self._say(f"{done.name} is disabled."),
                                       on_error=self._refused, changed=lambda _r: Changed(operators=True))

    def _refused(self, failure: Failure) -> bool:
        self.notice.setVisible(False)
        show_field_error(self.problem, f"Could not {failure.doing}. {failure.message}")
        return True

    def _say(self, notice: str | None) -> None:
        show_field_error(self.problem, None)
        self.notice.setText(notice or "")
        self.notice.setVisible(bool(notice))

    def _keep(self, child: QWidget) -> None:
        self.forms.append(child)
        child.finished.connect(lambda _=0, c=child: self.forms.remove(c) if c in self.forms else None)
