"""停用用户 with hand-over (issue 19 item 8): asked by 工具 → 用户与部门 before disabling a user who still
holds work. It lists what the user holds and lets the administrator tick the successor(s) (接手人) and write a
note; :func:`huifang_desktop.services.handover.disable_user` then moves everything and disables the account
in one audited step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services.users import UserRow


class HandoverDialog(QDialog):
    def __init__(
        self, leaver: str, work: dict[str, int], candidates: list[UserRow], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("停用用户：工作交接"))
        layout = QVBoxLayout(self)
        self.work = QLabel(
            self.tr(
                "“{0}”仍有未完成的工作：客户 {1} 个，待回访计划 {2} 条，未结投诉 {3} 件，报告草稿 {4} 份。\n"
                "请选择接手人（可多选，客户和计划轮流分给各接手人）。交接日起不再考核“{0}”。"
            ).format(
                leaver,
                work.get("customers", 0),
                work.get("plans", 0),
                work.get("complaints", 0),
                work.get("drafts", 0),
            )
        )
        self.work.setObjectName("handover_work")
        layout.addWidget(self.work)
        self.people = QListWidget()
        self.people.setObjectName("successors")
        for u in candidates:
            item = QListWidgetItem(f"{u.display_name}（{u.username}）{u.department}")
            item.setData(Qt.ItemDataRole.UserRole, u.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.people.addItem(item)
        layout.addWidget(self.people)
        self.note = QLineEdit()
        self.note.setObjectName("handover_note")
        self.note.setPlaceholderText(self.tr("交接说明（如：离职），写入客户档案备注"))
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("交接并停用"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def check(self, user_id: int) -> None:
        for i in range(self.people.count()):
            item = self.people.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == user_id:
                item.setCheckState(Qt.CheckState.Checked)

    def successors(self) -> list[int]:
        out = []
        for i in range(self.people.count()):
            item = self.people.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out
