"""The command groups of ``huifang_desktop/cli/``: every command the parser offers has a handler, every handler
a command, and a group is a module with ``add_parser`` and ``COMMANDS`` named once in ``cli.GROUPS``."""

from __future__ import annotations

import argparse
from types import ModuleType

from huifang_desktop import app, cli

RUN_BEFORE_THE_DATABASE_OPENS = {"restore"}  # app.main calls cli.backup.cmd_restore itself


def test_every_command_of_the_parser_has_one_handler_and_no_handler_is_left_over() -> None:
    offered = set(_listed(app.build_parser()))
    handled = set(cli.commands())
    assert offered - handled == RUN_BEFORE_THE_DATABASE_OPENS
    assert handled <= offered
    assert {"users", "departments", "print", "import", "scan", "imports", "backup", "verify"} <= handled


def test_a_group_is_a_module_with_add_parser_and_commands_named_once() -> None:
    assert len(set(cli.GROUPS)) == len(cli.GROUPS)
    seen: set[str] = set()
    for group in cli.groups():
        assert callable(group.add_parser), group.__name__
        assert group.COMMANDS and not seen & set(group.COMMANDS), group.__name__  # one group per command
        seen |= set(group.COMMANDS)
        sub = argparse.ArgumentParser().add_subparsers(dest="command")
        group.add_parser(sub)
        assert set(group.COMMANDS) <= set(sub.choices), group.__name__  # it handles what it adds


def test_the_help_lists_the_commands_in_the_order_of_the_groups() -> None:
    order = [name for group in cli.groups() for name in _added(group)]
    assert order[:4] == ["demo", "settings", "users", "departments"]
    assert order[-4:] == ["import", "scan", "imports", "holidays"]
    assert _listed(app.build_parser()) == order


def _added(group: ModuleType) -> list[str]:
    sub = argparse.ArgumentParser().add_subparsers(dest="command")
    group.add_parser(sub)
    return [a.dest for a in sub._choices_actions]


def _listed(parser: argparse.ArgumentParser) -> list[str]:
    """The commands as ``--help`` lists them."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [a.dest for a in sub._choices_actions]
