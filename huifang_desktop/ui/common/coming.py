"""A tab whose capability is not built yet says plainly what it will hold and what to use meanwhile."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ComingTab(QWidget):
    def __init__(self, title: str, lines: list[str], meanwhile: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        items = "".join(f"<li>{line}</li>" for line in lines)
        later = self.tr("此标签页将在后续版本中提供：")
        label = QLabel(f"<h2>{title}</h2><p>{later}</p><ul>{items}</ul><p style='color:#666'>{meanwhile}</p>")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(label)
        layout.addStretch(1)
