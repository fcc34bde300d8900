"""``settings show`` / ``settings set KEY VALUE``: the office settings."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    st = sub.add_parser("settings", help="办公室设置：show / set KEY VALUE")
    ssub = st.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    ssub.add_parser("show", help="列出设置")
    sset = ssub.add_parser("set", help="修改一项设置（列表用逗号分隔）")
    sset.add_argument("key")
    sset.add_argument("value")


def cmd_settings(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import settings

    if args.settings_command == "show":
        for key, value in settings.describe(settings.load_settings(ctx)):
            print(f"{key:<22} {value}")
        return EXIT_OK
    new = settings.with_value(settings.load_settings(ctx), args.key, args.value)
    settings.save_settings(ctx, new)
    print(f"已修改 {args.key} = {args.value}")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"settings": cmd_settings}
