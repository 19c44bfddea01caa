"""The window as the person left it — size and place, the split between table and detail, the table's columns
(widths, order, sort) and the filters — restored at the next start on the same data folder.

Kept in the data folder (`window.json`, beside the ledger: another desk, another layout). Nothing in it decides
anything or is secret: Qt's own layout blobs (base64) and the filter bar's choice. A file that cannot be read or
makes no sense is ignored (the window opens as on a first start), and one that cannot be written costs the
layout only, never the closing of the window: a person closing the app must not see it fail over a layout.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.payout_table import PayoutFilter

from .payouts.filters import PERIODS, FilterChoice

if TYPE_CHECKING:
    from .main_window import DeskWindow
    from .payouts.model import PayoutTableModel

log = logging.getLogger(__name__)
STATE_FILE = "window.json"
FORMAT = 1  # bumped when the file's meaning changes: an older file is then ignored, not misread
_PERIOD_DAYS = {days for _, days in PERIODS}


@dataclass(frozen=True)
class WindowState:
    geometry: bytes = b""  # QWidget.saveGeometry: size, place, maximised
    splitter: bytes = b""  # table beside detail
    columns: bytes = b""  # QHeaderView.saveState: widths, order, sort indicator
    filters: FilterChoice = field(default_factory=FilterChoice)


def reopen_as_left(window: DeskWindow, model: PayoutTableModel, data_dir: Path) -> None:
    """Lay the window out as it was left on this data folder and ask the ledger for the table's first query
    (the saved filters and sort, or everything newest first) — one query, whatever was restored."""
    state = read_window_state(data_dir)
    if state is None:
        model.set_query(PayoutFilter())
        return
    restore_layout(window, state)
    window.filters.choose(state.filters, announce=False)
    header = window.table.horizontalHeader()
    model.set_query(window.filters.current_filter(),
                    model.sort_for(header.sortIndicatorSection(), header.sortIndicatorOrder()))


def save_as_left(window: DeskWindow, data_dir: Path) -> None:
    write_window_state(data_dir, capture(window))


def capture(window: DeskWindow) -> WindowState:
    return WindowState(geometry=bytes(window.saveGeometry().data()), splitter=bytes(window.splitter.saveState().data()),
                       columns=bytes(window.table.horizontalHeader().saveState().data()),
                       filters=window.filters.current_choice())


def restore_layout(window: DeskWindow, state: WindowState) -> None:
    """Size, split and columns (the filters go through the filter bar, which asks the ledger: see Shell.show)."""
    if state.geometry:
        window.restoreGeometry(QByteArray(state.geometry))
    if state.splitter:
        window.splitter.restoreState(QByteArray(state.splitter))
    if state.columns:
        header = window.table.horizontalHeader()
        header.blockSignals(True)  # the sort is asked of the ledger once, with the filters
        try:
            header.restoreState(QByteArray(state.columns))
        finally:
            header.blockSignals(False)


def read_window_state(data_dir: Path) -> WindowState | None:
    """The state saved for this data folder; None when there is none or it cannot be used (said in the log)."""
    path = data_dir / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        log.warning("the window's layout in %s cannot be read (%s); starting with the first layout", path, error)
        return None
    try:
        return _from_json(json.loads(text))
    except (ValueError, TypeError, KeyError) as error:
        log.warning("the window's layout in %s makes no sense (%s); starting with the first layout", path, error)
        return None


def write_window_state(data_dir: Path, state: WindowState) -> None:
    """Replace the saved state whole (a temporary file renamed over it), or log why not."""
    path = data_dir / STATE_FILE
    try:
        handle, name = tempfile.mkstemp(dir=data_dir, prefix=f".{STATE_FILE}.", suffix=".partial")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(_to_json(state), stream, indent=1)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.warning("the window's layout could not be saved in %s (%s)", path, error)


def _to_json(state: WindowState) -> dict[str, Any]:
    chosen = state.filters
    return {
        "format": FORMAT,
        "geometry": base64.b64encode(state.geometry).decode("ascii"),
        "splitter": base64.b64encode(state.splitter).decode("ascii"),
        "columns": base64.b64encode(state.columns).decode("ascii"),
        "filters": {"statuses": [s.value for s in chosen.statuses], "provider": chosen.provider,
                    "currency": chosen.currency, "period_days": chosen.period_days, "text": chosen.text,
                    "by_final_time": chosen.by_final_time},
    }


def _from_json(data: dict[str, Any]) -> WindowState:
    if data.get("format") != FORMAT:
        raise ValueError(f"format {data.get('format')!r}, this version reads {FORMAT}")
    filters = data["filters"]
    period = filters["period_days"]
    if period not in _PERIOD_DAYS:
        raise ValueError(f"no period of {period!r} days")
    choice = FilterChoice(statuses=tuple(PayoutStatus(s) for s in filters["statuses"]),
                          provider=_optional_text(filters["provider"]), currency=_optional_text(filters["currency"]),
                          period_days=period, text=str(filters["text"]),
                          by_final_time=filters.get("by_final_time") is True)  # absent in files of before it
    return WindowState(geometry=base64.b64decode(data["geometry"], validate=True),
                       splitter=base64.b64decode(data["splitter"], validate=True),
                       columns=base64.b64decode(data["columns"], validate=True), filters=choice)


def _optional_text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{value!r} is not a name")
    return value
