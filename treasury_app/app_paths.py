"""Where the app keeps its data: one folder holding the ledger, chosen by flag, environment or platform."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from treasury_app.identity import DATA_FOLDER

DATA_DIR_ENV = "TREASURY_DATA_DIR"
LEDGER_FILENAME = "ledger.sqlite3"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir` wins, then `TREASURY_DATA_DIR`, then the platform's user data folder."""
    chosen = explicit or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(DATA_FOLDER, appauthor=False)
    return Path(chosen).expanduser().resolve()


def ledger_path(data_dir: Path) -> Path:
    return data_dir / LEDGER_FILENAME


def resources_dir() -> Path:
    """The folder of the app's icons and images: `resources/` beside the package, or inside a frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files there
    base = Path(bundle) if bundle else Path(__file__).resolve().parent.parent
    return base / "resources"
