"""Issue 23 item 5 in the GUI: 打印… of a 绝密 ledger is disabled like 导出 Excel… for users without
Permission.EXPORT_TOP_SECRET, a print preview of a 绝密 document offers them neither 打印 nor 另存为 PDF, and
the 客户档案可见范围 in 设置 is the manager's or administrator's (Permission.MANAGE_POLICY)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huifang_desktop.services.ledgers import Ledger
from huifang_desktop.ui.common.print_preview import preview_document
from tests.services import test_ledgers
from tests.services.test_ledgers import Office
from tests.ui import test_ledgers_tab
from tests.ui.test_ledgers_tab import _pick

office = test_ledgers.office  # fixtures shared with the ledger tests
make_tab = test_ledgers_tab.make_tab


def test_clerk_cannot_print_the_top_secret_customer_ledger(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.clerk)
    assert tab.ledger is Ledger.CUSTOMERS
    assert not tab.print_button.isEnabled() and "绝密" in tab.print_button.toolTip()
    tab.print_ledger()  # Ctrl+P reaches the slot even with the button disabled: nothing starts
    assert tab.task is None and tab.preview is None
    _pick(qtbot, tab, Ledger.VISITS)  # not 绝密: a clerk prints it
    assert tab.print_button.isEnabled()


def test_preview_of_a_top_secret_document_offers_no_output_without_the_right(
    qtbot: Any, make_tab: Any, office: Office, tmp_path: Path
) -> None:
    tab = make_tab(office.supervisor)
    assert tab.print_button.isEnabled()
    tab.print_ledger()
    qtbot.waitUntil(lambda: tab.preview is not None, timeout=20_000)
    assert tab.preview.save_button.isEnabled() and tab.preview.print_button.isEnabled()
    doc_pdf = tab.preview.pdf

    from huifang_desktop.services.ledgers import print_document

    doc = print_document(office.supervisor, Ledger.CUSTOMERS)
    assert doc.pdf[:5] == doc_pdf[:5] and doc.top_secret
    dialog = preview_document(tab, office.clerk, doc)  # a clerk handed the document anyway
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled() and not dialog.print_button.isEnabled()
    assert "绝密" in dialog.save_button.toolTip()
    assert dialog.save_to(tmp_path / "secret.pdf") is False
    assert not (tmp_path / "secret.pdf").exists()
    dialog.ask_save()
    assert dialog.file_dialog is None


def test_supervisor_cannot_change_visibility_in_the_settings_dialog(
    qtbot: Any, ctx: Any, supervisor: Any, manager: Any
) -> None:
    from huifang_desktop.services.settings import VISIBILITY_DEPARTMENT, load_settings
    from huifang_desktop.ui.settings import SettingsDialog

    dialog = SettingsDialog(ctx.as_user(supervisor))
    qtbot.addWidget(dialog)
    office = dialog.office_page
    assert dialog.editable and office.company.isEnabled()  # the rest of the office page stays theirs
    assert not office.visibility.isEnabled() and "经理" in office.visibility.toolTip()
    office.set_read_only(False)
    assert not office.visibility.isEnabled()

    boss = SettingsDialog(ctx.as_user(manager))
    qtbot.addWidget(boss)
    assert boss.office_page.visibility.isEnabled()
    boss.office_page.visibility.setCurrentIndex(boss.office_page.visibility.findData(VISIBILITY_DEPARTMENT))
    assert boss.apply()
    assert load_settings(ctx).visibility == VISIBILITY_DEPARTMENT
