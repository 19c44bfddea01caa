"""Command groups of `treasury-app` kept out of `cli.py` so that each stays short; `cli.py` registers them.

Each command opens the desk, calls one service, and prints; nothing here decides anything. What every command
needs from the root group (the data folder it resolved) is read here, so that nothing imports `cli.py` back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # loaded by the first command that opens the desk; the bare command (the window) never does
    from treasury_app.services.desk import Desk

# The keys under which the root group leaves the resolved data folder and `--ledger` in the click context.
DATA_DIR_KEY = "data_dir"
LEDGER_KEY = "ledger"


def data_dir_of(ctx: click.Context) -> Path:
    return ctx.find_root().obj[DATA_DIR_KEY]


def open_desk(ctx: click.Context) -> Desk:
    from treasury_app.services.desk import Desk
    from treasury_app.services.ledger_choice import choose_ledger

    data_dir = data_dir_of(ctx)
    return Desk.open(data_dir, choose_ledger(data_dir, ctx.find_root().obj.get(LEDGER_KEY)))
