"""Log-in dialog and the first-start dialog that creates the administrator."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop import APP_TITLE
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import ServiceError


class LoginDialog(QDialog):
    def __init__(self, ctx: ServiceContext, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.user: UserInfo | None = None
        self.setWindowTitle(self.tr("登录 — {0}").format(APP_TITLE))
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setStyleSheet("color: #d9363e;")
        form = QFormLayout()
        form.addRow(self.tr("用户名(&U)"), self.username)
        form.addRow(self.tr("密码(&P)"), self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("退出"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.demo_box = self._demo_accounts(users.demo_accounts(ctx))  # an example office only
        if self.demo_box is not None:
            layout.addWidget(self.demo_box)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        (self.password if username else self.username).setFocus()

    def _demo_accounts(self, accounts: list[users.DemoAccount]) -> QGroupBox | None:
        """示例账户: the example office's users, roles and passwords (double-click one to fill it in)."""
        if not accounts:
            return None
        box = QGroupBox(self.tr("示例账户（示例办公室，双击填入）"))
        box.setObjectName("demo_accounts")
        table = QTableWidget(len(accounts), 3)
        table.setObjectName("demo_accounts_table")
        table.setHorizontalHeaderLabels([self.tr("用户名"), self.tr("角色"), self.tr("密码")])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for row, account in enumerate(accounts):
            for column, text in enumerate((account.username, account.role.label, account.password)):
                table.setItem(row, column, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setFixedHeight(
            table.horizontalHeader().sizeHint().height()
            + 2 * table.frameWidth()
            + len(accounts) * table.verticalHeader().defaultSectionSize()
        )
        self.setMinimumWidth(420)
        table.cellDoubleClicked.connect(lambda row, _column: self._use_account(accounts[row]))
        note = QLabel(self.tr("这些账户只存在于示例办公室；修改过的密码不再列出。"))
        note.setStyleSheet("color: #595959;")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(table)
        box_layout.addWidget(note)
        self.demo_table = table
        return box

    def _use_account(self, account: users.DemoAccount) -> None:
        self.username.setText(account.username)
        self.password.setText(account.password)
        self.password.setFocus()

    def try_login(self) -> None:
        try:
            self.user = users.authenticate(self.ctx, self.username.text(), self.password.text())
        except ServiceError as exc:
            self.message.setText(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


class FirstAdminDialog(QDialog):
    """First start: no user yet, so the person installing creates the administrator account."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("首次使用：创建系统管理员"))
        self.username = QLineEdit("admin")
        self.display_name = QLineEdit(self.tr("系统管理员"))
        self.department = QLineEdit(self.tr("客服部"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit()
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        intro = QLabel(
            self.tr(
                "这是第一次启动。请设置系统管理员账号，之后用它登录；初始设置向导随后带您填写单位名称、"
                "部门和其他用户（以后在 工具 → 用户与部门 中管理）。"
            )
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("用户名"), self.username)
        form.addRow(self.tr("姓名"), self.display_name)
        form.addRow(self.tr("部门"), self.department)
        form.addRow(self.tr("密码"), self.password)
        form.addRow(self.tr("确认密码"), self.password2)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.password.setFocus()

    def create(self) -> None:  # type: ignore[override]  # hides QWidget.create(), which only Qt's C++ calls
        if self.password.text() != self.password2.text():
            self.message.setText(self.tr("两次输入的密码不一致。"))
            return
        try:
            users.create_user(
                self.ctx,
                self.username.text(),
                self.display_name.text(),
                "admin",
                self.password.text(),
                self.department.text(),
                first_admin=True,
            )
        except (ServiceError, ValidationError) as exc:
            self.message.setText(str(exc))
            return
        self.accept()


class ChangePasswordDialog(QDialog):
    """The logged-in user sets a new password: old, new, repeat. ``forced`` after an administrator reset
    it to a generated one: the main window opens only once the user has chosen their own."""

    def __init__(self, ctx: ServiceContext, forced: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("修改密码 — {0}").format(ctx.user.display_name))
        self.old_password = QLineEdit()
        self.old_password.setObjectName("old_password")
        self.new_password = QLineEdit()
        self.new_password.setObjectName("new_password")
        self.repeat_password = QLineEdit()
        self.repeat_password.setObjectName("repeat_password")
        for edit in (self.old_password, self.new_password, self.repeat_password):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        form = QFormLayout()
        form.addRow(self.tr("原密码(&O)"), self.old_password)
        form.addRow(self.tr("新密码(&N)"), self.new_password)
        form.addRow(self.tr("再输一次(&R)"), self.repeat_password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("修改密码"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
            self.tr("退出") if forced else self.tr("取消")
        )
        buttons.accepted.connect(self.change)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if forced:
            intro = QLabel(
                self.tr(
                    "您的密码已由管理员重置。请先设置自己的新密码（至少 {0} 位），然后才能继续使用。"
                ).format(users.MIN_PASSWORD)
            )
            intro.setWordWrap(True)
            layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.old_password.setFocus()

    def change(self) -> None:
        if self.new_password.text() != self.repeat_password.text():
            self.message.setText(self.tr("两次输入的新密码不一致。"))
            self.repeat_password.selectAll()
            self.repeat_password.setFocus()
            return
        try:
            users.change_password(self.ctx, self.old_password.text(), self.new_password.text())
        except (ServiceError, ValidationError) as exc:
            self.message.setText(str(exc))
            return
        self.accept()
