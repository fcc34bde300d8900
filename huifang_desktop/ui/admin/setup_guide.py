"""初始设置向导 (issue 18): after the first administrator is created — and again from 工具 → 初始设置向导… —
a new office sets itself up without a terminal: office name, office-type preset, departments, first users,
list values, the holiday calendar's coverage, then 导入现有台账.

Each page saves when 下一步 is clicked, through the services (audited); a refusal stays on the page with its
message. 跳过 closes the guide, keeping the pages already saved. Generated passwords of the first users are
shown on the last page only (复制 copies them all)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.services import presets, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.ui.admin.users_dialog import department_combo, role_combo, wait_cursor
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.settings.holidays_page import HolidaysPage
from huifang_desktop.ui.settings.page import StringListEditor

KEEP_PRESET = ""  # the "不使用预设" choice
_BLANK_ROWS = 5


def _message() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #d9363e;")
    label.setObjectName("message")
    return label


def _scrolled(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(content)
    return area


class _Page(QWizardPage):
    """A page whose form sits in a scroll area (the wizard's buttons stay outside it) and which saves its part
    in :meth:`save` when 下一步 is clicked; a refusal is shown in ``message`` and keeps the page."""

    def __init__(self, ctx: ServiceContext, title: str, subtitle: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.content = QWidget()
        self.form = QVBoxLayout(self.content)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.message = _message()
        layout = QVBoxLayout(self)
        layout.addWidget(_scrolled(self.content), 1)
        layout.addWidget(self.message)

    def save(self) -> None:
        """Store this page's values through the services (override)."""

    def validatePage(self) -> bool:  # Qt's name
        self.message.clear()
        try:
            self.save()
        except (ServiceError, ValidationError) as exc:
            self.message.setText(str(exc))
            return False
        return True


class OfficePage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(
            ctx, "办公室名称", "打印在回访记录表、投诉处理表等表单的抬头上。以后可在 工具 → 设置 中修改。"
        )
        self.company = QLineEdit(load_settings(ctx).company)
        self.company.setObjectName("company")
        self.company.setMaxLength(100)
        form = QFormLayout()
        form.addRow(self.tr("单位名称"), self.company)
        self.form.addLayout(form)
        intro = QLabel(
            self.tr(
                "本向导带您完成新办公室的初始设置：单位名称、办公室类型、部门、首批用户、可选列表，并查看节假日安排，"
                "最后可导入现有的 Excel 台账。每一步在点“下一步”时保存并记入操作日志；点“跳过”可随时退出，"
                "已保存的步骤保留。以后可从 工具 → 初始设置向导… 再次打开。"
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #666; margin-top: 12px;")
        self.form.addWidget(intro)
        self.form.addStretch()

    def save(self) -> None:
        name = self.company.text().strip()
        if not name:
            raise ValidationError(FieldError("company", "单位名称", "不能为空"))
        office = load_settings(self.ctx)
        if office.company != name:
            save_settings(self.ctx, replace(office, company=name))


class PresetPage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(
            ctx,
            "办公室类型",
            "按类型预先设好要用的回访规则、抽样比例和投诉类别；以后可在 工具 → 设置 → 回访规则 中逐条调整。",
        )
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for p in presets.PRESETS:
            button = QRadioButton(p.label)
            button.setObjectName(f"preset_{p.key}")
            note = QLabel(p.description)
            note.setWordWrap(True)
            note.setStyleSheet("color: #666; margin-left: 22px;")
            self.form.addWidget(button)
            self.form.addWidget(note)
            self.group.addButton(button)
            self.buttons[p.key] = button
        keep = QRadioButton(self.tr("不使用预设（保持现在的回访规则和投诉类别）"))
        keep.setObjectName("preset_keep")
        keep.setChecked(True)
        self.group.addButton(keep)
        self.buttons[KEEP_PRESET] = keep
        self.form.addWidget(keep)
        self.form.addStretch()
        self.applied = ""

    def choice(self) -> str:
        return next(key for key, b in self.buttons.items() if b.isChecked())

    def choose(self, key: str) -> None:
        self.buttons[key].setChecked(True)

    def save(self) -> None:
        key = self.choice()
        if key != KEEP_PRESET and key != self.applied:
            presets.apply_preset(self.ctx, key)
            self.applied = key


def _grid(headers: list[str], rows: int) -> QTableWidget:
    table = QTableWidget(rows, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


def _cell(table: QTableWidget, row: int, col: int) -> str:
    widget = table.cellWidget(row, col)
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return str(data) if data is not None and not widget.isEditable() else widget.currentText().strip()
    item = table.item(row, col)
    return item.text().strip() if item is not None else ""


class DepartmentsPage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(
            ctx,
            "部门",
            "每行一个部门（已有的部门列在前面）。负责主管可在建好用户后于 工具 → 用户与部门 中指定。",
        )
        self.existing = [name for _id, name in users.list_departments(ctx)]
        self.table = _grid([self.tr("部门名称")], len(self.existing) + _BLANK_ROWS)
        self.table.setObjectName("departments")
        for i, name in enumerate(self.existing):
            item = QTableWidgetItem(name)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            item.setForeground(Qt.GlobalColor.gray)
            self.table.setItem(i, 0, item)
        add_row = QPushButton(self.tr("再加一行"))
        add_row.clicked.connect(lambda: self.table.setRowCount(self.table.rowCount() + 1))
        self.form.addWidget(self.table, 1)
        self.form.addWidget(add_row, 0, Qt.AlignmentFlag.AlignLeft)

    def set_names(self, names: list[str]) -> None:
        start = len(self.existing)
        self.table.setRowCount(max(self.table.rowCount(), start + len(names)))
        for i, name in enumerate(names):
            self.table.setItem(start + i, 0, QTableWidgetItem(name))

    def names(self) -> list[str]:
        return [n for n in (_cell(self.table, r, 0) for r in range(self.table.rowCount())) if n]

    def save(self) -> None:
        have = {name for _id, name in users.list_departments(self.ctx)}
        for name in self.names():
            if name not in have:
                users.add_department(self.ctx, name)
                have.add(name)
        wizard = self.wizard()
        if isinstance(wizard, SetupGuide):
            wizard.users_page.set_departments(sorted(have))


class UsersPage(_Page):
    """A small table of first users; their passwords are generated and shown on the last page."""

    COLUMNS = (
        QT_TRANSLATE_NOOP("Column", "登录名"),
        QT_TRANSLATE_NOOP("Column", "姓名"),
        QT_TRANSLATE_NOOP("Column", "角色"),
        QT_TRANSLATE_NOOP("Column", "部门"),
    )

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(
            ctx,
            "首批用户",
            "登录名只能用字母、数字、点和下划线。密码由程序生成，在最后一页显示一次；每人首次登录时须改成自己的密码。",
        )
        self.table = _grid([translated("Column", c) for c in self.COLUMNS], _BLANK_ROWS)
        self.table.setObjectName("first_users")
        self.departments: list[str] = [name for _id, name in users.list_departments(ctx)]
        for r in range(self.table.rowCount()):
            self._combos(r)
        self.form.addWidget(self.table, 1)
        add_row = QPushButton(self.tr("再加一行"))
        add_row.clicked.connect(self.add_row)
        self.form.addWidget(add_row, 0, Qt.AlignmentFlag.AlignLeft)
        self.created: dict[str, str] = {}  # login → generated password (made by this guide)
        self.names: dict[str, str] = {}  # login → 姓名

    def _combos(self, row: int) -> None:
        self.table.setCellWidget(row, 2, role_combo(Role.CLERK))
        self.table.setCellWidget(row, 3, department_combo(self.departments))

    def add_row(self) -> None:
        self.table.setRowCount(self.table.rowCount() + 1)
        self._combos(self.table.rowCount() - 1)

    def set_departments(self, names: list[str]) -> None:
        self.departments = names
        for r in range(self.table.rowCount()):
            combo = self.table.cellWidget(r, 3)
            if isinstance(combo, QComboBox):
                text = combo.currentText()
                combo.clear()
                combo.addItem("")
                combo.addItems(names)
                combo.setCurrentText(text)

    def fill_row(self, row: int, username: str, name: str, role: Role, department: str) -> None:
        while self.table.rowCount() <= row:
            self.add_row()
        self.table.setItem(row, 0, QTableWidgetItem(username))
        self.table.setItem(row, 1, QTableWidgetItem(name))
        roles = self.table.cellWidget(row, 2)
        deps = self.table.cellWidget(row, 3)
        assert isinstance(roles, QComboBox) and isinstance(deps, QComboBox)
        roles.setCurrentIndex(roles.findData(role.value))
        deps.setCurrentText(department)

    def rows(self) -> list[tuple[int, str, str, str, str]]:
        out = []
        for r in range(self.table.rowCount()):
            login, name = _cell(self.table, r, 0), _cell(self.table, r, 1)
            if login or name:
                out.append((r + 1, login, name, _cell(self.table, r, 2), _cell(self.table, r, 3)))
        return out

    def save(self) -> None:
        for number, login, name, role, department in self.rows():
            if login.lower() in self.created:
                continue  # made on an earlier 下一步
            try:
                with wait_cursor():
                    info, password = users.add_user(self.ctx, login, name, role, department)
            except ValidationError as exc:
                raise ValidationError(
                    [FieldError(e.field, f"第 {number} 行 {e.label}", e.message) for e in exc.errors]
                ) from None
            self.created[info.username] = password
            self.names[info.username] = info.display_name


class ListsPage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, "可选列表", "客户档案中“区域”“客户类别”“客户来源”的可选值（双击修改）。")
        office = load_settings(ctx)
        self.regions = StringListEditor("regions", self.tr("区域"))
        self.categories = StringListEditor("categories", self.tr("客户类别"))
        self.sources = StringListEditor("sources", self.tr("客户来源"))
        for editor, values, label in (
            (self.regions, office.regions, self.tr("区域")),
            (self.categories, office.categories, self.tr("客户类别")),
            (self.sources, office.sources, self.tr("客户来源")),
        ):
            editor.set_values(values)
            self.form.addWidget(QLabel(label))
            self.form.addWidget(editor)
        self.form.addStretch()

    def save(self) -> None:
        office = load_settings(self.ctx)
        new = replace(
            office,
            regions=self.regions.values(),
            categories=self.categories.values(),
            sources=self.sources.values(),
        )
        if new != office:
            save_settings(self.ctx, new)


class CalendarPage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, "节假日", "回访和投诉的期限按工作日计算，用的是内地法定节假日和调休安排。")
        self.holidays = HolidaysPage(ctx)
        self.holidays.load()
        next_year = ctx.today().year + 1
        self.next_year = QLabel(
            self.tr(
                "{0} 年的放假安排须在国务院公布后（一般在 {1} 年 11 月前后）录入；在此之前，{0} 年的期限只避开周末。"
            ).format(next_year, next_year - 1)
        )
        self.next_year.setObjectName("next_year_note")
        self.next_year.setWordWrap(True)
        self.form.addWidget(self.holidays)
        self.form.addWidget(self.next_year)
        self.form.addStretch()


class FinishPage(_Page):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(
            ctx, "完成", "设置已保存，每一项都记入操作日志。以后可从 工具 → 初始设置向导… 再次打开本向导。"
        )
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.passwords = _grid([self.tr("登录名"), self.tr("姓名"), self.tr("初始密码")], 0)
        self.passwords.setObjectName("first_passwords")
        self.passwords.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.copy_button = QPushButton(self.tr("复制"))
        self.copy_button.setToolTip(self.tr("把登录名和初始密码复制到剪贴板"))
        self.copy_button.clicked.connect(self.copy)
        self.password_note = QLabel(
            self.tr("初始密码只显示这一次：请转告本人（或复制后妥善保存），首次登录时须修改。")
        )
        self.password_note.setWordWrap(True)
        self.import_button = QPushButton(self.tr("导入现有台账…"))
        self.import_button.setObjectName("import_ledgers")
        self.import_button.clicked.connect(self._import)
        self.import_note = QLabel()
        self.import_note.setWordWrap(True)
        self.import_note.setStyleSheet("color: #666;")
        if not ctx.may(Permission.EDIT_CUSTOMERS):
            self.import_button.setEnabled(False)
            self.import_note.setText(
                self.tr(
                    "导入客户、回访、投诉或售后服务台账由业务人员进行：请用刚建好的主管或专员账号登录，"
                    "再用 文件 → 导入 Excel…（Ctrl+I）。系统管理员不能导入业务数据。"
                )
            )
        else:
            self.import_note.setText(
                self.tr("关闭本向导后打开导入向导：选择 Excel 文件、对应列、先检查再写入。")
            )
        self.form.addWidget(self.summary)
        self.form.addWidget(self.password_note)
        self.form.addWidget(self.passwords, 1)
        self.form.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.form.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.form.addWidget(self.import_note)

    def initializePage(self) -> None:  # Qt's name
        wizard = self.wizard()
        assert isinstance(wizard, SetupGuide)
        created = wizard.users_page.created
        names = wizard.users_page.names
        self.passwords.setRowCount(len(created))
        for r, (login, password) in enumerate(created.items()):
            for c, text in enumerate((login, names.get(login, ""), password)):
                self.passwords.setItem(r, c, QTableWidgetItem(text))
        shown = bool(created)
        for w in (self.passwords, self.copy_button, self.password_note):
            w.setVisible(shown)
        office = load_settings(self.ctx)
        preset = wizard.preset_page.applied
        label = presets.preset(preset).label if preset else self.tr("未使用预设")
        self.summary.setText(
            self.tr("单位名称：{0}；办公室类型：{1}；部门 {2} 个；本次新建用户 {3} 个。").format(
                office.company, label, len(users.list_departments(self.ctx)), len(created)
            )
        )

    def password_text(self) -> str:
        wizard = self.wizard()
        assert isinstance(wizard, SetupGuide)
        names = wizard.users_page.names
        return "\n".join(
            f"{login}\t{names.get(login, '')}\t{pw}" for login, pw in wizard.users_page.created.items()
        )

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.password_text())

    def _import(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, SetupGuide)
        wizard.open_import = True
        wizard.accept()


class SetupGuide(QWizard):
    """The first-start guide. ``open_import`` is set when 导入现有台账 was chosen: the main window then opens
    the import wizard."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.open_import = False
        self.setWindowTitle(self.tr("初始设置向导"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)  # all saved: only 完成 is left
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("跳过"))
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("下一步 >"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("< 上一步"))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("完成"))
        self.office_page = OfficePage(ctx)
        self.preset_page = PresetPage(ctx)
        self.departments_page = DepartmentsPage(ctx)
        self.users_page = UsersPage(ctx)
        self.lists_page = ListsPage(ctx)
        self.calendar_page = CalendarPage(ctx)
        self.finish_page = FinishPage(ctx)
        pages = (
            self.office_page,
            self.preset_page,
            self.departments_page,
            self.users_page,
            self.lists_page,
            self.calendar_page,
            self.finish_page,
        )
        for number, page in enumerate(pages, 1):
            page.setTitle(self.tr("第 {0}/{1} 步 · {2}").format(number, len(pages), page.title()))
            self.addPage(page)
        fit_to_screen(self, QSize(820, 600))

    def done(self, result: int) -> None:  # the passwords are shown once: gone with the guide
        self.users_page.created.clear()
        self.finish_page.passwords.setRowCount(0)
        super().done(result)
