"""Every control a person can reach has a name a screen reader can say: a button its text (or, for an icon
button, its accessible name), a field, a list or a choice its accessible name. Walked on every screen of the
window, as the window shows it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from ui_loop import drive, until
from window_driver import compose, on_dashboard, open_administration, open_dialog, sign_in, sign_out

from treasury_app.services.desk_news import Notice, NoticeKind
from treasury_app.ui.approvals.queue_dialog import ApprovalsDialog
from treasury_app.ui.export_dialog import ExportDialog

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QTextEdit, QPlainTextEdit, QAbstractItemView)


def nameless(root: QWidget) -> list[str]:
    """The visible controls under `root` with nothing for a screen reader to say."""
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), (QComboBox, QAbstractSpinBox)):
            continue  # the editor inside a choice or a date: the choice's name is said
        if isinstance(widget, QAbstractItemView) and isinstance(widget.parent(), QComboBox):
            continue
        said = widget.accessibleName() or (widget.text() if isinstance(widget, QAbstractButton) else "")
        if not said.strip():
            found.append(f"{type(widget).__name__} {widget.objectName()!r} tip={widget.toolTip()!r} in {type(widget.parent()).__name__} {widget.parent().objectName()!r}")
    return found


def test_every_control_on_every_screen_has_a_name(shell, loop, qtbot):
    async def story() -> None:
        await until(lambda: shell.window.screens.currentWidget() is shell.sign_in, what="the sign-in screen")
        assert nameless(shell.window) == [], "sign-in"
        await sign_in(shell, qtbot, "iris", to_table=False)
        await until(lambda: on_dashboard(shell) and shell.dashboard.screen.figures is not None, what="the dashboard")
        assert nameless(shell.window) == [], "dashboard"
        shell.window.payouts.trigger()
        await until(lambda: shell.model.rowCount() > 0, what="the table")
        shell.window.table.selectRow(0)
        await until(lambda: shell.window.detail.isVisible(), what="the detail panel")
        assert nameless(shell.window) == [], "desk"
        shown = shell.session.ledger.payouts.get(shell.model.payout_id_at(0))
        shell.notices.notifier.notify((Notice(NoticeKind.COMPLETED, shown),))
        assert shell.notices.bar.isVisible()
        assert nameless(shell.window) == [], "desk with a notification"
        dialog = await compose(shell, qtbot, amount="12.5")
        assert nameless(dialog) == [], "compose"
        dialog.close()
        shell.window.approvals.trigger()
        approvals = await open_dialog(shell, ApprovalsDialog)
        assert nameless(approvals) == [], "approvals"
        approvals.close()
        shell.window.export.trigger()
        export = await open_dialog(shell, ExportDialog)
        assert nameless(export) == [], "export"
        export.close()
        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "ada")
        admin = await open_administration(shell)
        for tab in (admin.operators, admin.policy, admin.providers):
            admin.show_tab(tab)
            assert nameless(admin) == [], f"administration: {admin.tabs.tabText(admin.tabs.currentIndex())}"
        admin.operators.select_operator("iris")
        for button in (admin.operators.add_button, admin.operators.roles_button, admin.operators.reset_button):
            admin.show_tab(admin.operators)
            button.click()
            form = await until(lambda: next((f for f in admin.operators.forms if f.isVisible()), None),
                               what="the operator form")
            assert nameless(form) == [], form.windowTitle()
            form.close()
        await sign_out(shell, qtbot)

    drive(loop, shell, story)


def test_the_first_run_screen_names_its_controls(loop, qtbot, tmp_path, sandbox):
    from ui_desk import open_shell
    from ui_loop import ui_run

    from treasury_app.ui.first_run import FirstRunScreen

    folder = tmp_path / "new-desk"
    folder.mkdir()
    shell = ui_run(loop, open_shell(folder, sandbox, demo=False))
    qtbot.addWidget(shell.window)
    try:
        async def story() -> None:
            first = await until(lambda: next(iter(shell.window.findChildren(FirstRunScreen)), None),
                                what="the first-run screen")
            assert first.isVisible()
            assert nameless(shell.window) == []

        drive(loop, shell, story)
    finally:
        ui_run(loop, shell.session.aclose())
