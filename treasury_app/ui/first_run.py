"""The first run on an empty data folder: try everything with demo data (the default), or set up this desk by
creating its first operator, an admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from treasury_app.services.desk_worker import WorkerDesk

from . import theme
from .operations import Failure, Operations
from .widgets import button, card, centred, field_error, heading, hint, primary_button, row, show_field_error

if TYPE_CHECKING:  # the operator accounts (and the password hashing under them) load when first used
    from treasury_app.services.operator_accounts import OperatorSummary


class FirstRunScreen(QWidget):
    """`demo_chosen()` or `admin_created(OperatorSummary)`."""

    demo_chosen = Signal()
    admin_created = Signal(object)

    def __init__(self, operations: Operations, *, data_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self.setObjectName("first-run")

        self.try_demo = primary_button("Try it with demo data", "flask-conical")
        self.try_demo.setAccessibleName("Try it with demo data")
        self.try_demo.clicked.connect(self.demo_chosen.emit)
        demo = card(
            heading("Try it first", 1.1),
            hint("Opens a throwaway desk with three demo operators, sixty days of payouts and the built-in "
                 "sandbox of both providers. No account, no real money; nothing is kept when you close it."),
            row(self.try_demo),
        )

        self.name = QLineEdit()
        self.name.setAccessibleName("Admin name")
        self.name.setPlaceholderText("e.g. maria")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Password again")
        self.also_initiator = QCheckBox("I also send payouts (initiator role)")
        self.also_initiator.setChecked(True)
        self.error = field_error()
        self.create_admin = button("Create the admin", "user-check")
        self.create_admin.clicked.connect(self._create)
        self.repeat.returnPressed.connect(self._create)
        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP)
        form.addRow("Name", self.name)
        form.addRow("Password", self.password)
        form.addRow("Again", self.repeat)
        form.addRow("", self.also_initiator)
        set_up = card(
            heading("Set up this desk", 1.1),
            hint(f"Create the first operator: an admin, who then adds the others. The desk keeps its ledger "
                 f"in {data_dir}. Passwords have at least 12 characters."),
            form, self.error, row(self.create_admin),
        )

        column = QVBoxLayout()
        column.setSpacing(theme.GAP_LARGE)
        column.addWidget(heading("Welcome to Treasury Desk", 1.6))
        column.addWidget(hint("Send crypto payouts through Cryptomus and Pay3, with a second person's approval "
                              "for large ones, and follow each one to its end."))
        column.addWidget(demo)
        column.addWidget(set_up)
        content = QWidget()
        content.setLayout(column)
        layout = QVBoxLayout(self)
        layout.addWidget(centred(content, 520))
        self.try_demo.setFocus()

    def _create(self) -> None:
        name, password, again = self.name.text().strip(), self.password.text(), self.repeat.text()
        if password != again:
            show_field_error(self.error, "The two passwords differ; type the same one twice.")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        roles = ["admin", "initiator"] if self.also_initiator.isChecked() else ["admin"]
        show_field_error(self.error, None)
        self.create_admin.setEnabled(False)

        def add(desk: WorkerDesk) -> OperatorSummary:
            return desk.accounts.add(name, roles, password, acting=None)

        self._operations.run_in_worker("create the first admin", add, on_done=self._created,
                                       on_error=self._refused)

    def _created(self, summary: OperatorSummary) -> None:
        self.create_admin.setEnabled(True)
        self.admin_created.emit(summary)

    def _refused(self, failure: Failure) -> bool:
        self.create_admin.setEnabled(True)
        show_field_error(self.error, failure.message)
        return True
