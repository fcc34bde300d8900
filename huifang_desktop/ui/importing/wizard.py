"""导入 Excel 台账: a wizard over ``services.importing``.

Pages: 选择文件 → 选择工作表 (preview of the first rows, the header row highlighted, its number editable) →
列对应 (a combo per field, suggested; required fields marked) → 检查结果 (row, column, problem; duplicates;
counts; 修改后重试 re-reads the file the user fixed in Excel; 导入有效行) → 导入 (progress, 取消) → 完成.

Reading, checking and writing run off the GUI thread (``start_worker``; the import through
``ui.common.progress.run_with_progress``). Nothing here calls a modal ``exec()``: the file picker is
injectable (``choose_file``) and errors are shown inside the page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QCoreApplication, QObject, QSize, Qt, QThread, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from huifang_desktop.domain.roles import Permission
from huifang_desktop.services import importing
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.importing import (
    ColumnMapping,
    ImportResult,
    ImportTarget,
    SheetPreview,
    ValidationReport,
)
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.i18n import translated
from huifang_desktop.ui.common.progress import ProgressTask, run_with_progress
from huifang_desktop.ui.common.worker import start_worker
from huifang_desktop.ui.importing.models import IssueModel, PreviewModel

FileChooser = Callable[[QWidget], "str | None"]
MESSAGE_STYLE = "color: #a8071a;"
NOTE_STYLE = "color: #595959;"
NOT_MAPPED = -1
# The import page shows the progress and 取消导入 itself, so the shared progress dialog (used for its worker
# thread, queued progress and cancel flag) stays hidden unless a caller asks for it.
PROGRESS_DIALOG_AFTER_MS = 3_600_000


def ask_file(parent: QWidget) -> str | None:
    """The real file picker (modal; replaced in tests through ``ImportWizard(choose_file=…)``)."""
    path, _filter = QFileDialog.getOpenFileName(
        parent,
        QCoreApplication.translate("ImportWizard", "选择 Excel 台账"),
        "",
        QCoreApplication.translate(
            "ImportWizard", "Excel 工作簿 (*.xlsx *.xlsm);;CSV 文件 (*.csv);;所有文件 (*)"
        ),
    )
    return path or None


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(MESSAGE_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ImportWizard(QWizard):
    """Import one sheet of an Excel ledger. ``imported`` fires once rows were written."""

    imported = Signal(object)  # ImportResult
    undone = Signal(object)  # UndoResult (撤销本次导入 on the last page)
    busy_changed = Signal(bool)

    PAGE_FILE, PAGE_SHEET, PAGE_MAPPING, PAGE_REPORT, PAGE_IMPORT, PAGE_SUMMARY = range(6)

    def __init__(
        self,
        ctx: ServiceContext,
        parent: QWidget | None = None,
        *,
        choose_file: FileChooser | None = None,
        target: ImportTarget = ImportTarget.CUSTOMERS,
        progress_after_ms: int = PROGRESS_DIALOG_AFTER_MS,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choose_file: FileChooser = choose_file or ask_file
        self.progress_after_ms = progress_after_ms
        self.path: Path | None = None
        self.target = target
        self.preview: SheetPreview | None = None
        self.mapping: dict[str, int] = {}
        self.report: ValidationReport | None = None
        self.import_result: ImportResult | None = None  # not .result: QDialog.result()
        self.task: ProgressTask | None = None
        self.busy = False
        self._threads: list[QThread] = []
        self.setWindowTitle(self.tr("导入 Excel 台账"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        for button, text in (
            (QWizard.WizardButton.BackButton, self.tr("< 上一步")),
            (QWizard.WizardButton.NextButton, self.tr("下一步 >")),
            (QWizard.WizardButton.CommitButton, self.tr("导入有效行")),
            (QWizard.WizardButton.FinishButton, self.tr("完成")),
            (QWizard.WizardButton.CancelButton, self.tr("取消")),
        ):
            self.setButtonText(button, text)
        fit_to_screen(self, QSize(980, 660))
        self.file_page = FilePage(self)
        self.sheet_page = SheetPage(self)
        self.mapping_page = MappingPage(self)
        self.report_page = ReportPage(self)
        self.import_page = ImportPage(self)
        self.summary_page = SummaryPage(self)
        for page_id, page in (
            (self.PAGE_FILE, self.file_page),
            (self.PAGE_SHEET, self.sheet_page),
            (self.PAGE_MAPPING, self.mapping_page),
            (self.PAGE_REPORT, self.report_page),
            (self.PAGE_IMPORT, self.import_page),
            (self.PAGE_SUMMARY, self.summary_page),
        ):
            self.setPage(page_id, page)
        self.setStartId(self.PAGE_FILE)

    # --- background work ---------------------------------------------------------------------------

    def run_async(
        self, fn: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[Exception], None]
    ) -> None:
        """Run ``fn`` in a worker thread; the callbacks run on the GUI thread. Pages are not complete meanwhile."""
        self._set_busy(True)
        call = _Callback(self, on_done, on_error)
        call.worker = start_worker(self, fn, call.done, call.failed)
        self._threads.append(call.worker)

    def _finished(self, call: _Callback) -> None:
        if call.worker in self._threads:
            self._threads.remove(call.worker)
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)
        self.busy_changed.emit(busy)

    def wait_idle(self, msecs: int = 30_000) -> None:
        """Block until background threads ended (closing the wizard; tests)."""
        for thread in list(self._threads):
            thread.wait(msecs)
        if self.task is not None:
            self.task.wait(msecs)

    def importing_now(self) -> bool:
        return self.task is not None and self.task.is_running()

    def reject(self) -> None:
        """取消 while rows are being written asks the import to stop (it rolls back) instead of closing."""
        if self.importing_now():
            assert self.task is not None
            self.task.cancel()
            return
        self.wait_idle()
        super().reject()

    def done(self, result: int) -> None:
        if self.importing_now():
            return
        self.wait_idle()
        super().done(result)

    def column_mapping(self) -> ColumnMapping:
        assert self.preview is not None and self.preview.header_row is not None
        return ColumnMapping(self.preview.header_row, dict(self.mapping))


class _Callback(QObject):
    """The receiver of one background job: a QObject on the GUI thread, so the worker's signals are queued
    here (a plain Python function as receiver would run on the worker thread)."""

    def __init__(
        self, wizard: ImportWizard, on_done: Callable[[Any], None], on_error: Callable[[Exception], None]
    ) -> None:
        super().__init__(wizard)
        self.wizard = wizard
        self.on_done, self.on_error = on_done, on_error
        self.worker: QThread | None = None  # not .thread: QObject.thread()

    def done(self, result: Any) -> None:
        self.wizard._finished(self)
        self.deleteLater()
        self.on_done(result)

    def failed(self, exc: Exception) -> None:
        self.wizard._finished(self)
        self.deleteLater()
        self.on_error(exc)


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self._loaded_for: tuple[str, ImportTarget] | None = None
        self.setTitle(self.tr("选择文件"))
        self.setSubTitle(
            self.tr(
                "选择本单位现有的 Excel 台账（.xlsx 或 .csv）。第一次使用时请先导入客户台账；回访台账、"
                "投诉台账和售后服务台账按客户名称或客户编号对应到已有的客户。"
            )
        )
        self.target_combo = QComboBox()
        for t in ImportTarget:
            self.target_combo.addItem(translated("Import", t.value), t)
        self.target_combo.setCurrentIndex(list(ImportTarget).index(wizard.target))
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(self.tr("Excel 文件的位置"))
        self.browse = QPushButton(self.tr("浏览…"))
        self.browse.clicked.connect(self.browse_file)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow(self.tr("导入到："), self.target_combo)
        form.addRow(self.tr("文件："), row)
        self.message = _message_label()
        note = QLabel(
            self.tr(
                "导入前会先检查每一行，列出有问题的行和重复的行；确认后才写入，写入时全部成功或全部不写。"
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.path_edit.textChanged.connect(self._changed)
        self.target_combo.currentIndexChanged.connect(self._changed)
        wizard.busy_changed.connect(lambda _b: self.completeChanged.emit())

    def target(self) -> ImportTarget:
        return ImportTarget(self.target_combo.currentData())

    def browse_file(self) -> None:
        path = self.w.choose_file(self)
        if path:
            self.path_edit.setText(path)

    def _changed(self) -> None:
        self._loaded_for = None
        self.message.clear()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.path_edit.text().strip()) and not self.w.busy

    def validatePage(self) -> bool:
        key = (self.path_edit.text().strip(), self.target())
        if self._loaded_for == key:
            return True
        if self.w.busy:
            return False
        self.message.setStyleSheet(NOTE_STYLE)
        self.message.setText(self.tr("正在读取文件…"))
        path, target = Path(key[0]), key[1]
        self.w.run_async(
            lambda: importing.preview(self.w.ctx, path, None, target),
            lambda p: self._loaded(key, p),
            self._failed,
        )
        return False

    def _loaded(self, key: tuple[str, ImportTarget], p: SheetPreview) -> None:
        self.message.clear()
        self.w.path, self.w.target, self.w.preview = Path(key[0]), key[1], p
        self.w.mapping = dict(p.mapping)
        self._loaded_for = key
        self.w.next()

    def _failed(self, exc: Exception) -> None:
        self.message.setStyleSheet(MESSAGE_STYLE)
        self.message.setText(str(exc))


class SheetPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self._filling = False
        self.setTitle(self.tr("选择工作表和表头行"))
        self.setSubTitle(
            self.tr(
                "下面是工作表的前几行（行号与 Excel 相同），黄色的一行是找到的表头。"
                "如果找错了，请改表头行号。"
            )
        )
        self.sheet_combo = QComboBox()
        self.sheet_combo.setMinimumContentsLength(16)
        self.header_spin = QSpinBox()
        self.header_spin.setRange(1, 1)
        self.header_spin.setKeyboardTracking(False)
        self.header_spin.setPrefix(self.tr("第 "))
        self.header_spin.setSuffix(self.tr(" 行"))
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("工作表：")))
        top.addWidget(self.sheet_combo)
        top.addSpacing(24)
        top.addWidget(QLabel(self.tr("表头行：")))
        top.addWidget(self.header_spin)
        top.addStretch(1)
        self.model = PreviewModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setDefaultSectionSize(110)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.message = _message_label()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.sheet_combo.currentIndexChanged.connect(self._sheet_chosen)
        self.header_spin.valueChanged.connect(self._header_chosen)
        wizard.busy_changed.connect(lambda _b: self.completeChanged.emit())

    def initializePage(self) -> None:
        self.show_preview(self.w.preview)

    def show_preview(self, p: SheetPreview | None) -> None:
        if p is None:
            return
        self._filling = True
        try:
            self.sheet_combo.clear()
            self.sheet_combo.addItems(list(p.sheet_names))
            self.sheet_combo.setCurrentText(p.sheet)
            self.header_spin.setRange(1, max(1, p.max_header_row))
            self.header_spin.setValue(p.header_row or 1)
            self.header_spin.setEnabled(p.max_header_row > 0)
        finally:
            self._filling = False
        self.model.set_rows(p.rows, p.width, p.header_row)
        if p.header_row is not None:
            self.table.scrollTo(self.model.index(max(0, min(p.header_row, len(p.rows)) - 1), 0))
        self.message.setText(p.message)
        self.completeChanged.emit()

    def _sheet_chosen(self) -> None:
        if not self._filling and self.sheet_combo.currentText():
            self.reload(self.sheet_combo.currentText(), None)

    def _header_chosen(self, value: int) -> None:
        if not self._filling:
            self.reload(self.sheet_combo.currentText(), value)

    def reload(self, sheet: str, header_row: int | None) -> None:
        assert self.w.path is not None
        path, target = self.w.path, self.w.target
        self.model.set_header_row(header_row)
        self.w.run_async(
            lambda: importing.preview(self.w.ctx, path, sheet, target, header_row=header_row),
            self._reloaded,
            self._failed,
        )

    def _reloaded(self, p: SheetPreview) -> None:
        self.w.preview = p
        self.w.mapping = dict(p.mapping)
        self.show_preview(p)

    def _failed(self, exc: Exception) -> None:
        self.message.setText(str(exc))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        p = self.w.preview
        return p is not None and p.header_row is not None and not self.w.busy


class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(self.tr("列对应"))
        self.setSubTitle(
            self.tr(
                "为每一项选择表中对应的列（已按列名自动选好，请核对）。带 * 的必须选择；不需要的选“（不导入）”。"
            )
        )
        self.combos: dict[str, QComboBox] = {}
        self.labels: dict[str, QLabel] = {}
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_host)
        self.save_check = QCheckBox(self.tr("记住这些对应关系，下次导入同样的表时自动套用"))
        self.save_check.setChecked(True)
        self.message = _message_label()
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.save_check)
        layout.addWidget(self.message)
        self._built_for: tuple[ImportTarget, tuple[str, ...]] | None = None

    def initializePage(self) -> None:
        p = self.w.preview
        assert p is not None
        key = (self.w.target, p.headers)
        if self._built_for != key:
            self._build(p)
            self._built_for = key
        self.apply_mapping(self.w.mapping)

    def _build(self, p: SheetPreview) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.combos.clear()
        self.labels.clear()
        for f in importing.target_fields(self.w.target):
            combo = QComboBox()
            combo.addItem(self.tr("（不导入）"), NOT_MAPPED)
            for col, header in enumerate(p.headers):
                text = (
                    f"{importing.column_letter(col)} · {header}" if header else importing.column_letter(col)
                )
                combo.addItem(text, col)
            combo.currentIndexChanged.connect(self._changed)
            name = translated("Import", f.label)
            label = QLabel(f"{name} *" if f.required else name)
            if f.required:
                label.setStyleSheet("font-weight: bold;")
            if f.hint:
                combo.setToolTip(translated("Import", f.hint))
            hint = QLabel(translated("Import", f.hint))
            hint.setStyleSheet(NOTE_STYLE)
            row = QHBoxLayout()
            row.addWidget(combo, 1)
            row.addWidget(hint, 1)
            self.form.addRow(label, row)
            self.combos[f.key] = combo
            self.labels[f.key] = label

    def apply_mapping(self, mapping: dict[str, int]) -> None:
        for key, combo in self.combos.items():
            combo.blockSignals(True)
            idx = combo.findData(mapping.get(key, NOT_MAPPED))
            combo.setCurrentIndex(max(idx, 0))
            combo.blockSignals(False)
        self._changed()

    def current_mapping(self) -> dict[str, int]:
        return {k: int(c.currentData()) for k, c in self.combos.items() if int(c.currentData()) != NOT_MAPPED}

    def missing(self) -> list[str]:
        mapping = self.current_mapping()
        return [
            f.label for f in importing.target_fields(self.w.target) if f.required and f.key not in mapping
        ]

    def _changed(self) -> None:
        missing = self.missing()
        for f in importing.target_fields(self.w.target):
            if f.required and f.key in self.labels:
                self.labels[f.key].setStyleSheet(
                    "font-weight: bold;" + (" color: #a8071a;" if f.label in missing else "")
                )
        self.message.setText(
            self.tr("请为 {0} 选择对应的列。").format("、".join(f"“{m}”" for m in missing)) if missing else ""
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.missing()

    def validatePage(self) -> bool:
        self.w.mapping = self.current_mapping()
        if self.save_check.isChecked():
            p = self.w.preview
            assert p is not None
            try:
                importing.save_mapping(
                    self.w.ctx, self.w.target, importing.mapping_by_header(p.headers, self.w.mapping)
                )
            except ServiceError as exc:
                self.message.setText(str(exc))
                return False
        return True


class ReportPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(self.tr("检查结果"))
        self.setSubTitle(
            self.tr(
                "还没有写入任何数据。可以在 Excel 里改好有问题的行、保存后点“修改后重试”，"
                "或点“导入有效行”只导入没有问题的行。"
            )
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("导入有效行"))
        self._build_ui()
        if not wizard.ctx.may(Permission.MANAGE_USERS):
            cast(QStandardItemModel, self.owners.model()).item(1).setEnabled(False)  # a QComboBox's own model
        self._connect()

    def _build_ui(self) -> None:
        """The summary, the check's options, the problems by kind and row by row, 修改后重试."""
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: bold;")
        self.model = IssueModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(IssueModel.COL_ROW, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(IssueModel.COL_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(IssueModel.COL_MESSAGE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(IssueModel.COL_KIND, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.groups = QPlainTextEdit()
        self.groups.setReadOnly(True)
        self.groups.setMaximumHeight(180)
        self.groups.setPlaceholderText(
            self.tr("问题按种类汇总：每种多少行、前几行、怎么改；以及未导入的列、其他工作表和隐藏的行")
        )
        self.include_hidden = QCheckBox(self.tr("包括隐藏行"))
        self.include_hidden.setToolTip(self.tr("Excel 中隐藏的行默认跳过并在报告中列出；勾选后也检查和导入"))
        self.owners = QComboBox()
        self.owners.addItem(self.tr("暂不指定负责人（照常导入）"), "blank")
        self.owners.addItem(self.tr("创建为客服专员账号"), "create")
        self.owners.setToolTip(self.tr("表中的负责人不是本系统用户时怎么办（创建账号需要管理用户的权限）"))
        options = QHBoxLayout()
        options.addWidget(self.include_hidden)
        options.addWidget(QLabel(self.tr("负责人不是系统用户时：")))
        options.addWidget(self.owners)
        options.addStretch(1)
        self.retry_button = QPushButton(self.tr("修改后重试"))
        self.retry_button.setToolTip(self.tr("在 Excel 里改好并保存文件后，重新读取并检查"))
        self.message = _message_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(options)
        layout.addWidget(self.groups)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.include_hidden.toggled.connect(lambda _on: self.check())
        self.owners.currentIndexChanged.connect(lambda _i: self.check())
        self.retry_button.clicked.connect(self.retry)
        self.w.busy_changed.connect(self._busy)

    def options(self) -> dict[str, Any]:
        """The check's choices: hidden rows, and what to do with 负责人 who are not users."""
        return {
            "include_hidden": self.include_hidden.isChecked(),
            "create_owners": self.owners.currentData() == "create",
        }

    def initializePage(self) -> None:
        self.check()

    def _busy(self, busy: bool) -> None:
        self.retry_button.setEnabled(not busy)
        self.include_hidden.setEnabled(not busy)
        self.owners.setEnabled(not busy)
        self.completeChanged.emit()

    def check(self) -> None:
        """Validate with the chosen mapping (off the GUI thread)."""
        self._start(self.tr("正在检查每一行…"))
        w = self.w
        assert w.path is not None and w.preview is not None
        if w.busy:
            return
        path, sheet, target, mapping = w.path, w.preview.sheet, w.target, w.column_mapping()
        opts = self.options()
        w.run_async(
            lambda: importing.validate(w.ctx, path, sheet, target, mapping, **opts),
            self.show_report,
            self._failed,
        )

    def retry(self) -> None:
        """修改后重试: re-read the file (the header may have moved), keep the chosen columns by their header
        names, check again."""
        self._start(self.tr("正在重新读取文件并检查…"))
        w = self.w
        assert w.path is not None and w.preview is not None
        path, sheet, target = w.path, w.preview.sheet, w.target
        prefer = importing.mapping_by_header(w.preview.headers, w.mapping)
        opts = self.options()

        def work() -> tuple[SheetPreview, ValidationReport]:
            p = importing.preview(w.ctx, path, sheet, target, prefer=prefer)
            if p.header_row is None:
                raise ServiceError(p.message or "没有找到表头行。")
            return p, importing.validate(
                w.ctx, path, p.sheet, target, ColumnMapping(p.header_row, p.mapping), **opts
            )

        w.run_async(work, self._retried, self._failed)

    def _start(self, text: str) -> None:
        self.w.report = None
        self.model.set_issues(())
        self.groups.clear()
        self.summary.setText(text)
        self.message.clear()
        self.completeChanged.emit()

    def _retried(self, result: tuple[SheetPreview, ValidationReport]) -> None:
        p, report = result
        self.w.preview, self.w.mapping = p, dict(p.mapping)
        self.show_report(report)

    def show_report(self, report: ValidationReport) -> None:
        self.w.report = report
        self.model.set_issues(report.issues)
        text = report.summary()
        if report.clean:
            text += self.tr(" 没有发现问题。")
        self.summary.setText(text + self.tr("（检查用时 {0:.1f} 秒）").format(report.seconds))
        self.groups.setPlainText(report_text(report))
        self.table.resizeRowsToContents()
        if not report.valid_count:
            self.message.setText(self.tr("没有可导入的行。请在 Excel 中修改后重试，或返回检查列对应。"))
        self.completeChanged.emit()

    def _failed(self, exc: Exception) -> None:
        self.summary.setText(self.tr("无法检查这个文件。"))
        self.message.setText(str(exc))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.w.report is not None and self.w.report.valid_count > 0 and not self.w.busy


def report_text(report: ValidationReport) -> str:
    """The check by kind of problem (count, first rows, an example, how to fix), then what is left out
    or will happen besides (columns, sheets, hidden rows, people who are not users, visit plans)."""
    lines = []
    for g in report.groups:
        lines.append(f"【{g.kind.value}】{g.where}：{g.what} — {g.count} 行（{g.first_rows()}）")
        lines.append(f"    例：{g.example}")
        lines.append(f"    怎么改：{g.hint}")
    return "\n".join([*lines, *report.notes()])


class _Relay(QObject):
    """Receives the worker's progress on the GUI thread (queued) for the page's own bar."""

    def __init__(self, page: ImportPage) -> None:
        super().__init__(page)
        self.page = page

    def progressed(self, done: int, total: int) -> None:
        self.page.show_progress(done, total)


class ImportPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(self.tr("正在导入"))
        self.setSubTitle(
            self.tr("所有行在一次事务中写入：点“取消”会撤回已写入的部分，数据库保持导入前的样子。")
        )
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton(self.tr("取消导入"))
        self.cancel_button.clicked.connect(self.cancel)
        self.message = _message_label()
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.finished = False
        self._outcome: ImportResult | None = None
        self.relay = _Relay(self)

    def initializePage(self) -> None:
        w = self.w
        report = w.report
        assert report is not None
        self.finished = False
        self._outcome = None
        self.label.setText(
            self.tr("正在把 {0} 行写入{1}…").format(
                report.valid_count, translated("Import", report.target.value)
            )
        )
        self.bar.setRange(0, max(report.valid_count, 1))
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> ImportResult:
            result = importing.run_import(w.ctx, report, progress=progress, cancelled=cancelled)
            self._outcome = result
            return result

        w.task = run_with_progress(
            w,
            self.tr("导入 Excel 台账"),
            self.tr("正在导入…"),
            work,
            self._done,
            self._failed,
            self._cancelled,
            show_after_ms=w.progress_after_ms,
        )
        w.task.job.progressed.connect(self.relay.progressed)

    def show_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.label.setText(self.tr("已写入 {0} / {1} 行…").format(done, total))

    def cancel(self) -> None:
        if self.w.task is not None and self.w.task.is_running():
            self.w.task.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(self.tr("正在取消，撤回已写入的部分…"))

    def _finish(self, result: ImportResult | None, error: str = "") -> None:
        self.finished = True
        self.cancel_button.setEnabled(False)
        self.w.import_result = result
        self.w.summary_page.error = error
        self.completeChanged.emit()
        if result is not None and result.imported:
            self.w.imported.emit(result)
        self.w.next()

    def _done(self, result: ImportResult) -> None:
        self._finish(result)

    def _cancelled(self) -> None:
        # The last batch may have been committed before the work saw the request: say what really happened.
        self._finish(self._outcome)

    def _failed(self, exc: Exception) -> None:
        self._finish(None, str(exc))

    def isComplete(self) -> bool:
        return self.finished


class SummaryPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.error = ""
        self.setTitle(self.tr("完成"))
        self.setFinalPage(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.next_step = QLabel()
        self.next_step.setWordWrap(True)
        self.next_step.setStyleSheet(NOTE_STYLE)
        # 撤销本次导入: two clicks (the second confirms), then every row of this import is deleted in one step
        self.undo_button = QPushButton(self.tr("撤销本次导入…"))
        self.undo_button.setToolTip(self.tr("删除这次导入的全部记录（导入后已有后续工作的记录不能撤销）"))
        self.undo_button.clicked.connect(self._undo_clicked)
        self.undo_message = _message_label()
        undo_row = QHBoxLayout()
        undo_row.addWidget(self.undo_button)
        undo_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.next_step)
        layout.addLayout(undo_row)
        layout.addWidget(self.undo_message)
        layout.addStretch(1)
        self._armed = False

    def _undo_clicked(self) -> None:
        r = self.w.import_result
        if r is None or r.run_id is None or self.w.busy:
            return
        if not self._armed:  # first click: say exactly what the second one does
            self._armed = True
            self.undo_button.setText(self.tr("确认撤销：删除刚导入的 {0} 行").format(r.imported))
            self.undo_message.setStyleSheet(NOTE_STYLE)
            self.undo_message.setText(self.tr("再点一次按钮即撤销；已用过的编号不再重复使用。"))
            return
        run_id = r.run_id
        self.undo_button.setEnabled(False)
        self.w.run_async(lambda: importing.undo_import(self.w.ctx, run_id), self._undone, self._undo_failed)

    def _undone(self, result: Any) -> None:
        self.setTitle(self.tr("已撤销导入"))
        self.text.setText(result.summary())
        self.next_step.clear()
        self.undo_message.clear()
        self.undo_button.hide()
        self.w.undone.emit(result)

    def _undo_failed(self, exc: Exception) -> None:
        self._armed = False
        self.undo_button.setText(self.tr("撤销本次导入…"))
        self.undo_button.setEnabled(True)
        self.undo_message.setStyleSheet(MESSAGE_STYLE)
        self.undo_message.setText(str(exc))

    def initializePage(self) -> None:
        r = self.w.import_result
        self._armed = False
        self.undo_button.setText(self.tr("撤销本次导入…"))
        self.undo_button.setEnabled(True)
        self.undo_button.setVisible(bool(r is not None and not r.cancelled and not self.error and r.run_id))
        self.undo_message.clear()
        if self.error:
            self.setTitle(self.tr("导入失败"))
            self.text.setText(self.tr("导入没有完成，没有写入任何数据：{0}").format(self.error))
            self.next_step.clear()
        elif r is None or r.cancelled:
            self.setTitle(self.tr("已取消"))
            self.text.setText(self.tr("导入已取消，没有写入任何数据。"))
            self.next_step.clear()
        else:
            self.setTitle(self.tr("导入完成"))
            self.text.setText(r.summary())
            tips = []
            if r.skipped_errors or r.skipped_duplicates:
                tips.append(
                    self.tr(
                        "未导入的行可以在 Excel 中修改后，再次导入同一文件：已导入的行会被识别为重复而跳过。"
                    )
                )
            if r.target is ImportTarget.CUSTOMERS:
                tips.append(self.tr("接着可以导入回访台账和投诉台账。"))
            self.next_step.setText("\n".join(tips))


def open_import_wizard(
    ctx: ServiceContext, parent: QWidget | None = None, previous: ImportWizard | None = None
) -> ImportWizard:
    """Show the wizard with ``open()`` (window-modal, never a blocking ``exec()``); reuse one still open."""
    if previous is not None and previous.isVisible():
        previous.raise_()
        previous.activateWindow()
        return previous
    if previous is not None:
        previous.deleteLater()
    wizard = ImportWizard(ctx, parent)
    wizard.open()
    return wizard
