"""The Settings dialog (设置): a page list on the left, the pages on the right, 确定 / 应用 / 取消.

See the package docstring (:mod:`huifang_desktop.ui.settings`) for how to add a page.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.feedback import mark_fields
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.settings.holidays_page import HolidaysPage
from huifang_desktop.ui.settings.office_page import OfficePage
from huifang_desktop.ui.settings.page import SettingsPage, reveal
from huifang_desktop.ui.settings.rules_page import RulesPage

_ERROR = "color: #d9363e;"
_OK = "color: #237804;"


def may_edit_settings(role: Role) -> bool:
    return can(role, Permission.MANAGE_SETTINGS)


def editor_roles() -> str:
    """The roles that hold the right to change settings, as the note names them (客服主管、公司经理、系统管理员)."""
    return "、".join(r.label for r in Role if may_edit_settings(r))


class SettingsDialog(QDialog):
    """设置. ``settings_saved`` is emitted after 确定/应用 wrote something (with the page titles)."""

    settings_saved = Signal(list)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editable = may_edit_settings(ctx.user.role)
        self.pages: list[SettingsPage] = []
        self.titles: list[str] = []
        self.setWindowTitle(self.tr("设置"))
        fit_to_screen(self, QSize(1120, 740))

        self._build_ui()
        self._connect()
        self._add_pages()
        self.page_list.setFocus()

    def _build_ui(self) -> None:
        """The page list beside the pages, the read-only note, the message and the buttons."""
        self.page_list = QListWidget()
        self.page_list.setObjectName("page_list")
        self.page_list.setFixedWidth(132)
        self.page_list.setSpacing(2)
        self.stack = QStackedWidget()
        self.note = QLabel(self.tr("只有{0}可以修改设置；您可以查看，不能修改。").format(editor_roles()))
        self.note.setObjectName("read_only_note")
        self.note.setStyleSheet("background: #e6f4ff; border: 1px solid #91caff; padding: 6px;")
        self.note.setVisible(not self.editable)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build_buttons()
        body = QHBoxLayout()
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.ok_button.setDefault(True)  # once inside the dialog, so the dialog knows its default button

    def _build_buttons(self) -> None:
        """确定 / 应用 / 取消 for an editor, 关闭 for anyone else."""
        self.buttons = QDialogButtonBox()
        if self.editable:
            self.ok_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Ok)
            self.ok_button.setText(self.tr("确定"))
            self.ok_button.setToolTip(self.tr("保存并关闭（Ctrl+S）"))
            self.apply_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Apply)
            self.apply_button.setText(self.tr("应用"))
            cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            cancel.setText(self.tr("取消"))
            for b in (self.apply_button, cancel):
                b.setAutoDefault(False)  # Enter always means 确定
        else:
            close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
            close.setText(self.tr("关闭"))
            self.ok_button = close

    def _connect(self) -> None:
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        if self.editable:
            self.apply_button.clicked.connect(self.apply)
            QShortcut(QKeySequence.StandardKey.Save, self, self.save_and_close)
        self.buttons.accepted.connect(self.save_and_close)
        self.buttons.rejected.connect(self.reject)

    def _add_pages(self) -> None:
        self.office_page = OfficePage(self.ctx)
        self.rules_page = RulesPage(self.ctx)
        self.holidays_page = HolidaysPage(self.ctx)
        from huifang_desktop.ui.settings.assessment_page import AssessmentPage

        self.assessment_page = AssessmentPage(self.ctx)
        from huifang_desktop.ui.settings.complaint_page import ComplaintRulesPage

        self.complaint_page = ComplaintRulesPage(self.ctx)
        self.add_page(self.tr("单位信息"), self.office_page)
        self.add_page(self.tr("回访规则"), self.rules_page)
        self.add_page(self.tr("节假日"), self.holidays_page)
        self.add_page(self.tr("投诉规则"), self.complaint_page)
        self.add_page(self.tr("考核规则"), self.assessment_page)
        self.show_page(0)

    # --- pages -------------------------------------------------------------------------------------------
    def add_page(self, title: str, page: SettingsPage) -> int:
        """Append a page: it is loaded now, made read-only for users without the right; returns its index."""
        self.pages.append(page)
        self.titles.append(title)
        self.page_list.addItem(QListWidgetItem(title))
        self.stack.addWidget(page)
        try:
            page.load()
        except (ValidationError, ServiceError) as exc:
            self._say(self.tr("无法读取“{0}”：{1}").format(title, exc), _ERROR)
        if not self.editable:
            page.set_read_only(True)
        page.content_changed.connect(self._content_changed)
        return len(self.pages) - 1

    def show_page(self, page: int | str | SettingsPage) -> None:
        """Bring a page to the front, by index, title or the page itself."""
        if isinstance(page, SettingsPage):
            index = self.pages.index(page)
        elif isinstance(page, str):
            index = self.titles.index(page)
        else:
            index = page
        self.page_list.setCurrentRow(index)

    def current_page(self) -> SettingsPage:
        return self.pages[self.stack.currentIndex()]

    # --- saving ------------------------------------------------------------------------------------------
    def apply(self) -> bool:
        """Check every page, then store the changed ones. On a refused value nothing is stored, the page
        and field are shown, and the user's input stays as typed. True when all pages are stored."""
        if not self.editable:
            return False
        for page in self.pages:
            mark_fields(page.field_widgets(), None)
        for index, page in enumerate(self.pages):
            try:
                page.collect()
            except ValidationError as exc:
                self._refuse(index, exc)
                return False
        saved: list[str] = []
        for index, page in enumerate(self.pages):
            try:
                if page.save():
                    saved.append(self.titles[index])
            except (ValidationError, ServiceError) as exc:
                self._refuse(index, exc, saved)
                return False
        if saved:
            self._say(self.tr("已保存：{0}。").format("、".join(saved)), _OK)
            self.settings_saved.emit(saved)
        else:
            self._say(self.tr("没有需要保存的修改。"), _OK)
        return True

    def save_and_close(self) -> None:
        """确定 / Ctrl+S / Enter: store and close; stays open when something was refused."""
        if not self.editable:
            self.reject()
            return
        if self.apply():
            self.accept()

    def _refuse(self, index: int, exc: Exception, saved: list[str] | None = None) -> None:
        self.show_page(index)
        text = self.tr("“{0}”未保存：{1}").format(self.titles[index], exc)
        if saved:
            text += self.tr("（已保存：{0}）").format("、".join(saved))
        self._say(text, _ERROR)
        if isinstance(exc, ValidationError):
            first = mark_fields(self.pages[index].field_widgets(), exc)
            if first is not None:
                reveal(first)
                first.setFocus()

    def _say(self, text: str, style: str) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    def _content_changed(self) -> None:
        if self.message.styleSheet() == _OK:
            self.message.clear()
