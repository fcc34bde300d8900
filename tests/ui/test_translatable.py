"""Translation (issue 24, item 5): the UI stays Simplified Chinese at the source, every user-visible literal
wrapped so that ``pyside6-lupdate`` extracts it and an English build stays possible.

Read from the source with ``ast`` (huifang_desktop/ui and app.py):

* ``tr(x)`` only with a string literal — ``tr(variable)`` hides its text from every extraction tool — and
  only as ``self.tr``: lupdate files ``window.tr("…")`` under a context named ``window`` (the variable),
  which no class is called, so Qt never finds its translation;
* no ``tr()`` / ``translate()`` inside an f-string: lupdate does not read f-strings;
* ``QT_TRANSLATE_NOOP(ctx, text)`` with literals both; ``translate(ctx, x)`` / ``translated(ctx, x)`` with a
  literal context, and a non-literal ``x`` only in a context that has a ``QT_TRANSLATE_NOOP`` table (the
  variable holds a marked string);
* no bare Chinese literal handed to a Qt text setter (``setText``, ``QLabel(...)``, ``QMessageBox.warning`` …).

Then the labels the services hand up are all in the NOOP tables (ui/common/labels.py), and lupdate, when
installed, extracts the marked text into a .ts file (made in a temporary folder, never committed): every
literal the source marks, under the context the source gives it (``self.tr`` in a class: the class's name).
test_translation_contexts.py checks the same contexts at run time, with a translation installed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.i18n_tools import HAN, ROOT, lupdate, source_files, tool

# Qt calls whose string arguments are shown to the user.
TEXT_SETTERS = frozenset(
    {
        "setText",
        "setWindowTitle",
        "setToolTip",
        "setPlaceholderText",
        "setStatusTip",
        "setWhatsThis",
        "setTitle",
        "setSubTitle",
        "setButtonText",
        "setTabText",
        "addTab",
        "insertTab",
        "addItem",
        "insertItem",
        "addItems",
        "addAction",
        "addMenu",
        "addRow",
        "showMessage",
        "setHorizontalHeaderLabels",
        "setHeaderLabels",
        "setSpecialValueText",
        "setSuffix",
        "setPrefix",
        "setLabelText",
        "setInformativeText",
        "QLabel",
        "QPushButton",
        "QCheckBox",
        "QRadioButton",
        "QGroupBox",
        "QAction",
        "QToolButton",
        "information",
        "warning",
        "critical",
        "question",
        "about",
        "getText",
        "getItem",
        "getInt",
    }
)

# (file, call as ast.unparse writes it): the known exceptions, each with its reason. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "huifang_desktop/ui/common/i18n.py",
        "QCoreApplication.translate(context, text)",
    ): "the one display helper for NOOP-marked text; its callers are checked",
}
ALLOWED_FILES_FOR_SETTERS: frozenset[str] = frozenset()


def _trees() -> Iterator[tuple[str, ast.Module]]:
    for path in source_files():
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_translate(call: ast.Call) -> bool:
    """``translate``/``translated`` of the Qt application (not ``QPainter.translate(x, y)``)."""
    f = call.func
    if isinstance(f, ast.Name):
        return f.id in ("translate", "translated")
    return (
        isinstance(f, ast.Attribute)
        and f.attr == "translate"
        and isinstance(f.value, ast.Name)
        and f.value.id in ("QCoreApplication", "QApplication")
    )


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for rel, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield rel, node


def _noop_contexts() -> set[str]:
    return {
        str(c.args[0].value)
        for _, c in _calls()  # type: ignore[attr-defined]
        if _name(c.func) == "QT_TRANSLATE_NOOP" and c.args and _literal(c.args[0])
    }


def _allowed(rel: str, call: ast.Call) -> bool:
    return (rel, ast.unparse(call)) in ALLOWED


def test_tr_only_with_literals() -> None:
    bad = [
        f"{rel}:{c.lineno}: {ast.unparse(c)}"
        for rel, c in _calls()
        if _name(c.func) == "tr" and not (c.args and _literal(c.args[0])) and not _allowed(rel, c)
    ]
    assert not bad, (
        "tr() of a variable: no tool can extract it; use a literal or a QT_TRANSLATE_NOOP table:\n"
        + "\n".join(bad)
    )


def test_tr_only_on_self() -> None:
    """``window.tr("…")``: lupdate files the text under a context called ``window`` (the variable's name),
    Qt looks it up under the object's class: the translation is never found. Outside the class whose text
    it is, use ``QCoreApplication.translate("Context", "…")``."""
    bad = [
        f"{rel}:{c.lineno}: {ast.unparse(c)[:80]}"
        for rel, c in _calls()
        if _name(c.func) == "tr"
        and isinstance(c.func, ast.Attribute)
        and not (isinstance(c.func.value, ast.Name) and c.func.value.id == "self")
    ]
    assert not bad, "tr() of another object than self:\n" + "\n".join(bad)


def test_no_translation_inside_f_strings() -> None:
    """lupdate does not read f-strings: a ``tr()`` inside one is never extracted."""
    bad = []
    for rel, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and (
                    _name(inner.func) in ("tr", "QT_TRANSLATE_NOOP") or _is_translate(inner)
                ):
                    bad.append(f"{rel}:{inner.lineno}: {ast.unparse(inner)[:80]}")
    assert not bad, "translated inside an f-string (take it out into a variable):\n" + "\n".join(bad)


def test_noop_marks_literals() -> None:
    bad = [
        f"{rel}:{c.lineno}: {ast.unparse(c)}"
        for rel, c in _calls()
        if _name(c.func) == "QT_TRANSLATE_NOOP" and not (len(c.args) == 2 and all(map(_literal, c.args)))
    ]
    assert not bad, "\n".join(bad)


def test_translate_variables_only_in_noop_contexts() -> None:
    contexts = _noop_contexts()
    bad = []
    for rel, c in _calls():
        if not _is_translate(c) or _allowed(rel, c):
            continue
        if len(c.args) < 2 or not _literal(c.args[0]):
            bad.append(f"{rel}:{c.lineno}: {ast.unparse(c)} (the context must be a literal)")
        elif not _literal(c.args[1]) and c.args[0].value not in contexts:  # type: ignore[attr-defined]
            bad.append(f"{rel}:{c.lineno}: {ast.unparse(c)} (no QT_TRANSLATE_NOOP table in this context)")
    assert not bad, "\n".join(bad)


def _bare_chinese(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(HAN.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_bare_chinese(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return _bare_chinese(node.body) or _bare_chinese(node.orelse)
    if isinstance(node, ast.BinOp):
        return _bare_chinese(node.left) or _bare_chinese(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _bare_chinese(node.func.value)  # "…{0}".format(x): the template is the text
    return False


def test_no_bare_chinese_in_text_setters() -> None:
    bad = []
    for rel, c in _calls():
        if _name(c.func) not in TEXT_SETTERS or rel in ALLOWED_FILES_FOR_SETTERS:
            continue
        for arg in [*c.args, *(k.value for k in c.keywords)]:
            if _bare_chinese(arg):
                bad.append(f"{rel}:{c.lineno}: {ast.unparse(arg)[:80]}")
    assert not bad, "Chinese text shown without tr()/translate():\n" + "\n".join(bad)


def test_allow_list_is_still_needed() -> None:
    """An exception whose call is gone (fixed, or moved) is removed from the list."""
    seen = {(rel, ast.unparse(c)) for rel, c in _calls()}
    assert set(ALLOWED) <= seen, set(ALLOWED) - seen


def test_labels_from_the_services_are_marked() -> None:
    from huifang_desktop.domain.importing.fields import ImportTarget
    from huifang_desktop.domain.stats import EventKind, PeriodKind
    from huifang_desktop.services import importing
    from huifang_desktop.services.ledgers import Ledger, columns, reading
    from huifang_desktop.ui.common import labels

    ledger = {lg.value for lg in Ledger} | {c.label for lg in Ledger for c in columns(lg)}
    for lg in Ledger:
        spec = reading._SPECS[lg]
        ledger |= {spec.date_label, spec.owner_label, spec.state_label, spec.kind_label, spec.grade_label}
    imports = {t.value for t in ImportTarget}
    for t in ImportTarget:
        imports |= {x for f in importing.target_fields(t) for x in (f.label, f.hint) if x}
    assert ledger - labels.LEDGER_LABELS == set(), "add these to LEDGER_LABELS in ui/common/labels.py"
    assert imports - labels.IMPORT_LABELS == set(), "add these to IMPORT_LABELS in ui/common/labels.py"
    assert {k.value for k in PeriodKind} - labels.PERIOD_KINDS == set()
    assert {k.value for k in EventKind} - labels.ASSESSMENT_EVENTS == set()


def _marked_literals() -> Iterator[tuple[str, int, str, str]]:
    """(file, line, context, text) of every literal the source marks, with the context lupdate gives it:
    ``self.tr`` the name of the class it is written in, ``translate`` / ``QT_TRANSLATE_NOOP`` their first
    argument."""
    for rel, tree in _trees():
        stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
        while stack:
            node, cls = stack.pop()
            if isinstance(node, ast.ClassDef):
                cls = node.name
            if isinstance(node, ast.Call) and node.args and _literal(node.args[0]):
                first = str(node.args[0].value)  # type: ignore[attr-defined]
                text = node.args[1] if len(node.args) > 1 and _literal(node.args[1]) else None
                marks = _is_translate(node) or _name(node.func) == "QT_TRANSLATE_NOOP"
                if _name(node.func) == "tr" and cls is not None:
                    yield rel, node.lineno, cls, first
                elif marks and text is not None:
                    yield rel, node.lineno, first, str(text.value)  # type: ignore[attr-defined]
            stack.extend((child, cls) for child in ast.iter_child_nodes(node))


def test_lupdate_extracts_the_marked_text(tmp_path: Path) -> None:
    if tool("pyside6-lupdate") is None:
        pytest.skip("pyside6-lupdate is not installed (it comes with the PySide6 wheel's tools)")
    found = lupdate(tmp_path / "huifang_en.ts")

    from huifang_desktop.ui.common import labels

    assert labels.LEDGER_LABELS <= found["Ledger"]
    assert labels.IMPORT_LABELS <= found["Import"]
    assert "客户编号" in found["Column"]
    assert "今日待回访 {0} 个，逾期 {1} 个" in found["Reminder"]
    assert _noop_contexts() <= set(found)
    assert sum(map(len, found.values())) > 1000  # the whole UI, not a handful
    missed = [
        f"{rel}:{line}: {context} / {text[:40]!r}"
        for rel, line, context, text in _marked_literals()
        if text not in found.get(context, set())
    ]
    assert not missed, "marked in the source but not extracted under that context:\n" + "\n".join(missed)
