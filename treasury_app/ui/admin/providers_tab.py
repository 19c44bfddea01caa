"""The Providers tab: each provider's profile (where to reach it, as which account) with its secret typed into
a password field and sent straight to the OS keyring by the services; the field is emptied after saving and the
secret is never shown back, only where it is kept. "Check connection" asks the provider what
`treasury-app provider check` asks: reachable, credentials accepted, balances.

The running desk opened its provider connections at start; a saved profile is used from the next start (said
on the tab), so that no payout in flight changes provider client under its feet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.operator_accounts import SignedIn
from treasury_app.services.provider_profiles import CRYPTOMUS_BASE_URL, ProfileSummary, ProviderCheck

from .. import theme
from ..operations import Failure, Operations
from ..widgets import button, field_error, hint, primary_button, row, show_field_error, stacked

CheckProvider = Callable[[str], Awaitable[ProviderCheck]]
NEXT_START = ("A saved profile is used from the next start of the window: this window keeps the connections it "
              "opened when it started.")


@dataclass(frozen=True)
class ProfileFields:
    """What a provider's form asks for: its plain fields (service keyword → label) and its secret's label."""

    name: str
    title: str
    fields: tuple[tuple[str, str], ...]
    secret_label: str
    defaults: Mapping[str, str]


PROFILE_FIELDS = (
    ProfileFields("cryptomus", "Cryptomus", (("base_url", "Base URL"), ("merchant", "Merchant id")),
                  "Payout API key", {"base_url": CRYPTOMUS_BASE_URL}),
    ProfileFields("pay3", "Pay3", (("base_url", "Base URL"), ("client_id", "Client id"),
                                   ("currencies", "Currencies"), ("payer_email", "Payer e-mail")),
                  "API secret", {}),
)
# The services' field names that belong to one of the form's fields.
FIELD_OF_ERROR = {"secret": "secret", "payout_key": "secret", "api_secret": "secret", "currency": "currencies"}


class ProviderForm(QGroupBox):
    """One provider's profile: its fields, the secret, Save and Check connection, and what each found."""

    def __init__(self, operations: Operations, acting: SignedIn, spec: ProfileFields, check: CheckProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(spec.title, parent)
        self.setObjectName(f"provider-{spec.name}")
        self._operations = operations
        self._acting = acting
        self._check = check
        self.spec = spec
        self.summary: ProfileSummary | None = None
        self.inputs: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP_SMALL)
        for key, label in spec.fields:
            field = QLineEdit(spec.defaults.get(key, ""))
            field.setAccessibleName(f"{spec.title} {label.lower()}")
            self.inputs[key] = field
            self.errors[key] = field_error()
            form.addRow(label, stacked(field, self.errors[key]))
        self.inputs["base_url"].setPlaceholderText(spec.defaults.get("base_url", "https://yourname.pay3.app"))
        if "currencies" in self.inputs:
            self.inputs["currencies"].setPlaceholderText("CODE=CURRENCY:NETWORK, … (empty: keep the list)")
            self.inputs["payer_email"].setPlaceholderText("empty: keep the e-mail the profile has")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName(f"{spec.title} {spec.secret_label.lower()}")
        self.secret.setPlaceholderText("typed here, kept only in the OS keyring")
        self.errors["secret"] = field_error()
        form.addRow(spec.secret_label, stacked(self.secret, self.errors["secret"]))
        self.state = hint("")
        self.state.setObjectName(f"{spec.name}-state")
        self.problem = field_error()
        self.result = QLabel()
        self.result.setObjectName(f"{spec.name}-check")
        self.result.setWordWrap(True)
        self.result.setFont(theme.amount_font(self.result.font()))
        self.save = primary_button(f"Save {spec.title}", "key-round")
        self.save.clicked.connect(self._save)
        self.check_button = button("Check connection", "wifi")
        self.check_button.setAccessibleName(f"Check the connection to {spec.title}")
        self.check_button.clicked.connect(self._check_connection)
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(self.state)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(row(self.check_button, self.save))
        layout.addWidget(self.result)
        layout.addStretch(1)  # the forms side by side keep their fields at the top, whatever their heights
        self.show_summary(None)

    def show_summary(self, summary: ProfileSummary | None) -> None:
        self.summary = summary
        self.check_button.setEnabled(summary is not None)
        if summary is None:
            self.state.setText(f"No profile: this desk pays through the built-in sandbox for {self.spec.title}.")
            self.check_button.setToolTip("Save a profile first")
            return
        self.check_button.setToolTip("")
        badge = " (the local sandbox)" if summary.is_sandbox else ""
        self.state.setText(f"Profile set up{badge}: {summary.base_url}, account {summary.account}. The "
                           f"{summary.secret_label} is stored in the OS keyring; type it again only to replace it.")
        values = {"base_url": summary.base_url, self.spec.fields[1][0]: summary.account,
                  "currencies": ", ".join(f"{code}={asset}" for code, asset in
                                          dict(summary.settings.get("currencies") or {}).items()),
                  "payer_email": str(summary.settings.get("payer_email") or "")}
        for key, field in self.inputs.items():
            field.setText(values.get(key, field.text()))

    def _save(self) -> None:
        for label in (*self.errors.values(), self.problem):
            show_field_error(label, None)
        self.result.clear()
        secret = self.secret.text()
        # Out of the widget at once: whatever the keyring answers, the typed secret is not kept on the screen.
        self.secret.clear()
        job = self._job({key: field.text().strip() for key, field in self.inputs.items()}, secret)
        self.save.setEnabled(False)
        self._operations.run_in_worker(f"save the {self.spec.title} profile", job, on_done=self._saved,
                                       on_error=self._refused)

    def _job(self, values: dict[str, str], secret: str) -> Callable[[WorkerDesk], ProfileSummary]:
        acting = self._acting
        if self.spec.name == "cryptomus":
            return lambda desk: desk.provider_administration.set_cryptomus(
                acting=acting, merchant=values["merchant"], payout_key=secret, base_url=values["base_url"])
        currencies = [part.strip() for part in values["currencies"].split(",") if part.strip()]
        return lambda desk: desk.provider_administration.set_pay3(
            acting=acting, api_secret=secret, base_url=values["base_url"], client_id=values["client_id"],
            currencies=currencies or None, payer_email=values["payer_email"] or None)

    def _saved(self, summary: ProfileSummary) -> None:
        self.save.setEnabled(True)
        self.show_summary(summary)
        self.result.setText(f"Saved; the {summary.secret_label} is stored in the OS keyring. {NEXT_START}")

    def _refused(self, failure: Failure) -> bool:
        self.save.setEnabled(True)
        field = getattr(failure.error, "field", None)
        field = FIELD_OF_ERROR.get(field, field)
        if field in self.errors:
            show_field_error(self.errors[field], failure.message)
        show_field_error(self.problem, f"Nothing was saved. {failure.message}")
        return True

    def _check_connection(self) -> None:
        name, check = self.spec.name, self._check
        self.result.setText("Asking the provider…")
        self._operations.run(f"check the connection to {self.spec.title}", lambda: check(name),
                             on_done=self._checked, on_error=self._check_failed)

    def _checked(self, report: ProviderCheck) -> None:
        self.result.setText(check_text(report))

    def _check_failed(self, failure: Failure) -> bool:
        self.result.setText(f"Could not {failure.doing}. {failure.message}")
        return True


def check_text(report: ProviderCheck) -> str:
    """What `treasury-app provider check` prints, line for line (its problem line too)."""
    problem = [f"Problem:      {report.problem}"] if report.problem else []
    return "\n".join([*report.report_lines(), *problem])


class ProvidersTab(QWidget):
    def __init__(self, operations: Operations, acting: SignedIn, check: CheckProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admin-providers")
        self._operations = operations
        self.forms = {spec.name: ProviderForm(operations, acting, spec, check) for spec in PROFILE_FIELDS}
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(hint("Secrets are typed here once and kept only in the operating system's keyring: never "
                              "in the ledger, a file or a log, and never shown again. Every change is recorded in "
                              "the audit trail. " + NEXT_START))
        columns = QHBoxLayout()
        columns.setSpacing(theme.GAP_LARGE)
        for form in self.forms.values():
            columns.addWidget(form, 1)
        layout.addLayout(columns)
        layout.addStretch(1)
        self.reload()

    def reload(self) -> None:
        self._operations.run_in_worker("read the provider profiles", lambda desk: desk.provider_profiles.summaries(),
                                       on_done=self._show)

    def _show(self, summaries: Sequence[ProfileSummary]) -> None:
        found: dict[str, Any] = {summary.name: summary for summary in summaries}
        for name, form in self.forms.items():
            form.show_summary(found.get(name))
