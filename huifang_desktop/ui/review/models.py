"""Models of the 审阅 tab: the queue tree (clerk → type → item) and the audit log table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, overload

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from huifang_desktop.domain.signoff import ReviewKind
from huifang_desktop.services.review import AuditRow, QueueGroup, ReviewItem, ReviewQueue
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.table_model import RowTableModel

Index = QModelIndex | QPersistentModelIndex
Key = tuple[ReviewKind, int]

RED = QColor("#d9363e")
_ITEM_BASE = 1 << 24  # internalId: 0 = clerk row, 1 + clerk = type row, _ITEM_BASE + group = item row

PENDING_MODE, SIGNED_MODE, RETURNED_MODE, MINE_MODE = "pending", "signed", "returned", "mine"
GROUP_PAGE = 500  # items of one group loaded at a time
Loader = Callable[[QueueGroup, int, int], QueueGroup]  # (group, offset, limit) -> the group's next items
_PLAIN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_CHECKABLE = _PLAIN | Qt.ItemFlag.ItemIsUserCheckable


def key_of(item: ReviewItem) -> Key:
    return item.kind, item.id


class ReviewTreeModel(QAbstractItemModel):
    """The queue as a three-level tree without one Python object per row: the index of an item row carries
    its group, a group row its clerk, so 10,000 waiting items cost three lists of groups.

    Items can be ticked for batch sign-off (visit records waiting for review) only once they were read
    (``mark_read``): ticking an unread one is refused and reported through ``check_refused``."""

    check_refused = Signal(object)  # the ReviewItem that was not read yet
    checks_changed = Signal(int)  # how many are ticked now

    COLUMNS = (
        QT_TRANSLATE_NOOP("Column", "审阅项目"),
        QT_TRANSLATE_NOOP("Column", "日期"),
        QT_TRANSLATE_NOOP("Column", "期限 / 状态"),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = PENDING_MODE
        self._owners: list[tuple[int | None, str, tuple[QueueGroup, ...]]] = []
        self._groups: list[QueueGroup] = []
        self._group_owner: list[int] = []
        self._group_row: list[int] = []
        self._first_group: list[int] = []
        self.loader: Loader | None = None
        self.read: set[Key] = set()
        self.checked: set[Key] = set()
        self._warning: QIcon | None = None  # from the application style, when first shown
        self._bold = QFont()
        self._bold.setBold(True)

    # --- content ------------------------------------------------------------------------------------------
    def set_queue(self, queue: ReviewQueue, mode: str, loader: Loader | None = None) -> None:
        """Show ``queue``. Groups whose items are not loaded (a queue summary) are loaded a page at a time
        by ``loader(group, offset, limit)`` when the page opens them or reaches their end (``load_more``)."""
        self.beginResetModel()
        self.mode = mode
        self.loader = loader
        self._owners = queue.by_owner()
        self._groups, self._group_owner, self._group_row, self._first_group = [], [], [], []
        for o, (_owner, _name, groups) in enumerate(self._owners):
            self._first_group.append(len(self._groups))
            for row, g in enumerate(groups):
                self._groups.append(g)
                self._group_owner.append(o)
                self._group_row.append(row)
        present = {key_of(i) for g in self._groups for i in g.items}
        self.checked &= present
        self.endResetModel()
        self.checks_changed.emit(len(self.checked))

    def checkable(self, item: ReviewItem) -> bool:
        return self.mode == PENDING_MODE and item.kind is ReviewKind.RECORD

    def item_at(self, index: Index) -> ReviewItem | None:
        if not index.isValid() or index.internalId() < _ITEM_BASE:
            return None
        g = self._groups[index.internalId() - _ITEM_BASE]
        return g.items[index.row()] if 0 <= index.row() < len(g.items) else None

    def group_at(self, index: Index) -> QueueGroup | None:
        i = index.internalId() if index.isValid() else -1
        if 1 <= i < _ITEM_BASE:
            return self._groups[self._first_group[i - 1] + index.row()]
        return None

    def owner_at(self, index: Index) -> tuple[int | None, str, tuple[QueueGroup, ...]] | None:
        if index.isValid() and index.internalId() == 0 and 0 <= index.row() < len(self._owners):
            return self._owners[index.row()]
        return None

    def keys(self) -> list[Key]:
        """Every item in display order."""
        return [key_of(i) for g in self._groups for i in g.items]

    def index_of(self, key: Key) -> QModelIndex:
        for gi, g in enumerate(self._groups):
            for row, item in enumerate(g.items):
                if key_of(item) == key:
                    return self.createIndex(row, 0, _ITEM_BASE + gi)
        return QModelIndex()

    def first_item(self) -> QModelIndex:
        return self.createIndex(0, 0, _ITEM_BASE) if self._groups and self._groups[0].items else QModelIndex()

    def items(self, keys: set[Key]) -> list[ReviewItem]:
        return [i for g in self._groups for i in g.items if key_of(i) in keys]

    def mark_read(self, item: ReviewItem) -> None:
        key = key_of(item)
        if key in self.read:
            return
        self.read.add(key)
        index = self.index_of(key)
        if index.isValid():
            self.dataChanged.emit(index, index.siblingAtColumn(len(self.COLUMNS) - 1))

    def toggle(self, index: Index) -> None:
        item = self.item_at(index)
        if item is None or not self.checkable(item):
            return
        state = Qt.CheckState.Unchecked if key_of(item) in self.checked else Qt.CheckState.Checked
        # sibling(): a QPersistentModelIndex has no siblingAtColumn()
        self.setData(index.sibling(index.row(), 0), state.value, Qt.ItemDataRole.CheckStateRole)

    # --- the tree -------------------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or not 0 <= column < len(self.COLUMNS):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self._owners) else QModelIndex()
        if parent.column() != 0:
            return QModelIndex()
        pid = parent.internalId()
        if pid == 0:
            o = parent.row()
            if row < len(self._owners[o][2]):
                return self.createIndex(row, column, 1 + o)
            return QModelIndex()
        if pid < _ITEM_BASE:
            g = self._first_group[pid - 1] + parent.row()
            if row < len(self._groups[g].items):
                return self.createIndex(row, column, _ITEM_BASE + g)
        return QModelIndex()

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, child: Index, /) -> QModelIndex: ...
    def parent(self, *args: Any) -> Any:  # QObject.parent() and the model's parent(index), as Qt has both
        if not args:
            return super().parent()
        index = args[0]
        if not index.isValid():
            return QModelIndex()
        i = index.internalId()
        if i == 0:
            return QModelIndex()
        if i < _ITEM_BASE:
            return self.createIndex(i - 1, 0, 0)
        g = i - _ITEM_BASE
        return self.createIndex(self._group_row[g], 0, 1 + self._group_owner[g])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._owners)
        if parent.column() != 0:
            return 0
        i = parent.internalId()
        if i == 0:
            return len(self._owners[parent.row()][2])
        if i < _ITEM_BASE:
            return len(self._groups[self._first_group[i - 1] + parent.row()].items)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() or (parent.internalId() < _ITEM_BASE and parent.column() == 0)

    def can_load_more(self, parent: Index) -> bool:
        g = self._group_number(parent)
        return g is not None and self.loader is not None and not self._groups[g].loaded

    def load_more(self, parent: Index) -> None:
        """Load the next page of a group's items. Not Qt's canFetchMore/fetchMore: QTreeView calls those on
        every layout of an open node, which would load a long group whole; the page decides when."""
        g = self._group_number(parent)
        if g is None or self.loader is None or self._groups[g].loaded:
            return
        group = self._groups[g]
        page = self.loader(group, len(group.items), GROUP_PAGE).items
        index = self.createIndex(parent.row(), 0, parent.internalId())
        # a short page is the end of the group (items may have gone meanwhile)
        total = group.total if len(page) == GROUP_PAGE else len(group.items) + len(page)
        if page:
            self.beginInsertRows(index, len(group.items), len(group.items) + len(page) - 1)
            self._groups[g] = replace(group, items=group.items + page, total=total)
            self.endInsertRows()
        else:
            self._groups[g] = replace(group, total=total)
        self.dataChanged.emit(index, index)

    def remove(self, key: Key) -> QModelIndex:
        """Take one item out (signed or returned) and return the index now at its place — the next item of
        its group, else the previous one; an invalid index when its group is now empty (reload then)."""
        index = self.index_of(key)
        if not index.isValid():
            return QModelIndex()
        g, row = index.internalId() - _ITEM_BASE, index.row()
        group = self._groups[g]
        item = group.items[row]
        if len(group.items) == 1 and group.count <= 1:
            return QModelIndex()
        parent = self.parent(index)
        self.beginRemoveRows(parent, row, row)
        self._groups[g] = replace(
            group,
            items=group.items[:row] + group.items[row + 1 :],
            total=group.total - 1 if group.total >= 0 else -1,
            overdue_total=group.overdue_total - item.overdue if group.overdue_total >= 0 else -1,
        )
        self.checked.discard(key)
        self.endRemoveRows()
        self.dataChanged.emit(parent, parent)
        owner = self.parent(parent)
        self.dataChanged.emit(owner, owner)
        self.checks_changed.emit(len(self.checked))
        left = len(self._groups[g].items)
        if left == 0:
            return QModelIndex()
        return self.createIndex(min(row, left - 1), 0, _ITEM_BASE + g)

    def totals(self) -> tuple[int, int]:
        """(items, overdue) over every group, loaded or not."""
        return sum(g.count for g in self._groups), sum(g.overdue for g in self._groups)

    def _group_number(self, index: Index) -> int | None:
        i = index.internalId() if index.isValid() else -1
        if 1 <= i < _ITEM_BASE and index.column() == 0:
            return self._first_group[i - 1] + index.row()
        return None

    def group_key(self, index: Index) -> tuple[int | None, ReviewKind] | None:
        group = self.group_at(index)
        return (group.owner_id, group.kind) if group is not None else None

    def group_indexes(self) -> list[tuple[QModelIndex, int]]:
        """Every type row with its item count, in display order (for expanding within a budget)."""
        out = []
        for o, (_owner, _name, groups) in enumerate(self._owners):
            for row, g in enumerate(groups):
                out.append((self.createIndex(row, 0, 1 + o), g.count))
        return out

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return translated("Column", self.COLUMNS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:  # called for every shown row: keep it cheap
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        i = index.internalId()
        if i < _ITEM_BASE or index.column() != 0 or self.mode != PENDING_MODE:
            return _PLAIN
        return _CHECKABLE if self._groups[i - _ITEM_BASE].kind is ReviewKind.RECORD else _PLAIN

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.item_at(index)
        if item is not None:
            return self._item_data(item, index.column(), role)
        group = self.group_at(index)
        if group is not None:
            if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
                return self._count_text(group.kind.value, group.count, group.overdue, group.tampered)
            if role == Qt.ItemDataRole.ForegroundRole and (group.overdue or group.tampered):
                return QBrush(RED)
            return None
        owner = self.owner_at(index)
        if owner is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
            groups = owner[2]
            return self._count_text(
                owner[1],
                sum(g.count for g in groups),
                sum(g.overdue for g in groups),
                sum(g.tampered for g in groups),
            )
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        return None

    def _count_text(self, name: str, count: int, overdue: int, tampered: int) -> str:
        extra = ""
        if overdue:
            extra += self.tr("，逾期 {0}").format(overdue)
        if tampered:
            extra += self.tr("，签字后被修改 {0}").format(tampered)
        return self.tr("{0}（{1}{2}）").format(name, count, extra)

    def _item_data(self, item: ReviewItem, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return f"{item.number}  {item.title}"
            if column == 1:
                return item.day.isoformat()
            return self._state_text(item)
        if role == Qt.ItemDataRole.ForegroundRole and (item.overdue or item.tampered) and column != 1:
            return QBrush(RED)
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and item.tampered:
            if self._warning is None:
                self._warning = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            return self._warning
        if role == Qt.ItemDataRole.CheckStateRole and column == 0 and self.checkable(item):
            return (Qt.CheckState.Checked if key_of(item) in self.checked else Qt.CheckState.Unchecked).value
        if role == Qt.ItemDataRole.FontRole and self.mode == PENDING_MODE and key_of(item) not in self.read:
            return self._bold  # not read yet
        if role == Qt.ItemDataRole.ToolTipRole:
            if item.tampered:
                return self.tr(
                    "签字后被修改：该表单在主管签字后被改动过（包括在程序外直接修改数据库），请核实。"
                )
            if item.comment and self.mode in (RETURNED_MODE, MINE_MODE):
                return self.tr("退回原因：{0}").format(item.comment)
        return None

    def _state_text(self, item: ReviewItem) -> str:
        if item.tampered:
            return self.tr("⚠ 签字后被修改")
        if self.mode == PENDING_MODE and item.due is not None:
            if item.overdue:
                return self.tr("逾期（{0} 到期）").format(f"{item.due:%m-%d}")
            return self.tr("{0} 前").format(f"{item.due:%m-%d}")
        if self.mode == SIGNED_MODE:
            stamp = f"{item.signed_at:%m-%d}" if item.signed_at else ""
            revision = self.tr("，修订 {0}").format(item.revision) if item.revision else ""
            return self.tr("{0} {1}{2}").format(item.signer, stamp, revision)
        if item.comment:
            return self.tr("退回：{0}").format(item.comment.splitlines()[0][:40])
        return item.status

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        item = self.item_at(index)
        if role != Qt.ItemDataRole.CheckStateRole or item is None or not self.checkable(item):
            return False
        key = key_of(item)
        state = Qt.CheckState(value) if not isinstance(value, Qt.CheckState) else value
        if state == Qt.CheckState.Checked:
            if key not in self.read:
                self.check_refused.emit(item)
                return False
            self.checked.add(key)
        else:
            self.checked.discard(key)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checks_changed.emit(len(self.checked))
        return True


class AuditTableModel(RowTableModel[AuditRow]):
    """The 操作日志 list: readable values only (names, Chinese field names, 变更 old → new); the stored JSON
    and the hashes are in the detail dialog (double-click) and the Excel export."""

    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "时间"),
        QT_TRANSLATE_NOOP("Column", "用户"),
        QT_TRANSLATE_NOOP("Column", "操作"),
        QT_TRANSLATE_NOOP("Column", "对象"),
        QT_TRANSLATE_NOOP("Column", "变更"),
        QT_TRANSLATE_NOOP("Column", "原值"),
        QT_TRANSLATE_NOOP("Column", "新值"),
        QT_TRANSLATE_NOOP("Column", "备注"),
    )

    def set_rows(self, rows: list[AuditRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        values = (
            f"{row.at:%Y-%m-%d %H:%M:%S}",
            row.user,
            row.action,
            row.object_text,
            row.change,
            row.old,
            row.new,
            row.note,
        )
        if role == Qt.ItemDataRole.DisplayRole:
            text = values[index.column()]
            return text if len(text) <= 120 else text[:118] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and index.column() >= 3:
            return values[index.column()] or None
        if role == Qt.ItemDataRole.ForegroundRole and row.action in ("撤回签字", "退回修改"):
            return QBrush(RED) if index.column() == 2 else None
        return None
