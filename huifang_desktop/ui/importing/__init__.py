"""导入 Excel 台账: the import wizard (customers, visit history, complaints, service records) and 导入记录.

The names load lazily (PEP 562): the main window's menu needs only ``actions``, not the wizard."""

from __future__ import annotations

from typing import Any

__all__ = ["ImportWizard", "add_import_action", "open_import_wizard"]


def __getattr__(name: str) -> Any:
    if name == "add_import_action":
        from huifang_desktop.ui.importing.actions import add_import_action

        return add_import_action
    if name in ("ImportWizard", "open_import_wizard"):
        from huifang_desktop.ui.importing import wizard

        return getattr(wizard, name)
    raise AttributeError(name)
