"""Paths and helpers shared by the installer tests: the files packaging/ writes (fast) and the frozen bundle itself
(slow, built once per run into a temporary folder by packaging/build.py, exactly as a release is built)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

PROJECT = Path(__file__).resolve().parents[2]
PACKAGING = PROJECT / "packaging"
# packaging/ is not a package (its name would shadow PyPI's `packaging`): its modules are loaded from the folder.
for folder in (PACKAGING, PROJECT / "tests" / "providers", PROJECT / "tests" / "ledger"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def load_build_script() -> ModuleType:
    """packaging/build.py as a module (a file named build.py must not be imported as `build`: PyPI's `build`)."""
    spec = importlib.util.spec_from_file_location("treasury_build_script", PACKAGING / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
