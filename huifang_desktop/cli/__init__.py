"""The command line's subcommands, one module per group; ``app.py`` parses and dispatches.

``huifang-desktop`` without a command opens the GUI; a command serves administrators and scheduled tasks.
``app.py`` stays the entry point: it builds the top-level options, opens the database (backup, migrate) and
hands the parsed arguments to the command's handler. The commands themselves live here:

=================  ==================================================================
``demo``           demo
``settings``       settings show / set
``users``          users …, departments …
``plan``           plan (the daily catch-up of visit plans)
``customers``      customers find
``backup``         backup, verify, restore (restore runs before the database opens)
``export``         export visits / complaints / audit / customers / services / endcustomers
``printing``       print record / blank / empty / report / complaint / day / visits
``stats``          stats
``assessment``     assessment show / confirm / adjust (the monthly 考核)
``importing``      import, scan …, imports
``holidays``       holidays import / list / set (the State Council notice, single days)
=================  ==================================================================

Adding a group takes one module and one line. The module ``cli/<group>.py`` defines

- ``add_parser(sub: Subparsers) -> None``: its ``sub.add_parser(...)`` calls (argument types from
  ``huifang_desktop.cli_text``, imported inside the function);
- ``COMMANDS: dict[str, Handler]``: each command it adds → its handler
  ``cmd_x(ctx, args, paths) -> int`` (the exit code; :class:`~huifang_desktop.cli.common.UserError` for a
  problem the user can fix, printed without a traceback);

and the line is its name in :data:`GROUPS` (the order there is the order of ``--help``). Handlers import
services inside the function: the GUI's start imports this package without building any parser.

The group modules import ``cli.common`` and the layers below (ui, services, …), never ``app``: the
import-linter contract in pyproject.toml puts ``huifang_desktop.cli`` just below ``huifang_desktop.app``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huifang_desktop.cli.common import Handler, Subparsers

GROUPS = (
    "demo",
    "settings",
    "users",
    "plan",
    "customers",
    "backup",
    "export",
    "printing",
    "stats",
    "assessment",
    "importing",
    "holidays",
)


def groups() -> list[ModuleType]:
    """The group modules, in :data:`GROUPS` order (imported on first use)."""
    return [importlib.import_module(f"{__name__}.{name}") for name in GROUPS]


def add_parsers(sub: Subparsers) -> None:
    """Every group's commands on the top-level parser's subparsers."""
    for group in groups():
        group.add_parser(sub)


def commands() -> dict[str, Handler]:
    """Command name → handler, over every group."""
    found: dict[str, Handler] = {}
    for group in groups():
        found.update(group.COMMANDS)
    return found
