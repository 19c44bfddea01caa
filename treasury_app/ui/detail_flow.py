"""The detail panel at work: which payout it shows (only the latest read is shown: the worker reads in order),
and what its action buttons open — the approvals, the send dialog, an estimate again, a request for approval,
the address book's form. The services decide what each operator may do; this only routes the click."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from treasury_app.domain.payout_actions import PayoutAction

from .operations import Changed, Operations

if TYPE_CHECKING:
    from treasury_app.services.provider_directory import ProviderConnection

    from .desk_calls import DeskCalls, ShownPayout
    from .desk_dialogs import DeskDialogs
    from .payouts.detail import DetailPanel


class DetailFlow:
    def __init__(self, operations: Operations, panel: DetailPanel, dialogs: DeskDialogs,
                 calls: Callable[[], DeskCalls | None], connections: Callable[[], Sequence[ProviderConnection]],
                 provider_titles: Mapping[str, str]) -> None:
        self._operations = operations
        self._panel = panel
        self._dialogs = dialogs
        self._calls = calls  # the signed-in operator's, read at each use (None: nobody signed in)
        self._connections = connections
        self._titles = provider_titles
        self.shown: ShownPayout | None = None  # what the panel shows
        self.wanted: int | None = None  # the payout the panel is to show (its read may be under way)
        self._reads = 0

    def show(self, payout_id: int) -> None:
        """Read `payout_id` (0: none) with the signed-in operator's actions, and show it when read."""
        self._reads += 1
        if not payout_id:
            self.clear()
            return
        self.wanted = payout_id
        calls = self._calls()
        number = self._reads
        from .desk_calls import shown_payout_job

        self._operations.run_in_worker(f"show payout {payout_id}",
                                       shown_payout_job(payout_id, calls.acting if calls is not None else None),
                                       on_done=lambda shown: self._read(number, shown))

    def clear(self) -> None:
        """Nothing shown, and a read under way (for an operator signing out, say) is not shown when it ends."""
        self._reads += 1
        self.wanted = self.shown = None
        self._panel.clear()

    def act(self, action: PayoutAction, payout_id: int) -> None:
        calls = self._calls()
        if calls is None:
            return
        shown = self.shown if self.shown and self.shown.detail.payout.id == payout_id else None
        if action in (PayoutAction.APPROVE, PayoutAction.REJECT):
            self._dialogs.approvals(payout_id)
        elif action is PayoutAction.EXECUTE:
            self._dialogs.send(payout_id, shown.detail.approved_by if shown else ())
        elif action is PayoutAction.ESTIMATE:
            self._operations.run(f"estimate payout {payout_id} again", lambda: calls.estimate_again(payout_id),
                                 changed=lambda _r: Changed.payout(payout_id))
        elif action is PayoutAction.ADD_TO_ADDRESS_BOOK and shown is not None:
            self._dialogs.address_book(shown.detail.payout)
        elif action is PayoutAction.REQUEST_APPROVAL:
            self._operations.run(f"send payout {payout_id} for approval", lambda: calls.request_approval(payout_id),
                                 changed=lambda _r: Changed.payout(payout_id))

    def _read(self, number: int, shown: ShownPayout) -> None:
        if number != self._reads:
            return  # another payout was chosen, or this one changed, since this read was asked for
        self.shown = shown
        provider = shown.detail.payout.provider
        connection = next((c for c in self._connections() if c.name == provider), None)
        self._panel.show_payout(shown.detail, shown.actions,
                                provider_title=connection.title if connection else self._titles.get(provider, provider),
                                is_sandbox=bool(connection and connection.is_sandbox))
