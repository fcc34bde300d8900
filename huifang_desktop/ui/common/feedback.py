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
    """Highlight the widgets named by ``exc`` (clear all when None); return the first one to focus.

    A widget that shows several fields (the 严重程度 box also marks the 处理人 it decides) is marked when any
    of them is refused, with all their messages."""
    bad = set(exc.fields) if exc else set()
    first = None
    names: dict[QWidget, list[str]] = {}
    for name, widget in widgets.items():
        names.setdefault(widget, []).append(name)
    for widget, shown in names.items():
        hits = [
            n for n in shown if n in bad or any(f.startswith(n + "[") or f.split("[")[0] == n for f in bad)
        ]
        widget.setStyleSheet(ERROR_STYLE if hits else "")
        messages = [e.message for e in exc.errors if e.field in hits] if exc and hits else []
        widget.setToolTip("；".join(messages))
        if hits and first is None:
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
