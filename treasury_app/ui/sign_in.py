"""The sign-in screen: operator and password, the services' own words when it fails (wrong, locked until…),
and in demo mode the demo operators with their passwords, a click away."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from treasury_app.identity import APP_TITLE
from treasury_app.services.desk_worker import WorkerDesk

from . import theme
from .operations import Failure, Operations
from .widgets import (
    button,
    card,
    centred,
    field_error,
    heading,
    hint,
    primary_button,
    row,
    sandbox_badge,
    show_field_error,
)

if TYPE_CHECKING:  # the demo's data module loads only for the demo
    from treasury_app.services.demo_data import DemoOperator
    from treasury_app.services.operator_accounts import SignedIn


class SignInScreen(QWidget):
    """Emits `signed_in(SignedIn)` once the services accepted the password."""

    signed_in = Signal(object)

    def __init__(self, operations: Operations, *, desk_name: str, sandbox: bool = False,
                 demo_operators: Sequence[DemoOperator] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self.setObjectName("sign-in")

        self.operator = QLineEdit()
        self.operator.setAccessibleName("Operator")
        self.operator.setPlaceholderText("your operator name")
        self.password = QLineEdit()
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = field_error()
        self.submit = primary_button("Sign in", "log-in")
        self.submit.clicked.connect(self._sign_in)
        self.password.returnPressed.connect(self._sign_in)
        self.operator.returnPressed.connect(self.password.setFocus)

        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP)
        form.addRow("Operator", self.operator)
        form.addRow("Password", self.password)

        title = heading(APP_TITLE, 1.6)
        column = QVBoxLayout()
        column.setSpacing(theme.GAP_LARGE)
        top = row(title, stretch_first=True)
        self.badge = sandbox_badge()
        if not sandbox:
            self.badge.hide()  # (never `show()` a widget without its parent yet: it would open as a window)
        top.addWidget(self.badge)
        column.addLayout(top)
        column.addWidget(hint(f"Sign in to the desk at {desk_name}."))
        self.notice = QLabel()  # why this screen is up when it was not asked for (the idle lock)
        self.notice.setObjectName("sign-in-notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        column.addWidget(self.notice)
        column.addWidget(card(form, self.error, row(self.submit)))
        if demo_operators:
            column.addWidget(self._demo_card(demo_operators))
        content = QWidget()
        content.setLayout(column)
        layout = QVBoxLayout(self)
        layout.addWidget(centred(content, 460))
        self.operator.setFocus()

    def show_sandbox(self, sandbox: bool) -> None:
        """Marked SANDBOX once the session knows that a provider runs on the sandbox."""
        self.badge.setVisible(sandbox)

    def show_notice(self, text: str | None) -> None:
        self.notice.setText(f"<b>{text}</b>" if text else "")
        self.notice.setVisible(bool(text))

    def reset(self) -> None:
        """Ready for the next person: empty password, no error."""
        self.password.clear()
        show_field_error(self.error, None)
        self.submit.setEnabled(True)
        (self.password if self.operator.text() else self.operator).setFocus()

    def _demo_card(self, operators: Sequence[DemoOperator]) -> QWidget:
        lines: list[QWidget] = [QLabel("<b>Demo operators</b> — click one to fill in the form:")]
        for demo in operators:
            choice = button(f"{demo.name} · {demo.role_text} · password: {demo.password}", "user")
            choice.setAccessibleName(f"Use demo operator {demo.name}")
            choice.setStyleSheet("text-align: left;")
            choice.clicked.connect(lambda _=False, d=demo: self._fill(d))
            lines.append(choice)
        return card(*lines, spacing=theme.GAP_SMALL)

    def _fill(self, demo: DemoOperator) -> None:
        self.operator.setText(demo.name)
        self.password.setText(demo.password)
        self.submit.setFocus()

    def _sign_in(self) -> None:
        name, password = self.operator.text().strip(), self.password.text()
        if not name:
            show_field_error(self.error, "Type your operator name.")
            self.operator.setFocus()
            return
        if not password:
            show_field_error(self.error, "Type your password.")
            self.password.setFocus()
            return
        show_field_error(self.error, None)
        self.submit.setEnabled(False)

        def authenticate(desk: WorkerDesk) -> SignedIn:
            return desk.accounts.authenticate(name, password)

        self._operations.run_in_worker("sign in", authenticate, on_done=self._accepted, on_error=self._refused)

    def _accepted(self, signed: SignedIn) -> None:
        self.password.clear()
        self.show_notice(None)
        self.submit.setEnabled(True)
        self.signed_in.emit(signed)

    def _refused(self, failure: Failure) -> bool:
        self.submit.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        show_field_error(self.error, failure.message)
        return True
