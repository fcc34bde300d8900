"""Customer editor (客户档案) and the supervisor's bulk reassignment dialog."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.customers import (
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    GRADES_ABCD,
    ContactDraft,
    CustomerDraft,
)
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services import classes as class_service
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import users as user_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services import workflow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import CustomerDetail
from huifang_desktop.services.errors import ConflictError, DuplicateWarning, ServiceError, ValidationError
from huifang_desktop.services.settings import OfficeSettings, load_settings
from huifang_desktop.services.users import UserRow
from huifang_desktop.ui.common.binding import (
    Binder,
    combo_data,
    combo_text,
    iso_date,
    line,
    marks,
    plain,
    select_data,
)
from huifang_desktop.ui.common.feedback import mark_fields, show_error
from huifang_desktop.ui.common.fit import fit_to_screen, scrolling
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated

CONTACT_COLUMNS = (
    QT_TRANSLATE_NOOP("Column", "姓名"),
    QT_TRANSLATE_NOOP("Column", "电话"),
    QT_TRANSLATE_NOOP("Column", "手机"),
    QT_TRANSLATE_NOOP("Column", "邮箱"),
    QT_TRANSLATE_NOOP("Column", "职务"),
    QT_TRANSLATE_NOOP("Column", "主要"),
)


class CustomerDialog(QDialog):
    """Create (customer_id None) or edit one customer file. ``saved`` holds the result after OK."""

    def __init__(
        self,
        ctx: ServiceContext,
        customer_id: int | None,
        parent: QWidget | None = None,
        *,
        prefill: str = "",
    ) -> None:
        """``prefill`` (a new file only): what a search that found nothing was given — a phone number goes
        to the contact's 手机 or 电话, anything else is the customer's name."""
        super().__init__(parent)
        self.ctx = ctx
        self.saved: CustomerDetail | None = None
        self.changed = False
        self.detail = customer_service.get_customer(ctx, customer_id) if customer_id else None
        self.editable = can(ctx.user.role, Permission.EDIT_CUSTOMERS) and not (
            self.detail and self.detail.archived
        )
        self.setWindowTitle(
            self.tr("新建客户档案")
            if self.detail is None
            else self.tr("客户档案 {0} {1}").format(self.detail.code, self.detail.name)
        )
        fit_to_screen(self, QSize(860, 620))
        self._build_ui(load_settings(ctx), user_service.clerks(ctx))
        self._connect()
        self._load(prefill)
        self.name.setFocus()

    # --- layout: the widgets, named and placed ---------------------------------------------------------
    def _build_ui(self, settings: OfficeSettings, clerks: Sequence[UserRow]) -> None:
        """Every widget and the dialog's layout; the office's lists (categories, regions, sources, the
        clerks who may own the file) are passed in. The pages of an existing file read their own records."""
        self._build_fields(settings, clerks)
        grid = self._lay_out_fields()
        self._build_contacts()
        basic = QWidget()
        basic_layout = QVBoxLayout(basic)
        basic_layout.addLayout(grid)
        basic_layout.addWidget(QLabel(self.tr("联系人（至少一位，填电话或手机）")))
        basic_layout.addWidget(self.contacts)
        basic_layout.addLayout(self._contact_buttons)
        self._build_pages(basic)
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._bind()

    def _build_fields(self, settings: OfficeSettings, clerks: Sequence[UserRow]) -> None:
        self.code = QLabel(self.detail.code if self.detail else self.tr("（保存后自动编号）"))
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.kind = QComboBox()
        self.kind.addItems(list(CUSTOMER_KINDS))
        self.category = QComboBox()
        self.category.addItems(list(settings.categories))
        self.status = QComboBox()
        self.status.addItems(list(CUSTOMER_STATUSES))
        self.owner = QComboBox()
        for u in clerks:
            self.owner.addItem(
                f"{u.display_name}（{u.department}）" if u.department else u.display_name, u.id
            )
        self.address = QLineEdit()
        self.region = QComboBox()
        self.region.setEditable(True)
        self.region.addItems([""] + list(settings.regions))
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems([""] + list(settings.sources))
        self.industry = QLineEdit()
        self.birthday = QLineEdit()
        self.birthday.setPlaceholderText(self.tr("如 1980-05-20，可空"))
        self.created_on = QLineEdit(self.ctx.today().isoformat())
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(80)
        self.grade_label = QLabel("D")
        self.pin_button = QPushButton(self.tr("指定等级…"))
        self.pin_button.setVisible(self.detail is not None and can(self.ctx.user.role, Permission.PIN_GRADE))

    def _lay_out_fields(self) -> QGridLayout:
        grid = QGridLayout()
        rows = [
            (self.tr("客户编号"), self.code, self.tr("客户名称*"), self.name),
            (self.tr("类型"), self.kind, self.tr("类别"), self.category),
            (self.tr("负责人"), self.owner, self.tr("状态"), self.status),
            (self.tr("地址"), self.address, self.tr("区域"), self.region),
            (self.tr("来源"), self.source, self.tr("行业"), self.industry),
            (self.tr("生日"), self.birthday, self.tr("建档日期"), self.created_on),
        ]
        for r, (l1, w1, l2, w2) in enumerate(rows):
            grid.addWidget(QLabel(l1), r, 0)
            grid.addWidget(w1, r, 1)
            grid.addWidget(QLabel(l2), r, 2)
            grid.addWidget(w2, r, 3)
        grade_box = QHBoxLayout()
        grade_box.addWidget(self.grade_label)
        grade_box.addWidget(self.pin_button)
        grade_box.addStretch(1)
        grid.addWidget(QLabel(self.tr("等级")), len(rows), 0)
        grid.addLayout(grade_box, len(rows), 1, 1, 3)
        grid.addWidget(QLabel(self.tr("备注")), len(rows) + 1, 0)
        grid.addWidget(self.notes, len(rows) + 1, 1, 1, 3)
        return grid

    def _build_contacts(self) -> None:
        self.contacts = QTableWidget(0, len(CONTACT_COLUMNS))
        self.contacts.setObjectName("contacts")
        self.contacts.setHorizontalHeaderLabels([translated("Column", c) for c in CONTACT_COLUMNS])
        self.contacts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.contacts.setMinimumHeight(120)
        self._add_contact_button = add_contact = QPushButton(self.tr("添加联系人"))
        self._remove_contact_button = remove_contact = QPushButton(self.tr("删除所选联系人"))
        self._contact_buttons = contact_buttons = QHBoxLayout()
        contact_buttons.addWidget(add_contact)
        contact_buttons.addWidget(remove_contact)
        contact_buttons.addStretch(1)

    def _build_pages(self, basic: QWidget) -> None:
        self.pages = QTabWidget()
        self.pages.addTab(scrolling(basic), self.tr("基本信息"))  # scrolls on a low screen; buttons stay
        if self.detail is not None:
            self.pages.addTab(self._purchases_page(self.editable), self.tr("购货/交货记录"))
            self.pages.addTab(self._visits_page(), self.tr("回访记录"))
            self.pages.addTab(self._history_page(), self.tr("修改记录"))
            self.classes = QTableWidget(0, 6)
            self.classes.setObjectName("class_history")
            self.classes.setHorizontalHeaderLabels(
                [
                    self.tr("起始日期"),
                    self.tr("等级"),
                    self.tr("来源"),
                    self.tr("原因"),
                    self.tr("年采购量"),
                    self.tr("操作人"),
                ]
            )
            self.classes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.classes.horizontalHeader().setStretchLastSection(True)
            self.pages.addTab(self.classes, self.tr("等级记录"))

    def _build_buttons(self) -> None:
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("保存(&S)"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("关闭"))
        buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(self.editable)
        self.buttons = buttons

    def _bind(self) -> None:
        """Each field of the file once: the widget that shows it and how (the order the widgets are made in,
        which is their tab order). The contacts table is filled and read row by row; here it is only marked."""
        self.binder = Binder(
            [
                line("name", self.name),
                combo_text("kind", self.kind),
                combo_text("category", self.category, add_unknown=True),
                combo_text("status", self.status),
                combo_data("owner_id", self.owner),
                line("address", self.address),
                combo_text("region", self.region),
                combo_text("source", self.source),
                line("industry", self.industry),
                line("birthday", self.birthday, to_text=iso_date),
                line("created_on", self.created_on, to_text=iso_date),
                plain("notes", self.notes),
                marks("contacts", self.contacts),
            ]
        )

    # --- behaviour -----------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.pin_button.clicked.connect(self._pin_grade)
        self._add_contact_button.clicked.connect(lambda: self._add_contact_row())
        self._remove_contact_button.clicked.connect(self._remove_contact_row)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def _load(self, prefill: str) -> None:
        """Show the file (or start a new one), then remember it as it opened."""
        if self.detail is not None:
            self._fill_classes()
            self._fill(self.detail)
        else:
            select_data(self.owner, self.ctx.user.id)
            self._add_contact_row(primary=True)
            self._prefill(prefill)
        self._remember()

    def _remember(self) -> None:
        """The file as shown now: what 关闭 compares with before it discards anything."""
        self.binder.snapshot()
        self._pristine_contacts = self._contact_drafts()

    # --- filling and reading ---------------------------------------------------------------------------
    def _fill(self, d: CustomerDetail) -> None:
        self.binder.fill(d)
        pinned = (
            self.tr("（主管指定：{0}）").format(d.grade_reason)
            if d.grade_pinned
            else self.tr("（按近一年采购量 {0} 自动计算，每月及采购变动时重算）").format(d.annual_volume)
        )
        self.grade_label.setText(f"{d.grade} {pinned}")
        self.contacts.setRowCount(0)
        for c in d.contacts:
            self._add_contact_row(
                c.name, format_phone(c.phone), format_phone(c.mobile), c.email, c.title, c.is_primary
            )
        self._remember()

    def _prefill(self, text: str) -> None:
        digits = "".join(ch for ch in text if ch not in " -()（）")
        if not text:
            return
        if not digits.isdigit():
            self.name.setText(text)
        elif digits.startswith("1") and len(digits) == 11:
            self.contacts.setItem(0, 2, QTableWidgetItem(text))  # 手机
        else:
            self.contacts.setItem(0, 1, QTableWidgetItem(text))  # 电话

    def _add_contact_row(
        self,
        name: str = "",
        phone: str = "",
        mobile: str = "",
        email: str = "",
        title: str = "",
        primary: bool = False,
    ) -> None:
        r = self.contacts.rowCount()
        self.contacts.insertRow(r)
        for col, value in enumerate((name, phone, mobile, email, title)):
            self.contacts.setItem(r, col, QTableWidgetItem(value))
        check = QTableWidgetItem()
        check.setFlags(
            Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        )
        check.setCheckState(Qt.CheckState.Checked if primary else Qt.CheckState.Unchecked)
        self.contacts.setItem(r, 5, check)

    def _remove_contact_row(self) -> None:
        row = self.contacts.currentRow()
        if row >= 0:
            self.contacts.removeRow(row)

    def _cell(self, r: int, c: int) -> str:
        item = self.contacts.item(r, c)
        return item.text() if item else ""

    def _checked(self, r: int, c: int) -> bool:
        item = self.contacts.item(r, c)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def _contact_drafts(self) -> tuple[ContactDraft, ...]:
        return tuple(
            ContactDraft(
                name=self._cell(r, 0),
                phone=self._cell(r, 1),
                mobile=self._cell(r, 2),
                email=self._cell(r, 3),
                title=self._cell(r, 4),
                is_primary=self._checked(r, 5),
            )
            for r in range(self.contacts.rowCount())
        )

    def draft(self) -> CustomerDraft:
        return CustomerDraft(**self.binder.values(), contacts=self._contact_drafts())

    # --- saving -------------------------------------------------------------------------------------------
    def edited_fields(self) -> tuple[str, ...]:
        """The fields changed since the file was shown (or saved), in form order; the contacts count as one."""
        contacts = ("contacts",) if self._contact_drafts() != self._pristine_contacts else ()
        return self.binder.changed() + contacts

    def has_edits(self) -> bool:
        return self.editable and bool(self.edited_fields())

    def reject(self) -> None:
        """关闭, Esc or the window's close box: edits are never dropped without asking."""
        if self.has_edits():
            answer = QMessageBox.question(
                self,
                self.tr("未保存的修改"),
                self.tr("客户档案有未保存的修改。保存吗？"),
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer == QMessageBox.StandardButton.Save:
                self.save()  # closes the dialog when the save goes through; a refusal stays on screen
                return
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()

    def save(self, confirm_duplicates: bool = False) -> None:
        draft = self.draft()
        try:
            if self.detail is None:
                self.saved = customer_service.register_customer(
                    self.ctx, draft, confirm_duplicates=confirm_duplicates
                )
            else:
                self.saved = customer_service.update_customer(
                    self.ctx,
                    self.detail.id,
                    draft,
                    self.detail.version,
                    confirm_duplicates=confirm_duplicates,
                )
        except ValidationError as exc:
            first = mark_fields(self.binder.widgets(), exc)
            self.message.setText(str(exc))
            self.pages.setCurrentIndex(0)
            if first is not None:
                first.setFocus()
            return
        except DuplicateWarning as exc:
            answer = QMessageBox.question(
                self,
                self.tr("可能重复"),
                self.tr("{0}\n\n仍要保存吗？").format(exc),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.save(confirm_duplicates=True)
            return
        except ConflictError as exc:
            answer = QMessageBox.question(
                self,
                self.tr("档案已被修改"),
                self.tr("{0}\n\n是否重新载入最新内容？（您的修改将丢失）").format(exc),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer == QMessageBox.StandardButton.Yes and self.detail is not None:
                self.detail = customer_service.get_customer(self.ctx, self.detail.id)
                self._fill(self.detail)
            return
        except ServiceError as exc:
            self.message.setText(str(exc))
            return
        mark_fields(self.binder.widgets(), None)
        self.changed = True
        self.accept()

    # --- other pages ----------------------------------------------------------------------------------------
    def _purchases_page(self, editable: bool) -> QWidget:
        page = QWidget()
        self.purchases = QTableWidget(0, 7)
        self.purchases.setHorizontalHeaderLabels(
            [
                self.tr("日期"),
                self.tr("类型"),
                self.tr("产品或服务"),
                self.tr("规格型号"),
                self.tr("数量"),
                self.tr("金额"),
                self.tr("质保到期"),
            ]
        )
        self.purchases.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.purchases.horizontalHeader().setStretchLastSection(True)
        self._fill_purchases()
        self.p_day = QLineEdit(self.ctx.today().isoformat())
        self.p_kind = QComboBox()
        self.p_kind.addItems([self.tr("购货"), self.tr("交货")])
        self.p_product = QLineEdit()
        self.p_spec = QLineEdit()
        self.p_qty = QSpinBox()
        self.p_qty.setRange(1, 100000)
        self.p_amount = QLineEdit()
        self.p_warranty = QLineEdit()
        self.p_warranty.setPlaceholderText(self.tr("可空"))
        self.p_message = QLabel()
        self.p_message.setStyleSheet("color: #d9363e;")
        add = QPushButton(self.tr("登记"))
        add.setEnabled(editable)
        add.clicked.connect(self._add_purchase)
        form = QFormLayout()
        row1 = QHBoxLayout()
        for label, w in (
            (self.tr("日期"), self.p_day),
            (self.tr("类型"), self.p_kind),
            (self.tr("产品"), self.p_product),
            (self.tr("规格"), self.p_spec),
        ):
            row1.addWidget(QLabel(label))
            row1.addWidget(w)
        row2 = QHBoxLayout()
        for label, field in (
            (self.tr("数量"), self.p_qty),
            (self.tr("金额"), self.p_amount),
            (self.tr("质保到期"), self.p_warranty),
        ):
            row2.addWidget(QLabel(label))
            row2.addWidget(field)
        row2.addWidget(add)
        form.addRow(row1)
        form.addRow(row2)
        layout = QVBoxLayout(page)
        layout.addWidget(self.purchases, 1)
        layout.addLayout(form)
        layout.addWidget(self.p_message)
        return page

    def _fill_purchases(self) -> None:
        assert self.detail is not None
        self.purchases.setRowCount(len(self.detail.purchases))
        for r, p in enumerate(self.detail.purchases):
            values = (
                p.day.isoformat(),
                p.kind,
                p.product,
                p.spec,
                str(p.quantity),
                f"{p.amount:,.2f}" if p.amount is not None else "",
                p.warranty_end.isoformat() if p.warranty_end else "",
            )
            for c, v in enumerate(values):
                self.purchases.setItem(r, c, QTableWidgetItem(v))

    def _add_purchase(self) -> None:
        assert self.detail is not None
        try:
            workflow.add_purchase(
                self.ctx,
                self.detail.id,
                day=self.p_day.text(),
                product=self.p_product.text(),
                quantity=self.p_qty.value(),
                amount=self.p_amount.text() or None,
                spec=self.p_spec.text(),
                kind=self.p_kind.currentText(),
                warranty_end=self.p_warranty.text() or None,
            )
        except (ValidationError, ServiceError) as exc:
            self.p_message.setText(str(exc))
            return
        self.p_message.clear()
        self.changed = True
        self.detail = customer_service.get_customer(self.ctx, self.detail.id)
        self._fill_purchases()
        self._fill(self.detail)
        self.p_product.clear()

    def _visits_page(self) -> QWidget:
        """The customer's visit history (newest first), from the 回访记录表 records."""
        assert self.detail is not None
        rows = visit_service.list_records(self.ctx, customer_id=self.detail.id, limit=200)
        table = QTableWidget(len(rows), 8)
        table.setObjectName("visits")
        table.setHorizontalHeaderLabels(
            [
                self.tr("编号"),
                self.tr("回访时间"),
                self.tr("回访类型"),
                self.tr("方式"),
                self.tr("回访人"),
                self.tr("结果"),
                self.tr("满意度"),
                self.tr("客户意见/反馈"),
            ]
        )
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        for r, v in enumerate(rows):
            for c, value in enumerate(
                (
                    v.number,
                    v.visited_at.strftime("%Y-%m-%d %H:%M"),
                    v.visit_type,
                    v.method,
                    v.visitor,
                    v.result,
                    v.satisfaction,
                    v.feedback,
                )
            ):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeColumnsToContents()
        return table

    def _history_page(self) -> QWidget:
        assert self.detail is not None
        rows = customer_service.history(self.ctx, self.detail.id)
        table = QTableWidget(len(rows), 5)
        table.setObjectName("history")
        table.setHorizontalHeaderLabels(
            [self.tr("时间"), self.tr("用户"), self.tr("操作"), self.tr("原值"), self.tr("新值")]
        )
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        for r, h in enumerate(rows):
            for c, v in enumerate(
                (
                    h.at.strftime("%Y-%m-%d %H:%M"),
                    h.user,
                    h.action,
                    h.old,
                    h.new + (f"（{h.note}）" if h.note else ""),
                )
            ):
                table.setItem(r, c, QTableWidgetItem(v))
        table.resizeColumnsToContents()
        return table

    def _fill_classes(self) -> None:
        """The class history (等级记录), newest first: when each class began, from what, and why."""
        assert self.detail is not None
        rows = class_service.class_history(self.ctx, self.detail.id)
        self.classes.setRowCount(len(rows))
        for r, h in enumerate(rows):
            for c, text in enumerate(
                (
                    h.since.isoformat(),
                    h.grade,
                    h.source,
                    h.reason,
                    str(h.volume),
                    h.changed_by or self.tr("系统"),
                )
            ):
                self.classes.setItem(r, c, QTableWidgetItem(text))
        self.classes.resizeColumnsToContents()

    def _pin_grade(self) -> None:
        assert self.detail is not None
        choices = [self.tr("自动计算")] + list(GRADES_ABCD) + ["VIP", "普通", "小客户"]
        choice, ok = QInputDialog.getItem(self, self.tr("指定等级"), self.tr("等级："), choices, 0, False)
        if not ok:
            return
        reason = ""
        if choice != choices[0]:
            reason, ok = QInputDialog.getText(
                self,
                self.tr("指定等级"),
                self.tr("原因（必填，记入等级记录）。指定后不再按采购量自动调整，新的回访周期从今天起算："),
            )
            if not ok:
                return
        try:
            customer_service.pin_grade(
                self.ctx, self.detail.id, None if choice == choices[0] else choice, reason
            )
        except (ValidationError, ServiceError) as exc:
            show_error(self, exc)
            return
        self.changed = True
        self.detail = customer_service.get_customer(self.ctx, self.detail.id)
        self._fill(self.detail)
        self._fill_classes()


class ReassignDialog(QDialog):
    """Move all customers of one clerk to one or several colleagues (when a clerk leaves)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.moved = 0
        self.setWindowTitle(self.tr("批量移交客户"))
        people = user_service.clerks(ctx)
        self.source = QComboBox()
        for u in people:
            self.source.addItem(u.display_name, u.id)
        self.targets = QListWidget()
        for u in people:
            item = QListWidgetItem(u.display_name)
            item.setData(Qt.ItemDataRole.UserRole, u.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.targets.addItem(item)
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("如：离职交接"))
        self.message = QLabel()
        self.message.setStyleSheet("color: #d9363e;")
        form = QFormLayout()
        form.addRow(self.tr("原负责人"), self.source)
        form.addRow(self.tr("接收人（可多选，平均分配）"), self.targets)
        form.addRow(self.tr("说明"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.run)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def run(self) -> None:
        targets = [
            self.targets.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.targets.count())
            if self.targets.item(i).checkState() == Qt.CheckState.Checked
        ]
        try:
            self.moved = customer_service.reassign_customers(
                self.ctx, self.source.currentData(), targets, self.note.text()
            )
        except (ValidationError, ServiceError) as exc:
            self.message.setText(str(exc))
            return
        self.accept()
