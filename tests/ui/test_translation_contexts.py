"""The translation contexts line up end to end: the text ``pyside6-lupdate`` extracts (under the context it
reads from the source) is the text Qt finds at run time (under the context it asks for).

A .ts file of the whole UI is made, every message given a marker translation (``EN:`` and each Chinese
character replaced by ``x``), compiled with ``pyside6-lrelease`` and installed; then the windows open and no
label, button, group box, tab, menu or window title may still show a Chinese run that is in the source
text. What is left is data (the customer, the complaint, the user): the fixtures' own values, listed.

This covers the widgets built from a layout base class (``ComplaintDetailLayout`` → ``ComplaintDetailView``
→ ``ComplaintDetailPane``; ``VisitRecordDialog`` → ``RecordCorrectionDialog``): PySide6's ``self.tr`` looks a
text up along the class's MRO (PYSIDE-131), so a text written in a base class, filed by lupdate under the
base class, is found for the subclass — this test keeps that true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMenu,
    QPushButton,
    QTabWidget,
    QWidget,
)

from tests.ui.i18n_tools import HAN, lupdate, mark_and_release, marked, tool

RUN = re.compile(r"[\u3400-\u9fff]+")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """The marker .qm of the whole UI, and every Chinese run of its source texts."""
    if tool("pyside6-lupdate") is None or tool("pyside6-lrelease") is None:
        pytest.skip("pyside6-lupdate / pyside6-lrelease are not installed (they come with the PySide6 wheel)")
    folder = tmp_path_factory.mktemp("i18n")
    ts, qm = folder / "huifang_en.ts", folder / "huifang_en.qm"
    found = lupdate(ts)
    mark_and_release(ts, qm)
    runs = {run for texts in found.values() for text in texts for run in RUN.findall(text)}
    return qm, runs


@pytest.fixture
def english(qapp, catalogue: tuple[Path, set[str]]) -> Iterator[set[str]]:
    """The marker translation installed for one test; yields the source runs."""
    qm, runs = catalogue
    translator = QTranslator()
    assert translator.load(str(qm))
    QCoreApplication.installTranslator(translator)
    assert QCoreApplication.translate("Column", "客户编号") == "EN:xxxx"
    yield runs
    QCoreApplication.removeTranslator(translator)


def _qt_own(w: QWidget) -> bool:
    """A standard button of a button box (确定, 取消 …): Qt's own catalogue names it, not this program's
    (and the session's QApplication may have Qt's Chinese one installed, see test_qt_chinese.py)."""
    box = w.parent()
    return (
        isinstance(w, QPushButton)
        and isinstance(box, QDialogButtonBox)
        and (box.standardButton(w) != QDialogButtonBox.StandardButton.NoButton)
    )


def _texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) of every label, button, group box, tab, menu, action and window title under ``root``
    (hidden ones too: inline forms and pages show them later)."""
    for w in [root, *root.findChildren(QWidget)]:
        if _qt_own(w):
            continue
        where = f"{type(w).__name__} {w.objectName()!r}"
        if w.isWindow():
            yield f"{where} title", w.windowTitle()
        if isinstance(w, QLabel):
            yield where, w.text()
        if isinstance(w, QAbstractButton):
            yield where, w.text()
        if isinstance(w, QGroupBox):
            yield where, w.title()
        if isinstance(w, QMenu):
            yield where, w.title()
        if isinstance(w, QTabWidget):
            yield from ((f"{where} tab {i}", w.tabText(i)) for i in range(w.count()))
    for a in root.findChildren(QAction):
        yield f"QAction {a.objectName()!r}", a.text()


def untranslated(root: QWidget, runs: set[str], data: frozenset[str]) -> list[str]:
    """The texts under ``root`` that still show a Chinese run of the source text (not one of ``data``)."""
    return sorted(
        f"{where}: {text!r}"
        for where, text in _texts(root)
        if any(run in runs and run not in data for run in RUN.findall(text))
    )


def _assert_translated(root: QWidget, runs: set[str]) -> None:
    leaks = untranslated(root, runs, DATA)
    assert not leaks, "shown untranslated (lupdate's context is not the one looked up):\n" + "\n".join(leaks)


# -- the windows ------------------------------------------------------------------------------------------


def test_the_marker_translation_replaces_every_chinese_character() -> None:
    assert marked("打印预览(&P)…") == "EN:xxxx(&P)…"
    assert not HAN.search(marked("今日待回访 {0} 个，逾期 {1} 个"))


# The data the windows show, which may share words with the UI: the fixtures' values (customer, complaint,
# user, department) and the domain's stored vocabulary — states, kinds, channels, severities, visit methods
# and results, role names — which the UI shows as stored (see ui/common/i18n.py), not as UI text.
FIXTURE_DATA = ("送货延误三天", "交付物流", "张经理", "客服部", "小王", "李主管", "请补充")


def _data_runs() -> frozenset[str]:
    from huifang_desktop.domain import complaints, roles, visits

    vocabulary = [
        complaints.MessageKind,
        complaints.Channel,
        complaints.Severity,
        complaints.ComplaintState,
        visits.VisitType,
        visits.VisitMethod,
        visits.VisitResult,
    ]
    words = [*FIXTURE_DATA, *roles.ROLE_LABELS.values(), *(str(m) for e in vocabulary for m in e)]
    return frozenset(run for w in words for run in RUN.findall(w))


DATA = _data_runs()


def test_complaint_register_and_its_detail_pane(qtbot, english, cctx) -> None:
    """投诉登记 with a complaint open in the detail pane (built by ComplaintDetailLayout), and the intake."""
    from huifang_desktop.services import complaints as cs
    from huifang_desktop.ui.complaints.tab import ComplaintsTab

    cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误三天", complainant="张经理", phone="13812345678", category="交付物流"
        ),
    )
    tab = ComplaintsTab(cctx)
    qtbot.addWidget(tab)
    tab.table.selectRow(0)
    assert tab.detail.detail is not None
    intake = tab.new_complaint()
    pane = tab.detail  # a ComplaintDetailPane; these texts are written in ComplaintDetailLayout
    assert pane.print_button.text() == marked("打印投诉处理表…")
    assert pane.save_handling_button.text() == marked("保存处理情况(&S)")
    _assert_translated(tab, english)
    _assert_translated(intake, english)


def test_visit_record_dialog_and_its_correction_subclass(qtbot, english, ctx, clerk) -> None:
    """回访记录表 and RecordCorrectionDialog (a VisitRecordDialog): the base class's text in the subclass."""
    from huifang_desktop.services import visits as visit_service
    from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
    from huifang_desktop.ui.review.dialogs import RecordCorrectionDialog
    from tests.services.test_review import customer, record

    cctx = ctx.as_user(clerk)
    cid = customer(cctx)
    row = record(cctx, cid)
    dialog = VisitRecordDialog(cctx, None, cid)
    qtbot.addWidget(dialog)
    correction = RecordCorrectionDialog(cctx, visit_service.get_record(cctx, row.id), "请补充")
    qtbot.addWidget(correction)
    written_in_the_base = correction.transfer_department.placeholderText()  # by VisitRecordDialog
    assert written_in_the_base == marked("有问题需转交时填写，24 小时内转交")
    assert correction.windowTitle().startswith(marked("修改回访记录表"))  # its own
    _assert_translated(dialog, english)
    _assert_translated(correction, english)


def test_visit_report_dialog(qtbot, english, cctx) -> None:
    from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog

    dialog = VisitReportDialog(cctx)
    qtbot.addWidget(dialog)
    _assert_translated(dialog, english)


def test_main_window_menus_and_tabs(qtbot, english, ctx, supervisor, tmp_path) -> None:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.ui.main_window import MainWindow

    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    _assert_translated(window, english)


def test_settings_dialog_pages(qtbot, english, ctx, admin) -> None:
    from huifang_desktop.ui.settings import SettingsDialog

    dialog = SettingsDialog(ctx.as_user(admin))
    qtbot.addWidget(dialog)
    _assert_translated(dialog, english)
