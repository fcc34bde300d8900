"""导入 Excel 台账: the import wizard (customers, visit history, complaints)."""

from huifang_desktop.ui.importing.wizard import ImportWizard, add_import_action, open_import_wizard

__all__ = ["ImportWizard", "add_import_action", "open_import_wizard"]
