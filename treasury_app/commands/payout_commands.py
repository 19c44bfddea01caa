"""`treasury-app payout …`: the group that gathers the payout commands of the workflow, in the order of a
payout's life (each command lives in the module of its kind)."""

from __future__ import annotations

import click

from .payout_approval_commands import payout_approve, payout_reject
from .payout_reading_commands import payout_list, payout_show
from .payout_workflow_commands import payout_estimate, payout_execute, payout_new


@click.group("payout")
def payout_group() -> None:
    """Payouts: compose and estimate, approve or reject, execute, show and list."""


for _command in (payout_new, payout_estimate, payout_approve, payout_reject, payout_execute, payout_show, payout_list):
    payout_group.add_command(_command)
