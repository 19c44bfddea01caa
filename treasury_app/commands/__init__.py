"""Command groups of `treasury-app` kept out of `cli.py` so that each stays short; `cli.py` registers them.

Each command opens the desk, calls one service, and prints; nothing here decides anything.
"""

from __future__ import annotations

import click

from treasury_app.services.desk import Desk


def open_desk(ctx: click.Context) -> Desk:
    # Imported when a command runs: cli.py imports these modules to register them.
    from treasury_app.cli import data_dir_of

    return Desk.open(data_dir_of(ctx))
