"""How the window looks: the palette for light and dark system themes, spacing, fonts for amounts, status
colours and icons, and the icons of `resources/icons` (Lucide, drawn in `currentColor`) coloured at load time.

Every screen takes its colours and sizes from here, so the window looks like one application.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from treasury_app.app_paths import resources_dir
from treasury_app.domain.payout_lifecycle import PayoutStatus

# Spacing on a 4-pixel grid: every margin and gap of the window is one of these.
GAP_SMALL = 4
GAP = 8
GAP_LARGE = 16
MARGIN = 12
ICON_SIZE = QSize(18, 18)
TOOLBAR_ICON_SIZE = QSize(20, 20)


@dataclass(frozen=True)
class StatusLook:
    label: str  # what a person reads
    icon: str  # a file of resources/icons
    light: str  # colour on a light background
    dark: str  # colour on a dark background
    attention: bool = False  # needs a person: shown bold


_STATUS_LOOKS: dict[PayoutStatus, StatusLook] = {
    PayoutStatus.DRAFT: StatusLook("Draft", "pencil-line", "#5f6368", "#a8adb4"),
    PayoutStatus.ESTIMATED: StatusLook("Estimated", "calculator", "#5f6368", "#a8adb4"),
    PayoutStatus.AWAITING_APPROVAL: StatusLook("Awaiting approval", "hourglass", "#a15c00", "#f2b552", True),
    PayoutStatus.APPROVED: StatusLook("Approved", "badge-check", "#1a5fb4", "#78aeed"),
    PayoutStatus.SUBMITTING: StatusLook("Sending", "loader", "#1a5fb4", "#78aeed"),
    PayoutStatus.PROCESSING: StatusLook("Processing", "clock-3", "#1a5fb4", "#78aeed"),
    PayoutStatus.COMPLETED: StatusLook("Completed", "circle-check-big", "#1e7b34", "#6fcf7f"),
    PayoutStatus.FAILED: StatusLook("Failed", "circle-x", "#b3261e", "#f28b82", True),
    PayoutStatus.CANCELLED: StatusLook("Cancelled", "ban", "#5f6368", "#a8adb4"),
    PayoutStatus.REJECTED: StatusLook("Rejected", "circle-slash", "#b3261e", "#f28b82"),
    PayoutStatus.EXPIRED: StatusLook("Expired", "circle-dashed", "#5f6368", "#a8adb4"),
    PayoutStatus.UNKNOWN: StatusLook("Unknown — checking", "circle-help", "#c2410c", "#fb923c", True),
}

SANDBOX_COLOURS = ("#7c3aed", "#ffffff")  # badge background, text: unmistakable, unlike any status
ERROR_COLOUR = ("#b3261e", "#f28b82")
WARNING_COLOUR = ("#a15c00", "#f2b552")
OK_COLOUR = ("#1e7b34", "#6fcf7f")


def status_look(status: PayoutStatus) -> StatusLook:
    return _STATUS_LOOKS[PayoutStatus(status)]


def status_label(status: PayoutStatus) -> str:
    return status_look(status).label


def status_colour(status: PayoutStatus) -> QColor:
    look = status_look(status)
    return QColor(look.dark if is_dark() else look.light)


def status_icon(status: PayoutStatus) -> QIcon:
    look = status_look(status)
    return icon(look.icon, look.dark if is_dark() else look.light)


def tone(pair: tuple[str, str]) -> QColor:
    """The light-theme or dark-theme colour of a (light, dark) pair, for the current palette."""
    return QColor(pair[1] if is_dark() else pair[0])


def is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def icon(name: str, colour: str | None = None) -> QIcon:
    """A Lucide icon from resources/icons, in `colour` (default: the palette's text colour)."""
    if colour is None:
        colour = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name() \
            if QGuiApplication.instance() else "#202124"
    return _icon(name, colour)


@cache
def _icon(name: str, colour: str) -> QIcon:
    svg = (resources_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")
    return _rendered(svg.replace("currentColor", colour), (16, 20, 24, 32, 48))


def app_icon() -> QIcon:
    """The application's own icon (resources/app-icon), the same drawing the installers render their sizes from."""
    svg = (resources_dir() / "app-icon" / "treasury-desk.svg").read_text(encoding="utf-8")
    return _rendered(svg, (16, 24, 32, 48, 64, 128, 256))


def _rendered(svg: str, sizes: tuple[int, ...]) -> QIcon:
    # Pixmaps drawn at each size, not one scaled: small sizes stay sharp, and no SVG icon-engine plugin is needed.
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in sizes:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pixmap)
    return result


def amount_font(base: QFont | None = None, *, bold: bool = False) -> QFont:
    """Amounts in tabular (fixed-width) digits, so that columns of figures line up digit under digit."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if base is not None:
        font.setPointSizeF(base.pointSizeF())
    font.setBold(bold)
    return font


def heading_font(base: QFont, *, scale: float = 1.35) -> QFont:
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * scale)
    font.setBold(True)
    return font


def apply(app: QApplication) -> None:
    """The app-wide look: Fusion (the same on every platform, and it follows the palette), the system's
    light or dark colour scheme, and a few style rules that the palette cannot say."""
    app.setStyle("Fusion")
    hints = QGuiApplication.styleHints()
    dark = hints.colorScheme() == Qt.ColorScheme.Dark
    app.setPalette(_dark_palette() if dark else _light_palette())
    _icon.cache_clear()
    app.setStyleSheet(_STYLE)


def _light_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f6f7f9", QPalette.ColorRole.WindowText: "#202124",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f1f3f5",
        QPalette.ColorRole.Text: "#202124", QPalette.ColorRole.Button: "#eef0f3",
        QPalette.ColorRole.ButtonText: "#202124", QPalette.ColorRole.Highlight: "#1a5fb4",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#202124", QPalette.ColorRole.PlaceholderText: "#80868b",
        QPalette.ColorRole.Link: "#1a5fb4", QPalette.ColorRole.Mid: "#c4c7cc",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa0a6"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa0a6"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#9aa0a6"))
    return palette


def _dark_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1f2124", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#232528",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2b2e32",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.Highlight: "#3d7fd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2b2e32",
        QPalette.ColorRole.ToolTipText: "#e8eaed", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Link: "#78aeed", QPalette.ColorRole.Mid: "#3c4043",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7075"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b7075"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#6b7075"))
    return palette


# What the palette cannot say: roomier inputs and buttons, the primary button, field errors, the badge.
_STYLE = """
QLineEdit, QComboBox, QPlainTextEdit, QDateEdit { padding: 4px 6px; }
QPushButton { padding: 6px 14px; }
QPushButton[primary="true"] { background: palette(highlight); color: palette(highlighted-text);
                              border: 1px solid palette(highlight); border-radius: 3px; font-weight: bold; }
QPushButton[primary="true"]:disabled { background: palette(mid); border-color: palette(mid); }
QLabel[role="field-error"] { color: #b3261e; }
QLabel[role="hint"] { color: palette(placeholder-text); }
QLabel[role="sandbox-badge"] { background: #7c3aed; color: white; font-weight: bold; padding: 2px 8px;
                               border-radius: 3px; }
QFrame[role="card"] { background: palette(base); border: 1px solid palette(mid); border-radius: 4px; }
"""
