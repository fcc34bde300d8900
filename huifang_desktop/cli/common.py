"""What every command group shares: the exit codes, the error a user can fix, a handler's signature and
the date options (``--from``/``--to``/``--today``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

# The ``sub`` a group's ``add_parser`` adds its commands to, and a command's handler: it runs on the opened
# database as the system user (``ctx``) with the parsed ``args`` and the data folder's ``paths``, prints what it
# did and returns the exit code.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = "Callable[[ServiceContext, argparse.Namespace, AppPaths], int]"


class UserError(Exception):
    """A problem the user can fix; printed as a message, not a traceback."""


def day_option(text: str | None, label: str, field: str) -> date | None:
    """A date option: None when not given; given but empty ("") or out of range is refused, naming it."""
    from huifang_desktop.domain.validation import parse_date

    return None if text is None else parse_date(text, label=label, field=field, required=True)
