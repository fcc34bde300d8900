"""Translation: the UI is written in Simplified Chinese and every user-visible literal is wrapped so that
``pyside6-lupdate`` can extract it and an English (or any) build can be made without touching the code.

Three forms, and only these (tests/ui/test_translatable.py checks them):

* ``self.tr("…")`` for a literal inside a QObject (context: the class name);
* ``QCoreApplication.translate("Context", "…")`` for a literal outside a QObject;
* ``QT_TRANSLATE_NOOP("Context", "…")`` where a string is *defined* (a table of headers, labels, or the
  labels the services hand up, see :mod:`huifang_desktop.ui.common.labels`), then :func:`translated` with the
  same literal context where it is shown.

``tr(variable)`` is never used: no tool can see what the variable holds, so its text would never reach a
translation file. Nor is ``other.tr("…")`` (lupdate files it under a context named after the variable, which
no class is called) or a ``tr()`` inside an f-string (lupdate does not read f-strings); and
:func:`translated` only shows text marked with ``QT_TRANSLATE_NOOP`` (lupdate does not know it).

``self.tr`` in a base class (a layout class such as ``ComplaintDetailLayout``, subclassed by the pane that is
shown) is fine: lupdate files the text under the base class, and PySide6's ``tr`` looks a text up along the
instance's MRO (PYSIDE-131), so the subclass finds it. tests/ui/test_translation_contexts.py checks this with a
translation installed. Stored values (states, categories, the office's own lists) are data the office reads and
types, not UI text: they are shown as stored.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name lupdate looks for
    """Mark ``text`` for extraction under ``context`` and return it unchanged (typed, unlike PySide6's own,
    which returns ``object``); show it with ``translated(context, text)``."""
    del context
    return text


def translated(context: str, text: str) -> str:
    """``text`` (marked with ``QT_TRANSLATE_NOOP(context, …)`` where it is defined) in the UI language."""
    return QCoreApplication.translate(context, text)
