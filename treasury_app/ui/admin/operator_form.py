"""The small forms of the Operators tab: add an operator (name, roles, password twice), change an operator's
roles, reset a password (which lifts a lock). One dialog, three kinds; each saves through one service call on
the desk's worker thread (password hashing is slow on purpose) and shows the service's words beside the field
they name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from treasury_app.domain.roles import Role
from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Changed, Failure, Operations
from ..widgets import button, field_error, heading, hint, primary_button, row, show_field_error, stacked

if TYPE_CHECKING:
    from treasury_app.services.operator_accounts import OperatorSummary

ROLE_HINTS = {
    Role.VIEWER: "reads the ledger, exports",
    Role.INITIATOR: "composes and sends payouts",
    Role.APPROVER: "approves others' payouts, keeps the address book",
    Role.ADMIN: "operators, policy, providers (not approving)",
}


class FormKind(Enum):
    ADD = "add"
    ROLES = "roles"
    PASSWORD = "password"


class OperatorDialog(QDialog):
    """Non-modal. `saved(OperatorSummary | str)` once the service has done it (the summary, or for a password
    reset the operator's name); the dialog then closes."""

    saved = Signal(object)

    def __init__(self, operations: Operations, acting: SignedIn, kind: FormKind, *,
                 operator: OperatorSummary | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self._acting = acting
        self.kind = kind
        self._operator = operator
        title = {FormKind.ADD: "Add an operator",
                 FormKind.ROLES: f"Roles of {operator.name if operator else ''}",
                 FormKind.PASSWORD: f"Reset the password of {operator.name if operator else ''}"}[kind]
        self.setWindowTitle(title)
        self.setObjectName(f"operator-{kind.value}")
        self.resize(560, 300)

        self.name = QLineEdit()
        self.name.setAccessibleName("Operator name")
        self.name.setPlaceholderText("e.g. maria (letters, digits, '.', '_' or '-')")
        self.roles = {role: QCheckBox(f"{role.value} — {ROLE_HINTS[role]}") for role in Role}
        for role, box in self.roles.items():
            box.setAccessibleName(f"Role {role.value}")
            box.setChecked(operator is not None and role.value in operator.roles)
        self.password = _password_field("New password")
        self.repeat = _password_field("New password again")
        self.errors = {name: field_error() for name in ("operator", "role", "password")}
        self.problem = field_error()
        self.save = primary_button({FormKind.ADD: "Add the operator", FormKind.ROLES: "Save the roles",
                                    FormKind.PASSWORD: "Reset the password"}[kind],
                                   {FormKind.ADD: "plus", FormKind.ROLES: "user-check",
                                    FormKind.PASSWORD: "key-round"}[kind])
        self.save.clicked.connect(self._save)
        cancel = button("Cancel")
        cancel.clicked.connect(self.close)

        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP_SMALL)
        if kind is FormKind.ADD:
            form.addRow("Name", stacked(self.name, self.errors["operator"]))
        if kind in (FormKind.ADD, FormKind.ROLES):
            boxes = QWidget()
            column = QVBoxLayout(boxes)
            column.setContentsMargins(0, 0, 0, 0)
            for box in self.roles.values():
                column.addWidget(box)
            form.addRow("Roles", stacked(boxes, self.errors["role"]))
        if kind in (FormKind.ADD, FormKind.PASSWORD):
            form.addRow("Password", self.password)
            form.addRow("Again", stacked(self.repeat, self.errors["password"]))
            self.repeat.returnPressed.connect(self._save)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(title, 1.15))
        self.explanation = hint({
            FormKind.ADD: "The new operator signs in with this password (at least 12 characters) and may change "
                          "it. A person may hold several roles; admin does not include approving.",
            FormKind.ROLES: "The operator holds exactly the roles ticked, from their next action on. The last "
                            "active admin keeps the admin role. The change is recorded in the audit trail.",
            FormKind.PASSWORD: "Give the new password to the operator in person. Resetting it also lifts a lock "
                               "left by wrong passwords. The reset is recorded in the audit trail.",
        }[kind])
        layout.addWidget(self.explanation)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addLayout(row(cancel, self.save))
        (self.name if kind is FormKind.ADD else self.password if kind is FormKind.PASSWORD
         else next(iter(self.roles.values()))).setFocus()

    def chosen_roles(self) -> list[str]:
        return [role.value for role, box in self.roles.items() if box.isChecked()]

    def _save(self) -> None:
        for label in (*self.errors.values(), self.problem):
            show_field_error(label, None)
        password = self.password.text()
        if self.kind is not FormKind.ROLES and password != self.repeat.text():
            show_field_error(self.errors["password"], "The two passwords differ; type the same one twice.")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        job, doing = self._job(password)
        self.save.setEnabled(False)
        self._operations.run_in_worker(doing, job, on_done=self._saved, on_error=self._refused,
                                       changed=lambda _r: Changed(operators=True))

    def _job(self, password: str) -> tuple[Callable[[WorkerDesk], object], str]:
        acting, roles = self._acting, self.chosen_roles()
        if self.kind is FormKind.ADD:
            name = self.name.text().strip()
            return (lambda desk: desk.accounts.add(name, roles, password, acting=acting)), f"add operator {name}"
        target = self._operator.name if self._operator else ""
        if self.kind is FormKind.ROLES:
            return (lambda desk: desk.accounts.set_roles(target, roles, acting=acting)), f"change {target}'s roles"

        def reset(desk: WorkerDesk) -> str:
            desk.accounts.change_password(target, password, acting=acting)
            return target

        return reset, f"reset {target}'s password"

    def _saved(self, result: object) -> None:
        self.password.clear()
        self.repeat.clear()
        self.saved.emit(result)
        self.close()

    def _refused(self, failure: Failure) -> bool:
        self.save.setEnabled(True)
        field = getattr(failure.error, "field", None)
        show_field_error(self.errors.get(field, self.problem), failure.message)
        return True


def role_names(roles: Sequence[str]) -> str:
    return ", ".join(roles) or "none"


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field
