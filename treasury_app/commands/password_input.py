"""Where the command line gets passwords: a hidden prompt in a terminal; `TREASURY_PASSWORD` or standard
input for scripts. A password is never an option (it would show in the shell history and `ps`)."""

from __future__ import annotations

import os
import sys

import click

PASSWORD_ENV = "TREASURY_PASSWORD"


def acting_password(name: str) -> str:
    """The password of the operator named by `--as`: `TREASURY_PASSWORD` if set, else asked for (hidden)."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not stdin_is_a_terminal():
        raise click.ClickException(
            f"no password for '{name}': set {PASSWORD_ENV} or run the command in a terminal to be asked for it"
        )
    return click.prompt(f"Password for {name}", hide_input=True, err=True)


def new_password(name: str) -> str:
    """A new password: asked twice in a terminal, or the first line of standard input when it is not one."""
    if stdin_is_a_terminal():
        return click.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise click.ClickException(f"no new password for '{name}': give it as the first line of standard input")
    return password


def stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False
