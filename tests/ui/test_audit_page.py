"""pytest-qt tests of the 操作日志 page for people (issue 18 item 6): the 变更 column, names instead of ids, no
hashes in the list, and the detail dialog (double-click) with the stored JSON, chain position and hashes."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

from huifang_desktop.services import visits as visit_service
from huifang_desktop.ui.review.audit_page import AuditEntryDialog, AuditLogPage
from tests.services.test_review import customer, draft_of, record

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _page(qtbot, ctx) -> AuditLogPage:
    page = AuditLogPage(ctx)
    qtbot.addWidget(page)
    page.resize(1280, 600)
    page.show()
    qtbot.waitExposed(page)
    return page


def _cells(page: AuditLogPage) -> list[list[str]]:
    m = page.model
    return [[m.index(r, c).data() or "" for c in range(m.columnCount())] for r in range(m.rowCount())]


def test_audit_list_shows_change_column_names_and_no_hashes(qtbot, ctx, clerk, supervisor, admin):
    cctx = ctx.as_user(clerk)  # the supervisor (fixture) was made by the admin: 角色：客服主管 in the log
    rec = record(cctx, customer(cctx), visitor_id=clerk.id)
    visit_service.update_record(cctx, rec.id, draft_of(rec, feedback="送货及时，包装破损"), rec.version)
    page = _page(qtbot, ctx.as_user(admin))
    headers = [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(page.model.columnCount())]
    assert headers == ["时间", "用户", "操作", "对象", "变更", "原值", "新值", "备注"]
    rows = {r[2]: r for r in _cells(page)}
    assert rows["修改回访记录"][4] == "客户意见/反馈：送货及时 → 送货及时，包装破损"
    assert "回访人：小王" in rows["填写回访记录"][6]
    text = "\n".join(" ".join(r) for r in _cells(page))
    assert "角色：客服主管" in text and "supervisor" not in text and "clerk" not in text
    assert not HEX64.search(text) and "{" not in text


def test_double_click_opens_the_detail_with_json_chain_position_and_hashes(qtbot, ctx, clerk, admin):
    page = _page(qtbot, ctx.as_user(admin))
    row = next(r for r in range(page.model.rowCount()) if page.model.index(r, 2).data() == "登记签字密钥")
    index = page.model.index(row, 3)
    rect = page.table.visualRect(index)
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a real double
    qtbot.mouseDClick(
        page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )  # click: press first
    qtbot.waitUntil(lambda: page.detail_dialog is not None and page.detail_dialog.isVisible(), timeout=5000)
    dialog = page.detail_dialog
    assert isinstance(dialog, AuditEntryDialog) and dialog.windowTitle() == "操作记录详情"
    shown = page.model.row_at(index)
    raw = dialog.raw.toPlainText()
    assert '"public_key": "' in raw and '\n  "state": {' in raw  # pretty-printed JSON, key material in full
    assert HEX64.search(raw)
    assert dialog.labels["审计链序号"].text() == str(shown.seq)
    assert HEX64.fullmatch(dialog.labels["本行校验值"].text())
    assert dialog.labels["本行校验值"].text() == shown.row_hash
    assert HEX64.fullmatch(dialog.labels["上一行校验值"].text())
    dialog.reject()
