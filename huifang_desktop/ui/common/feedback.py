"""Showing service errors to the user: Chinese messages, the offending field highlighted."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services.errors import ServiceError

ERROR_STYLE = "border: 1px solid #d9363e; background: #fff1f0;"


def show_error(parent: QWidget | None, exc: Exception, title: str = "") -> None:
    QMessageBox.warning(parent, title or QCoreApplication.translate("Feedback", "无法完成"), str(exc))


def mark_fields(widgets: dict[str, QWidget], exc: ValidationError | None) -> QWidget | None:
    """Highlight the widgets named by ``exc`` (clear all when None); return the first one to focus."""
    bad = set(exc.fields) if exc else set()
    first = None
    for name, widget in widgets.items():
        hit = name in bad or any(f.startswith(name + "[") or f.split("[")[0] == name for f in bad)
        widget.setStyleSheet(ERROR_STYLE if hit else "")
        widget.setToolTip("；".join(e.message for e in exc.errors if e.field == name) if exc and hit else "")
        if hit and first is None:
            first = widget
    return first


__all__ = ["ServiceError", "ValidationError", "mark_fields", "report_in_form", "show_error"]


def report_in_form(widgets: dict[str, QWidget], message: QLabel, exc: Exception) -> None:
    """Show a refused save inside a form: the message below it, the named fields marked, focus on the first."""
    message.setText(str(exc))
    if isinstance(exc, ValidationError):
        first = mark_fields(widgets, exc)
        if first is not None:
            first.setFocus()
