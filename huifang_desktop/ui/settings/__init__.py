"""Settings (设置): the office's settings and the visit rule table, edited by a supervisor.

:class:`SettingsDialog` (``SettingsDialog(ctx, parent)``) shows a page list on the left and one page at a
time: 单位信息 (:class:`OfficePage`), 回访规则 (:class:`RulesPage`) and 节假日 (:class:`HolidaysPage`:
the State Council's notice pasted in and single days, each stored at once by the page's own buttons). 确定 / Ctrl+S / Enter store and close, 应用 stores and stays, 取消 / Esc close without storing.
Users whose role lacks ``Permission.MANAGE_SETTINGS`` see every page read-only with a note naming the roles
that may change settings (services refuse their writes anyway).

Saving checks every page first (:meth:`SettingsPage.collect`) and stores nothing when one refuses: the
dialog shows that page, the message names the field (the domain's ``ValidationError``), marks the widget
and keeps the user's input. Then each page stores its own settings through the services
(:meth:`SettingsPage.save`), only when they changed, so every stored change leaves one audit row.

Adding a page
-------------
Subclass :class:`~huifang_desktop.ui.settings.page.SettingsPage` and implement what applies:

* ``load()`` — read the stored settings through a service and fill the widgets (called by ``add_page``);
* ``collect()`` — return the value the widgets describe, raising ``ValidationError`` whose field names are
  keys of ``field_widgets()``; never write;
* ``save() -> bool`` — store ``collect()``'s value through a service when it differs from what ``load()``
  read, return whether it wrote;
* ``field_widgets() -> dict[str, QWidget]`` — error field name → widget to mark;
* ``set_read_only(bool)`` — the default makes every input below the page read-only; override to add
  models or widgets made later;
* emit ``content_changed`` when the user edits (optional).

Then add it with ``dialog.add_page(self.tr("投诉期限"), ComplaintDeadlinesPage(ctx))`` — e.g. in
``SettingsDialog.__init__`` next to the others — and list any new sub-package in pyproject.toml.
"""

from huifang_desktop.ui.settings.dialog import SettingsDialog
from huifang_desktop.ui.settings.holidays_page import HolidaysPage
from huifang_desktop.ui.settings.office_page import OfficePage
from huifang_desktop.ui.settings.page import SettingsPage
from huifang_desktop.ui.settings.rules_page import RulesPage

__all__ = ["HolidaysPage", "OfficePage", "RulesPage", "SettingsDialog", "SettingsPage"]
