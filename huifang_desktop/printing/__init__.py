"""Printed forms and ledgers as PDF (reportlab, embedded CJK font). Imports domain/ only; no Qt, no DB.

reportlab takes ~0.2 s to import, so the names below are loaded on first use (PEP 562): importing
this package at program start costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huifang_desktop.printing.render import (
        FieldBox,
        FormJob,
        FormLayout,
        Rect,
        RenderCancelled,
        SignatureInfo,
        TableStyle,
        format_value,
        layout_form,
        render_form,
        render_forms,
        render_table,
    )
    from huifang_desktop.printing.templates import FormTemplate, TemplateError, load_template, template_names

_EXPORTS = {
    "render": (
        "FieldBox",
        "FormJob",
        "FormLayout",
        "Rect",
        "RenderCancelled",
        "SignatureInfo",
        "TableStyle",
        "format_value",
        "layout_form",
        "render_form",
        "render_forms",
        "render_table",
    ),
    "templates": ("FormTemplate", "TemplateError", "load_template", "template_names"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

# Written out (not computed from _EXPORTS) so that linters and type checkers see the re-exports;
# tests/printing/test_lazy_exports.py checks that the two agree.
__all__ = [
    "FieldBox",
    "FormJob",
    "FormLayout",
    "FormTemplate",
    "Rect",
    "RenderCancelled",
    "SignatureInfo",
    "TableStyle",
    "TemplateError",
    "format_value",
    "layout_form",
    "load_template",
    "render_form",
    "render_forms",
    "render_table",
    "template_names",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
