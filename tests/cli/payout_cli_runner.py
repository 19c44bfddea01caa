"""The command line run in-process for the CLI tests: `CliRunner` with a data folder, the sandbox's URL and the
acting operator's password, and JSON output read so that a float in it fails the test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from desk_fixtures import password_of

from treasury_app.cli import main
from treasury_app.commands.password_input import PASSWORD_ENV
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

@dataclass
class CommandLine:
    """`treasury-app --data-dir DIR …` in this process; `--as NAME` signs in with NAME's password."""

    data_dir: Path
    sandbox_url: str

    def __call__(self, *args: str, input: str | None = None) -> Result:
        acting = args[args.index("--as") + 1] if "--as" in args else None
        env = {SANDBOX_URL_ENV: self.sandbox_url, PASSWORD_ENV: password_of(acting) if acting else None}
        return CliRunner().invoke(main, ["--data-dir", str(self.data_dir), *args], input=input, env=env,
                                  catch_exceptions=False)

    def json(self, *args: str, input: str | None = None) -> tuple[Any, Result]:
        """The command's --json output (read so that any float in it fails the test), and the result."""
        result = self(*args, "--json", input=input)
        return json.loads(result.stdout, parse_float=_no_float), result


def _no_float(text: str) -> Any:
    raise AssertionError(f"JSON output carries the float {text}; amounts must be decimal strings")

