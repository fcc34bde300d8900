"""The read-only record table every tab and dialog shows its rows in, configured in one place."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTableWidget, QWidget

ROW_HEIGHT = 24  # one line of text: the lists stay compact and every tab's rows look the same


def record_table(
    model: QAbstractItemModel,
    name: str = "",
    *,
    multi: bool = False,
    alternating: bool = True,
    parent: QWidget | None = None,
) -> QTableView:
    """A table of ``model``'s rows: whole rows selected (one at a time unless ``multi``), not editable in
    place, no row numbers, one-line rows without word wrap, alternating colours. ``name``: its objectName
    (tests and style sheets find it by that). The caller sizes the columns."""
    view = QTableView(parent)
    if name:
        view.setObjectName(name)
    view.setModel(model)
    return _read_only_rows(view, multi=multi, alternating=alternating)


def record_widget(
    headers: list[str], stretch: int, name: str = "", *, parent: QWidget | None = None
) -> QTableWidget:
    """The same table for a few rows the dialog fills itself (attachments, pages): ``headers``, the column
    ``stretch`` taking the spare width."""
    table = QTableWidget(0, len(headers), parent)
    if name:
        table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    _read_only_rows(table, multi=False, alternating=True)
    return table


def _read_only_rows(view: QTableView, *, multi: bool, alternating: bool) -> QTableView:
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(alternating)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    return view


__all__ = ["ROW_HEIGHT", "record_table", "record_widget"]
