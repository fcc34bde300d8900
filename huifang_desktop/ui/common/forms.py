"""Form rows: several fields side by side on one row of a QFormLayout, with their labels between them."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

Part = QWidget | str | tuple[QWidget, int]


def form_row(*parts: Part, stretch: bool = False) -> QHBoxLayout:
    """A row of ``parts``: a widget, a label's (already translated) text, or ``(widget, stretch factor)``;
    ``stretch``: empty space at the end keeps the fields at their natural width."""
    row = QHBoxLayout()
    for part in parts:
        if isinstance(part, str):
            row.addWidget(QLabel(part))
        elif isinstance(part, tuple):
            row.addWidget(*part)
        else:
            row.addWidget(part)
    if stretch:
        row.addStretch(1)
    return row


__all__ = ["form_row"]
