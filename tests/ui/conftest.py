"""Window tests run real Qt widgets on the offscreen platform (no display needed, the same on CI)."""

import os

# Before pytest-qt makes the QApplication; a developer's own display is never used by the tests.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
