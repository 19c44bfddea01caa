"""The Administration window: a tab for each part of the desk an admin looks after — Operators, Policy,
Providers — each shown only when the signed-in operator's roles allow it (the services check again at every
change, so a tab that should not be there could still change nothing)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QTabWidget, QVBoxLayout, QWidget

from treasury_app.domain.roles import Permission, may
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Operations
from ..widgets import button, heading, row
from .operators_tab import OperatorsTab
from .policy_tab import PolicyTab
from .providers_tab import CheckProvider, ProvidersTab

class AdministrationDialog(QDialog):
    """Non-modal. `operators`, `policy`, `providers`: the tabs the operator may use (None for the others)."""

    def __init__(self, operations: Operations, acting: SignedIn, check_provider: CheckProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Administration")
        self.setObjectName("administration")
        self.resize(1120, 720)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Administration")
        self.operators = OperatorsTab(operations, acting) if may(acting.roles, Permission.MANAGE_OPERATORS) else None
        self.policy = PolicyTab(operations, acting) if may(acting.roles, Permission.MANAGE_POLICY) else None
        self.providers = ProvidersTab(operations, acting, check_provider) \
            if may(acting.roles, Permission.MANAGE_PROVIDERS) else None
        for tab, title, icon in ((self.operators, "Operators", "users"), (self.policy, "Policy", "shield-check"),
                                 (self.providers, "Providers", "key-round")):
            if tab is not None:
                self.tabs.addTab(tab, theme.icon(icon), title)
        close = button("Close")
        close.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(heading(f"Administration — signed in as {acting.name}"))
        layout.addWidget(self.tabs, 1)
        layout.addLayout(row(close))

    def show_tab(self, tab: QWidget) -> None:
        self.tabs.setCurrentWidget(tab)
