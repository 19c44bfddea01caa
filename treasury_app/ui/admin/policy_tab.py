"""The Policy tab: the approval policy of each currency (threshold, daily limits, what crossing one does, new
destinations), how long an approval lasts, the limits that apply at execution, and the idle lock. Amounts are
typed as text and parsed by the services (exact decimals, the currency's places); each group is saved as its
own audited change, and a refusal is shown beside the field it names. The ledger holds the values, so the next
payout composed in any window is decided by them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.assets import currencies, decimals_of
from treasury_app.domain.money import format_amount
from treasury_app.ledger import PolicyRecord
from treasury_app.services.approval_policies import MAX_APPROVAL_EXPIRY_HOURS
from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.idle_lock import idle_lock_after, parse_minutes, set_idle_lock
from treasury_app.services.operator_accounts import SignedIn
from treasury_app.services.workflow_settings import (
    MAX_CLAIM_GRACE,
    MAX_ESTIMATE_AGE,
    WorkflowSettings,
    save_workflow_settings,
)

from .. import theme
from ..operations import Failure, Operations
from ..texts import local_time
from ..widgets import field_error, hint, primary_button, row, show_field_error, stacked

# The services' field names, as a person reads them beside the field.
LABELS = {"approval_threshold": "Approval threshold", "daily_limit": "Daily limit (desk)",
          "operator_daily_limit": "Daily limit (each initiator)", "over_limit": "Over a daily limit",
          "currency": "Currency", "approval_expiry_hours": "Approvals expire after",
          "estimate_max_age": "Estimates older than", "fee_tolerance": "Fee tolerance",
          "claim_grace": "Claim grace", "minutes": "Idle lock"}
OVER_LIMIT_CHOICES = (("needs-approval", "needs a second person's approval"), ("refuse", "is refused"))
NO_LIMIT = "none"


@dataclass(frozen=True)
class PolicyValues:
    """Everything the tab shows, read in one job on the worker thread."""

    policies: tuple[PolicyRecord, ...]
    approval_expiry: timedelta
    limits: WorkflowSettings
    idle_lock: timedelta


def read_policy_values(desk: WorkerDesk) -> PolicyValues:
    return PolicyValues(tuple(desk.policies.all()), desk.policies.approval_expiry(),
                        WorkflowSettings.from_ledger(desk.ledger), idle_lock_after(desk.ledger))


class PolicyTab(QWidget):
    def __init__(self, operations: Operations, acting: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admin-policy")
        self._operations = operations
        self._acting = acting
        self.values: PolicyValues | None = None
        self.errors: dict[str, QLabel] = {name: field_error() for name in LABELS}
        self.saved_notice = QLabel()
        self.saved_notice.setObjectName("policy-saved")
        self.saved_notice.setWordWrap(True)

        self.currency = _named(QComboBox(), "Currency")
        for code in currencies():
            self.currency.addItem(code, code)
        self.currency.currentIndexChanged.connect(lambda _: self._show_policy())
        self.places = hint("")
        self.threshold = _amount_field("Approval threshold")
        self.desk_limit = _amount_field("Daily limit for the desk")
        self.operator_limit = _amount_field("Daily limit for each initiator")
        self.over_limit = _named(QComboBox(), "Over a daily limit")
        for value, text in OVER_LIMIT_CHOICES:
            self.over_limit.addItem(text, value)
        self.new_destination = QCheckBox("A destination never paid before (and not in the address book) needs "
                                         "approval")
        self.new_destination.setAccessibleName("New destination needs approval")
        self.policy_set_by = hint("")
        self.save_policy = primary_button("Save the policy", "check")
        self.save_policy.clicked.connect(self._save_policy)
        policy = QFormLayout()
        policy.setVerticalSpacing(theme.GAP_SMALL)
        policy.addRow("Currency", stacked(self.currency, self.places, self.errors["currency"]))
        for name, field in (("approval_threshold", self.threshold), ("daily_limit", self.desk_limit),
                            ("operator_daily_limit", self.operator_limit), ("over_limit", self.over_limit)):
            policy.addRow(LABELS[name], stacked(field, self.errors[name]))
        policy.addRow("", self.new_destination)
        policy_box = _group("Approval policy of a currency", hint(
            f"A payout at or above the threshold needs a second person's approval. Leave a field empty (or "
            f"'{NO_LIMIT}') for no limit. Daily limits count UTC days; one policy covers all the currency's "
            "networks."), policy, row(self.policy_set_by, self.save_policy, stretch_first=True))

        self.expiry = _spin("Approvals expire after (hours)", 1, MAX_APPROVAL_EXPIRY_HOURS, " hours")
        self.save_expiry = primary_button("Save", "check")
        self.save_expiry.setAccessibleName("Save the approval expiry")
        self.save_expiry.clicked.connect(self._save_expiry)
        expiry_box = _group("Approvals", hint("An approval older than this no longer lets the payout be sent."),
                            _form(("Expire after", stacked(self.expiry, self.errors["approval_expiry_hours"]))),
                            row(self.save_expiry))

        self.estimate_age = _spin("Estimates older than (seconds)", 1, _whole(MAX_ESTIMATE_AGE), " s")
        self.fee_tolerance = _named(QLineEdit(), "Fee tolerance")
        self.fee_tolerance.setPlaceholderText("a fraction: 0.05 is 5 %")
        self.claim_grace = _spin("Claim grace (seconds)", 0, _whole(MAX_CLAIM_GRACE), " s")
        self.save_limits = primary_button("Save", "check")
        self.save_limits.setAccessibleName("Save the execution limits")
        self.save_limits.clicked.connect(self._save_limits)
        limits_box = _group("Execution limits", hint(
            "An older estimate is asked again before sending; a fresh one that moved against you by more than "
            "the tolerance stops the payout for a new confirmation. A payout another process started sending is "
            "left to it for the claim grace."), _form(
            ("Re-ask estimates older than", stacked(self.estimate_age, self.errors["estimate_max_age"])),
            ("Fee tolerance", stacked(self.fee_tolerance, self.errors["fee_tolerance"])),
            ("Claim grace", stacked(self.claim_grace, self.errors["claim_grace"]))), row(self.save_limits))

        self.idle_minutes = _named(QLineEdit(), "Idle lock (minutes)")
        self.save_idle = primary_button("Save", "check")
        self.save_idle.setAccessibleName("Save the idle lock")
        self.save_idle.clicked.connect(self._save_idle)
        idle_box = _group("Idle lock", hint("The window signs out after this many minutes without a key press or "
                                            "a click (every window of the desk, from its next sign-in)."),
                          _form(("Minutes", stacked(self.idle_minutes, self.errors["minutes"]))), row(self.save_idle))

        columns = QHBoxLayout()
        columns.setSpacing(theme.GAP_LARGE)
        left = QVBoxLayout()
        left.addWidget(policy_box)
        left.addStretch(1)
        right = QVBoxLayout()
        for box in (expiry_box, limits_box, idle_box):
            right.addWidget(box)
        right.addStretch(1)
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.saved_notice)
        self.reload()

    def reload(self) -> None:
        self._operations.run_in_worker("read the policy", read_policy_values, on_done=self._show)

    def choose_currency(self, code: str) -> None:
        self.currency.setCurrentIndex(self.currency.findData(code))

    def _show(self, values: PolicyValues) -> None:
        self.values = values
        self.expiry.setValue(int(values.approval_expiry.total_seconds() // 3600))
        self.estimate_age.setValue(_whole(values.limits.estimate_max_age))
        self.fee_tolerance.setText(f"{values.limits.fee_tolerance.normalize():f}")
        self.claim_grace.setValue(_whole(values.limits.claim_grace))
        self.idle_minutes.setText(f"{(Decimal(_whole(values.idle_lock)) / 60).normalize():f}")
        self._show_policy()

    def _show_policy(self) -> None:
        code = str(self.currency.currentData())
        self.places.setText(f"{code} amounts: at most {decimals_of(code)} decimal places (the most any {code} "
                            "network has).")
        self.save_policy.setText(f"Save the {code} policy")
        policy = next((p for p in self.values.policies if p.currency == code), None) if self.values else None
        for field, amount in ((self.threshold, policy and policy.approval_threshold),
                              (self.desk_limit, policy and policy.daily_limit_desk),
                              (self.operator_limit, policy and policy.daily_limit_operator)):
            field.setText("" if amount is None else format_amount(amount))
        over = policy.over_limit.value.replace("_", "-") if policy else "needs-approval"
        self.over_limit.setCurrentIndex(max(0, self.over_limit.findData(over)))
        self.new_destination.setChecked(bool(policy and policy.new_destination_needs_approval))
        self.policy_set_by.setText(f"Set by {policy.updated_by}, {local_time(policy.updated_at)}" if policy else
                                   f"No {code} policy yet: no {code} payout needs approval.")
        for name in ("currency", "approval_threshold", "daily_limit", "operator_daily_limit", "over_limit"):
            show_field_error(self.errors[name], None)

    # --- saving -------------------------------------------------------------------------------------------

    def _save_policy(self) -> None:
        code, acting = str(self.currency.currentData()), self._acting
        threshold, desk_limit, operator_limit = (_limit_text(f) for f in (self.threshold, self.desk_limit,
                                                                          self.operator_limit))
        over, new_destination = str(self.over_limit.currentData()), self.new_destination.isChecked()
        self._save(f"save the {code} policy", lambda desk: desk.policies.set(
            code, acting=acting, approval_threshold=threshold, desk_daily_limit=desk_limit,
            operator_daily_limit=operator_limit, over_limit=over,
            new_destination_needs_approval=new_destination), f"The {code} policy is saved; the next {code} payout "
            "is decided by it.")

    def _save_expiry(self) -> None:
        hours, acting = self.expiry.value(), self._acting
        self._save("save the approval expiry", lambda desk: desk.policies.set_approval_expiry(hours, acting=acting),
                   f"Approvals now expire after {hours} hours.")

    def _save_limits(self) -> None:
        age, tolerance, grace = self.estimate_age.value(), self.fee_tolerance.text(), self.claim_grace.value()
        acting = self._acting
        self._save("save the execution limits", lambda desk: save_workflow_settings(
            desk.ledger, acting=acting, estimate_max_age=timedelta(seconds=age), fee_tolerance=tolerance,
            claim_grace=timedelta(seconds=grace)), "The execution limits are saved.")

    def _save_idle(self) -> None:
        minutes, acting = self.idle_minutes.text(), self._acting
        self._save("save the idle lock", lambda desk: set_idle_lock(desk.ledger, acting=acting,
                                                                      after=parse_minutes(minutes)),
                   f"The window now locks after {minutes.strip()} minutes without use, from the next sign-in.")

    def _save(self, doing: str, job: Callable[[WorkerDesk], Any], said: str) -> None:
        for label in self.errors.values():
            show_field_error(label, None)
        self.saved_notice.clear()
        self._operations.run_in_worker(doing, job, on_done=lambda _r: self._saved(said), on_error=self._refused)

    def _saved(self, said: str) -> None:
        self.saved_notice.setText(said)
        self.reload()

    def _refused(self, failure: Failure) -> bool:
        field = getattr(failure.error, "field", None)
        if field in self.errors:
            message = getattr(failure.error, "message", failure.message)
            show_field_error(self.errors[field], f"{LABELS[field]} {message}.")
            self.saved_notice.setText(f"Nothing was saved: {LABELS[field].lower()} {message}.")
        else:
            self.saved_notice.setText(f"Could not {failure.doing}. {failure.message}")
        return True


def _limit_text(field: QLineEdit) -> str:
    """What the service reads: the amount as typed, or its word for no limit when the field is empty."""
    return field.text().strip() or NO_LIMIT


def _named(widget: Any, name: str) -> Any:
    widget.setAccessibleName(name)
    return widget


def _amount_field(name: str) -> QLineEdit:
    field = _named(QLineEdit(), name)
    field.setPlaceholderText(f"{NO_LIMIT} (no limit)")
    field.setFont(theme.amount_font(field.font()))
    return field


def _spin(name: str, low: int, high: int, suffix: str) -> QSpinBox:
    spin = _named(QSpinBox(), name)
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    return spin


def _form(*rows: tuple[str, QWidget]) -> QFormLayout:
    form = QFormLayout()
    form.setVerticalSpacing(theme.GAP_SMALL)
    for label, widget in rows:
        form.addRow(label, widget)
    return form


def _group(title: str, *parts: QWidget | QHBoxLayout | QFormLayout) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setSpacing(theme.GAP)
    for part in parts:
        if isinstance(part, QWidget):
            layout.addWidget(part)
        else:
            layout.addLayout(part)
    return box


def _whole(delta: timedelta) -> int:
    return int(delta.total_seconds())
