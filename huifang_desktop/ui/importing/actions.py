"""The 文件 menu's import actions (导入 Excel…, 导入记录…). Kept apart from the wizard so that the main window
builds its menu without importing the wizard and the import services: they load on first use."""

from __future__ import annotations

from typing import Any


def add_import_action(window: Any, menu: Any) -> Any:
    """文件 → 导入 Excel… (Ctrl+I) and 导入记录… on the main window: hidden until the window is attached to
    a user who may edit customer files (``MainWindow.attach`` shows them).

    Kept here so the main window needs one call; the wizard lives in ``window.import_wizard`` and a finished
    import refreshes the tabs that show imported data."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QAction

    allowed = False
    action = QAction(QCoreApplication.translate("MainWindow", "导入 Excel…"), window)
    window.defer_shortcut(action, "Ctrl+I")
    action.setStatusTip(
        QCoreApplication.translate("MainWindow", "导入本单位现有的客户台账、回访台账、投诉台账或售后服务台账")
    )
    action.setVisible(allowed)
    action.setEnabled(allowed)

    def refresh(_result: object) -> None:
        window.refresh_tabs(("customers", "complaints", "calendar", "ledgers"))

    def open_wizard() -> None:
        previous = getattr(window, "import_wizard", None)
        from huifang_desktop.ui.importing.wizard import open_import_wizard

        wizard = open_import_wizard(window.ctx, window, previous)
        if wizard is not previous:
            wizard.imported.connect(refresh)
            wizard.undone.connect(refresh)
        window.import_wizard = wizard

    action.triggered.connect(open_wizard)
    menu.addAction(action)
    window.import_action = action

    runs_action = QAction(QCoreApplication.translate("MainWindow", "导入记录…"), window)
    runs_action.setStatusTip(
        QCoreApplication.translate("MainWindow", "查看以往的 Excel 导入，整体撤销其中一次")
    )
    runs_action.setVisible(allowed)
    runs_action.setEnabled(allowed)

    def open_runs() -> None:
        from huifang_desktop.ui.importing.runs_dialog import ImportRunsDialog

        previous = getattr(window, "import_runs_dialog", None)
        if previous is not None and previous.isVisible():
            previous.raise_()
            previous.activateWindow()
            return
        dialog = ImportRunsDialog(window.ctx, window)
        dialog.undone.connect(refresh)
        dialog.open()
        window.import_runs_dialog = dialog

    runs_action.triggered.connect(open_runs)
    menu.addAction(runs_action)
    window.import_runs_action = runs_action
    return action


__all__ = ["add_import_action"]
