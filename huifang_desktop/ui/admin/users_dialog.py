"""工具 → 用户与部门 (issue 18): administrators add users, change role and department, disable/enable, reset
passwords and unlock accounts; departments are records with a head supervisor, added and renamed here.
Supervisors see their department's users, read-only. Every change goes through ``services.users`` (audited).

A generated password (new user or reset) is shown once, in the panel under the tabs with a 复制 button, and
cleared at the next action or when the dialog closes: the user must change it at the first log-in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.services import handover, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.admin.handover_dialog import HandoverDialog
from huifang_desktop.ui.common.feedback import mark_fields
from huifang_desktop.ui.common.fit import fit_to_screen


@contextmanager
def wait_cursor() -> Iterator[None]:
    """The hourglass while a password is hashed and a signing key sealed (about a second with the production
    parameters; done in the foreground like the log-in's own check)."""
    QGuiApplication.setOverrideCursor(QCursor(Qt.CursorShape.WaitCursor))
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


def may_open_users_dialog(role: Role) -> bool:
    """Administrators manage users; supervisors and managers (who move customers between their staff) see
    their team read-only; clerks do not get the screen."""
    return can(role, Permission.MANAGE_USERS) or can(role, Permission.REASSIGN)


def role_combo(current: Role | None = None) -> QComboBox:
    combo = QComboBox()
    for role in Role:
        combo.addItem(role.label, role.value)
    if current is not None:
        combo.setCurrentIndex(combo.findData(current.value))
    return combo


def department_combo(names: list[str], current: str = "") -> QComboBox:
    """An editable list of the departments: a new name typed here is made when saved."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.addItem("")
    combo.addItems(names)
    combo.setCurrentText(current)
    return combo


class OneTimePassword(QFrame):
    """The generated password, shown once with a 复制 button; ``clear()`` hides it for good."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("one_time_password")
        self.setStyleSheet("#one_time_password { background: #fffbe6; border: 1px solid #ffe58f; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setReadOnly(True)
        self.password.setObjectName("password_shown")
        self.password.setMinimumWidth(160)
        self.copy_button = QPushButton(self.tr("复制"))
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout(self)
        row.addWidget(self.label, 1)
        row.addWidget(self.password)
        row.addWidget(self.copy_button)
        self.hide()

    def show_password(self, who: str, password: str) -> None:
        self.label.setText(
            self.tr("“{0}”的初始密码（只显示这一次，请转告本人；首次登录时须修改）：").format(who)
        )
        self.password.setText(password)
        self.show()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.password.text())

    def clear(self) -> None:
        self.password.clear()
        self.label.clear()
        self.hide()


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class UsersDialog(QDialog):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.manage = ctx.may(Permission.MANAGE_USERS)
        self.setWindowTitle(self.tr("用户与部门"))
        fit_to_screen(self, QSize(980, 600))
        self.rows: list[users.ManagedUser] = []
        self.departments: list[users.DepartmentRow] = []

        self.tabs = QTabWidget()
        self.tabs.addTab(self._users_page(), self.tr("用户"))
        self.tabs.addTab(self._departments_page(), self.tr("部门"))
        self.one_time = OneTimePassword()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("message")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not self.manage:
            note = QLabel(self.tr("只读：您可以查看本部门的用户。新增用户、修改角色和部门请联系系统管理员。"))
            note.setWordWrap(True)
            note.setObjectName("read_only_note")
            layout.addWidget(note)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.one_time)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.reload()

    # --- building ------------------------------------------------------------------------------------------

    def _users_page(self) -> QWidget:
        self.user_table = _table(
            [self.tr("登录名"), self.tr("姓名"), self.tr("角色"), self.tr("部门"), self.tr("状态")]
        )
        self.user_table.itemSelectionChanged.connect(self._user_selected)

        selected = QGroupBox(self.tr("所选用户"))
        self.sel_name = QLabel()
        self.sel_role = role_combo()
        self.sel_department = department_combo([])
        self.save_user_button = QPushButton(self.tr("保存角色和部门"))
        self.save_user_button.clicked.connect(self.save_selected)
        self.active_button = QPushButton(self.tr("停用"))
        self.active_button.clicked.connect(self.toggle_active)
        self.reset_button = QPushButton(self.tr("重置密码"))
        self.reset_button.clicked.connect(self.reset_selected)
        self.unlock_button = QPushButton(self.tr("解锁"))
        self.unlock_button.clicked.connect(self.unlock_selected)
        form = QFormLayout(selected)
        form.addRow(self.tr("用户"), self.sel_name)
        form.addRow(self.tr("角色"), self.sel_role)
        form.addRow(self.tr("部门"), self.sel_department)
        row1 = QHBoxLayout()
        row1.addWidget(self.save_user_button)
        row1.addWidget(self.active_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.reset_button)
        row2.addWidget(self.unlock_button)
        form.addRow(row1)
        form.addRow(row2)

        new = QGroupBox(self.tr("新增用户"))
        self.new_username = QLineEdit()
        self.new_username.setPlaceholderText(self.tr("字母、数字、点、下划线"))
        self.new_display_name = QLineEdit()
        self.new_role = role_combo(Role.CLERK)
        self.new_department = department_combo([])
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_password.setPlaceholderText(self.tr("留空则自动生成（首次登录须修改）"))
        self.add_button = QPushButton(self.tr("新增用户"))
        self.add_button.clicked.connect(self.add_user)
        form = QFormLayout(new)
        form.addRow(self.tr("登录名"), self.new_username)
        form.addRow(self.tr("姓名"), self.new_display_name)
        form.addRow(self.tr("角色"), self.new_role)
        form.addRow(self.tr("部门"), self.new_department)
        form.addRow(self.tr("初始密码"), self.new_password)
        form.addRow(self.add_button)

        side = QWidget()
        column = QVBoxLayout(side)
        column.addWidget(selected)
        column.addWidget(new)
        column.addStretch()
        page = QWidget()
        row = QHBoxLayout(page)
        row.addWidget(self.user_table, 3)
        area = _scrolled(side)  # the forms: administrators only (kept, hidden, for the read-only view)
        area.setMinimumWidth(330)
        area.setVisible(self.manage)
        row.addWidget(area, 2)
        return page

    def _departments_page(self) -> QWidget:
        self.dep_table = _table([self.tr("部门"), self.tr("人数"), self.tr("负责主管")])
        self.dep_table.itemSelectionChanged.connect(self._department_selected)
        box = QGroupBox(self.tr("部门"))
        self.dep_name = QLineEdit()
        self.dep_name.setPlaceholderText(self.tr("新部门名称，或所选部门的新名称"))
        self.dep_head = QComboBox()
        self.add_dep_button = QPushButton(self.tr("新增部门"))
        self.add_dep_button.clicked.connect(self.add_department)
        self.rename_dep_button = QPushButton(self.tr("重命名所选部门"))
        self.rename_dep_button.clicked.connect(self.rename_department)
        self.head_button = QPushButton(self.tr("设为所选部门的负责主管"))
        self.head_button.clicked.connect(self.set_head)
        form = QFormLayout(box)
        form.addRow(self.tr("名称"), self.dep_name)
        form.addRow(self.tr("负责主管"), self.dep_head)
        form.addRow(self.add_dep_button)
        form.addRow(self.rename_dep_button)
        form.addRow(self.head_button)
        side = QWidget()
        column = QVBoxLayout(side)
        column.addWidget(box)
        column.addStretch()
        page = QWidget()
        row = QHBoxLayout(page)
        row.addWidget(self.dep_table, 3)
        area = _scrolled(side)  # the forms: administrators only (kept, hidden, for the read-only view)
        area.setMinimumWidth(330)
        area.setVisible(self.manage)
        row.addWidget(area, 2)
        return page

    # --- data ----------------------------------------------------------------------------------------------

    def reload(self, select_user: str = "") -> None:
        self.rows = users.team_users(self.ctx)
        self.departments = users.department_rows(self.ctx)
        if not self.manage:  # read-only: the departments of the users shown
            mine = {r.department for r in self.rows}
            self.departments = [d for d in self.departments if d.name in mine]
        names = [d.name for d in self.departments]
        table = self.user_table
        table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            for j, text in enumerate(
                (r.username, r.display_name, r.role.label, r.department, self._state(r))
            ):
                item = QTableWidgetItem(text)
                if not r.active:
                    item.setForeground(Qt.GlobalColor.gray)
                table.setItem(i, j, item)
        for combo in (self.sel_department, self.new_department):
            text = combo.currentText()
            combo.clear()
            combo.addItem("")
            combo.addItems(names)
            combo.setCurrentText(text)
        self.dep_table.setRowCount(len(self.departments))
        for i, d in enumerate(self.departments):
            for j, text in enumerate((d.name, str(d.members), d.head_name)):
                self.dep_table.setItem(i, j, QTableWidgetItem(text))
        self.dep_head.clear()
        self.dep_head.addItem(self.tr("（无）"), "")
        for r in self.rows:
            if r.active and can(r.role, Permission.SIGN_OFF):
                self.dep_head.addItem(f"{r.display_name}（{r.username}）", r.username)
        if select_user:
            for i, r in enumerate(self.rows):
                if r.username == select_user:
                    table.selectRow(i)
        self._user_selected()

    def _state(self, r: users.ManagedUser) -> str:
        if not r.active:
            return self.tr("已停用")
        if r.locked_until is not None:
            return self.tr("已锁定（至 {0:%H:%M}）").format(r.locked_until)
        if r.must_change_password:
            return self.tr("启用 · 首次登录须改密码")
        return self.tr("启用")

    def selected_user(self) -> users.ManagedUser | None:
        rows = self.user_table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def selected_department(self) -> users.DepartmentRow | None:
        rows = self.dep_table.selectionModel().selectedRows()
        return self.departments[rows[0].row()] if rows else None

    def _user_selected(self) -> None:
        r = self.selected_user()
        for w in (
            self.sel_role,
            self.sel_department,
            self.save_user_button,
            self.active_button,
            self.reset_button,
            self.unlock_button,
        ):
            w.setEnabled(r is not None)
        if r is None:
            self.sel_name.setText(self.tr("（在左侧表格中选择一个用户）"))
            return
        self.sel_name.setText(f"{r.display_name}（{r.username}）")
        self.sel_role.setCurrentIndex(self.sel_role.findData(r.role.value))
        self.sel_department.setCurrentText(r.department)
        self.active_button.setText(self.tr("停用") if r.active else self.tr("启用"))
        self.unlock_button.setEnabled(r.locked_until is not None)

    def _department_selected(self) -> None:
        d = self.selected_department()
        if d is None:
            return
        self.dep_name.setText(d.name)
        head = next((r.username for r in self.rows if r.id == d.head_id), "")
        self.dep_head.setCurrentIndex(max(0, self.dep_head.findData(head)))

    # --- actions ------------------------------------------------------------------------------------------

    def _done(self, text: str, select_user: str = "") -> None:
        self.reload(select_user)
        self.message.setStyleSheet("color: #237804;")
        self.message.setText(text)

    def _failed(self, exc: Exception, fields: dict[str, QWidget] | None = None) -> None:
        self.message.setStyleSheet("color: #d9363e;")
        self.message.setText(str(exc))
        if fields and isinstance(exc, ValidationError):
            first = mark_fields(fields, exc)
            if first is not None:
                first.setFocus()

    def _start(self) -> None:
        """Every action first hides a password shown before (it was shown once)."""
        self.one_time.clear()
        self.message.clear()

    def add_user(self) -> None:
        self._start()
        fields = {
            "username": self.new_username,
            "display_name": self.new_display_name,
            "role": self.new_role,
            "password": self.new_password,
            "department": self.new_department,
        }
        mark_fields(fields, None)
        try:
            with wait_cursor():
                info, password = users.add_user(
                    self.ctx,
                    self.new_username.text(),
                    self.new_display_name.text(),
                    self.new_role.currentData(),
                    self.new_department.currentText(),
                    self.new_password.text() or None,
                )
        except (ServiceError, ValidationError) as exc:
            self._failed(exc, fields)
            return
        generated = not self.new_password.text()
        for edit in (self.new_username, self.new_display_name, self.new_password):
            edit.clear()
        self._done(self.tr("已新增用户“{0}”。").format(info.display_name), info.username)
        if generated:
            self.one_time.show_password(info.display_name, password)

    def save_selected(self) -> None:
        self._start()
        r = self.selected_user()
        if r is None:
            return
        role, current = str(self.sel_role.currentData()), r.role.value
        department = self.sel_department.currentText()
        try:
            if role != current:
                users.set_role(self.ctx, r.username, role)
            if department.strip() != r.department:
                users.set_department(self.ctx, r.username, department)
        except (ServiceError, ValidationError) as exc:
            self.reload(r.username)
            self._failed(exc)
            return
        self._done(self.tr("已保存“{0}”的角色和部门。").format(r.display_name), r.username)

    def toggle_active(self) -> None:
        self._start()
        r = self.selected_user()
        if r is None:
            return
        text = self.tr("已启用“{0}”。") if not r.active else self.tr("已停用“{0}”：不能再登录，记录保留。")
        try:
            if r.active:
                work = handover.open_work(self.ctx, r.id)
                if any(work.values()):
                    chosen = self.ask_successors(r, work)
                    if chosen is None:
                        self._start()
                        return
                    result = handover.disable_user(self.ctx, r.id, chosen[0], chosen[1])
                    if result is not None:
                        text = self.tr("已停用“{0}”并完成交接：") + result.text
                else:
                    users.set_active(self.ctx, r.id, False)
            else:
                users.set_active(self.ctx, r.id, True)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc)
            return
        self._done(text.format(r.display_name), r.username)

    def ask_successors(self, r: users.ManagedUser, work: dict[str, int]) -> tuple[list[int], str] | None:
        """The successors (接手人) and note for a leaver who still holds work; None when cancelled."""
        candidates = [u for u in users.clerks(self.ctx) if u.id != r.id]
        dialog = HandoverDialog(r.display_name, work, candidates, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.successors(), dialog.note.text()

    def reset_selected(self) -> None:
        self._start()
        r = self.selected_user()
        if r is None:
            return
        try:
            with wait_cursor():
                password = users.reset_password(self.ctx, r.username)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc)
            return
        self._done(self.tr("已重置“{0}”的密码。").format(r.display_name), r.username)
        self.one_time.show_password(r.display_name, password)

    def unlock_selected(self) -> None:
        self._start()
        r = self.selected_user()
        if r is None:
            return
        try:
            users.unlock_user(self.ctx, r.username)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc)
            return
        self._done(self.tr("已解锁“{0}”。").format(r.display_name), r.username)

    def add_department(self) -> None:
        self._start()
        try:
            row = users.add_department(self.ctx, self.dep_name.text(), self.dep_head.currentData() or None)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc, {"department": self.dep_name, "head": self.dep_head})
            return
        self.dep_name.clear()
        self._done(self.tr("已新增部门“{0}”。").format(row.name))

    def rename_department(self) -> None:
        self._start()
        d = self.selected_department()
        if d is None:
            self._failed(ServiceError(self.tr("请先在表格中选择要重命名的部门。")))
            return
        new_name = self.dep_name.text()
        try:
            users.rename_department(self.ctx, d.name, new_name)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc, {"department": self.dep_name})
            return
        self._done(self.tr("部门“{0}”已改名为“{1}”。").format(d.name, new_name.strip()))

    def set_head(self) -> None:
        self._start()
        d = self.selected_department()
        if d is None:
            self._failed(ServiceError(self.tr("请先在表格中选择部门。")))
            return
        try:
            users.set_department_head(self.ctx, d.name, self.dep_head.currentData() or None)
        except (ServiceError, ValidationError) as exc:
            self._failed(exc, {"head": self.dep_head})
            return
        self._done(self.tr("已设置“{0}”的负责主管。").format(d.name))

    def done(self, result: int) -> None:  # closing forgets a password still shown
        self.one_time.clear()
        super().done(result)
