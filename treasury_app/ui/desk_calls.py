"""The service calls the window's screens make for the signed-in operator, bound once per sign-in: composing,
estimating, sending, deciding, and reading one payout with what this operator may do to it.

Only glue: each call is one service call (or two that belong together, like compose then estimate); every rule
is the services'. Coroutines run on the window's loop; the `*_job` functions run on the desk's worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from treasury_app.domain.payout_actions import ActionState
from treasury_app.services.approval_queue import ApprovalQueue, approval_queue, count_waiting_for
from treasury_app.services.compose_checks import ComposeFields, PayoutOption, offered_options
from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.operator_accounts import SignedIn
from treasury_app.services.payout_actions import payout_actions
from treasury_app.services.payout_views import PayoutDetail, payout_detail

from .compose.compose_dialog import ComposeBackend, ProviderChoice
from .compose.outcome import SendOutcome
from .compose.review import Reviewed

if TYPE_CHECKING:  # the session loads after the window's first paint
    from pathlib import Path

    from treasury_app.services.audit_trail import VerifyVerdict
    from treasury_app.services.desk_session import DeskSession
    from treasury_app.services.provider_profiles import ProviderCheck
    from treasury_app.services.reports import ReportRequest, ReportWritten


@dataclass(frozen=True)
class ShownPayout:
    """One payout as the detail panel shows it: everything recorded, and the actions open to this operator."""

    detail: PayoutDetail
    actions: tuple[ActionState, ...]


class DeskCalls:
    def __init__(self, session: DeskSession, acting: SignedIn) -> None:
        self._session = session
        self.acting = acting
        self._titles = {c.name: c.title for c in session.connections}
        self._sandbox = {c.name: c.is_sandbox for c in session.connections}

    def title_of(self, provider: str) -> str:
        return self._titles.get(provider, provider)

    def is_sandbox(self, provider: str) -> bool:
        return self._sandbox.get(provider, False)

    async def export(self, request: ReportRequest, target: Path, replace: bool,
                     progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> ReportWritten:
        """A report written on a thread of its own, over its own ledger connection (the window stays free)."""
        from treasury_app.services.reports import write_report_in_background

        return await write_report_in_background(self._session.ledger.location, request, target, acting=self.acting,
                                                replace=replace, progress=progress, cancelled=cancelled,
                                                clock=self._session.clock)

    async def verify_audit(self, progress: Callable[[int, int], None]) -> VerifyVerdict:
        """The chain check on a thread of its own, over its own ledger connection (as `export`)."""
        from treasury_app.services.audit_trail import verify_in_background

        return await verify_in_background(self._session.ledger.location, self.acting, progress=progress,
                                          clock=self._session.clock)

    async def check_provider(self, name: str) -> ProviderCheck:
        """`provider check` for a saved profile: reachable, credentials accepted, balances (a client of its own,
        closed after; the desk's running connections are not touched)."""
        from treasury_app.security.credentials import CredentialStore
        from treasury_app.services.provider_profiles import ProviderProfiles

        return await ProviderProfiles(self._session.ledger.settings, CredentialStore()).check(name)

    # --- compose, estimate, send ----------------------------------------------------------------------------

    def compose_backend(self) -> ComposeBackend:
        providers = [ProviderChoice(c.name, c.title, c.is_sandbox,
                                    self._session.workflow.capabilities(c.name))
                     for c in self._session.connections]
        return ComposeBackend(providers=providers, options=self.options,
                              compose_and_estimate=self.compose_and_estimate,
                              request_approval=self.request_approval, send=self.send)

    async def options(self, provider: str) -> Sequence[PayoutOption]:
        return await offered_options(self._session.providers[provider])

    async def compose_and_estimate(self, fields: ComposeFields) -> Reviewed:
        """A new payout from the form, and the provider's figures for it (it stops at estimated: the person
        sees them before anything is sent, or sent for approval)."""
        workflow = self._session.workflow
        payout = workflow.compose(self.acting, **fields.as_compose_arguments())
        estimated = await workflow.estimate(self.acting, payout.id, route_for_approval=False)
        return self.reviewed(estimated.id)

    async def estimate_again(self, payout_id: int) -> Reviewed:
        await self._session.workflow.estimate(self.acting, payout_id, route_for_approval=False)
        return self.reviewed(payout_id)

    async def request_approval(self, payout_id: int) -> Reviewed:
        self._session.approvals.request_approval(payout_id, acting=self.acting)
        return self.reviewed(payout_id)

    async def send(self, payout_id: int) -> SendOutcome:
        sent = await self._session.workflow.execute(self.acting, payout_id)
        self._session.poller.wake()  # follow it from now, not from the next scheduled round
        return SendOutcome.after_send(sent, self.title_of(sent.provider))

    def reviewed(self, payout_id: int) -> Reviewed:
        payout = self._session.ledger.payouts.get(payout_id)
        return Reviewed(payout, self._session.approvals.policy_decision(payout), self.title_of(payout.provider),
                        self.is_sandbox(payout.provider))

    # --- reading and deciding -------------------------------------------------------------------------------

    def approval_queue(self) -> ApprovalQueue:
        return approval_queue(self._session.ledger, self._session.approvals, self.acting)

    def actions_of(self, payout_id: int) -> tuple[ActionState, ...]:
        return payout_actions(self._session.ledger, self._session.approvals, payout_id, self.acting)

    def shown_payout_job(self, payout_id: int) -> Callable[[WorkerDesk], ShownPayout]:
        return shown_payout_job(payout_id, self.acting)

    def waiting_for_me_job(self) -> Callable[[WorkerDesk], int]:
        acting = self.acting
        return lambda desk: count_waiting_for(desk.ledger, acting)


def shown_payout_job(payout_id: int, acting: SignedIn | None) -> Callable[[WorkerDesk], ShownPayout]:
    """Reading one payout for the detail panel, on the worker thread (None: nobody signed in, no action open)."""

    def read(desk: WorkerDesk) -> ShownPayout:
        detail = payout_detail(desk.ledger, payout_id)
        return ShownPayout(detail, payout_actions(desk.ledger, desk.approvals, detail.payout, acting))

    return read
