"""``users`` (add, list, reset-password, unlock, set-role, set-department, disable, enable) and
``departments`` (list, add, rename)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers, UserError

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    u = sub.add_parser(
        "users",
        help="用户管理：add / list / reset-password / unlock / set-role / set-department / disable / enable",
    )
    usub = u.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="新建用户")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--role", required=True, choices=["clerk", "supervisor", "manager", "admin"])
    add.add_argument("--department", default="")
    add.add_argument("--password", help="密码（不给则提示输入；没有终端时随机生成并打印，首次登录须修改）")
    usub.add_parser("list", help="列出用户")
    reset = usub.add_parser("reset-password", help="重置密码")
    reset.add_argument("username")
    reset.add_argument("--password", help="新密码（不给则随机生成并打印，下次登录须修改）")
    unlock = usub.add_parser("unlock", help="解锁因多次密码错误被锁定的用户")
    unlock.add_argument("username")
    set_role = usub.add_parser("set-role", help="修改用户角色")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=["clerk", "supervisor", "manager", "admin"])
    set_dep = usub.add_parser(
        "set-department", help="修改用户所在部门（部门不存在时新建；空字符串表示无部门）"
    )
    set_dep.add_argument("username")
    set_dep.add_argument("department")
    for action, text in (
        ("disable", "停用用户（不能再登录，记录保留；未完成的工作交给 --to 接手人）"),
        ("enable", "重新启用用户"),
    ):
        usub.add_parser(action, help=text).add_argument("username")
    from huifang_desktop.cli.handover import add_disable_options

    add_disable_options(usub.choices["disable"])

    dp = sub.add_parser("departments", help="部门：list / add / rename")
    dsub = dp.add_subparsers(dest="departments_command", metavar="ACTION", required=True)
    dsub.add_parser("list", help="列出部门、负责主管和人数")
    dadd = dsub.add_parser("add", help="新建部门")
    dadd.add_argument("name")
    dadd.add_argument("--head", help="负责主管的用户名")
    dren = dsub.add_parser("rename", help="部门改名")
    dren.add_argument("old_name")
    dren.add_argument("new_name")


def cmd_users(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import users

    if args.users_command == "list":
        for u in users.list_users(ctx, include_inactive=True):
            state = "" if u.active else "（停用）"
            until = users.locked_until(ctx, u.username)
            if until is not None:
                state += f"（已锁定至 {until:%H:%M}）"
            print(f"{u.username:<14} {u.display_name:<8} {u.role.label:<6} {u.department}{state}")
        return EXIT_OK
    if args.users_command == "add":
        generated = args.password is None and not sys.stdin.isatty()
        if generated:
            import secrets

            password = secrets.token_urlsafe(8)
        else:
            password = _ask_password() if args.password is None else args.password
        info = users.create_user(
            ctx, args.username, args.name, args.role, password, args.department, must_change=generated
        )
        print(f"已创建用户 {info.username}（{info.role.label}）。")
        if generated:
            print(f"初始密码：{password}（只显示这一次；首次登录时须修改）")
        return EXIT_OK
    if args.users_command == "unlock":
        if users.unlock_user(ctx, args.username):
            print(f"已解锁用户 {args.username}。")
        else:
            print(f"用户 {args.username} 没有被锁定（已记录解锁，失败次数重新计算）。")
        return EXIT_OK
    if args.users_command == "set-role":
        info = users.set_role(ctx, args.username, args.role)
        print(f"用户 {info.username} 的角色：{info.role.label}。")
        return EXIT_OK
    if args.users_command == "set-department":
        info = users.set_department(ctx, args.username, args.department)
        print(f"用户 {info.username} 的部门：{info.department or '（无）'}。")
        return EXIT_OK
    if args.users_command == "disable":
        from huifang_desktop.cli.handover import disable

        return disable(ctx, args)
    if args.users_command in ("disable", "enable"):
        info = users.find_user(ctx, args.username)
        users.set_active(ctx, info.id, args.users_command == "enable")
        print(f"已{'启用' if args.users_command == 'enable' else '停用'}用户 {info.username}。")
        return EXIT_OK
    if args.users_command == "reset-password":
        password = users.reset_password(ctx, args.username, args.password)
        print(f"用户 {args.username} 的新密码：{password}" if not args.password else "密码已重置。")
        return EXIT_OK
    raise UserError(f"未知操作：{args.users_command}")


def cmd_departments(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import users

    if args.departments_command == "list":
        for d in users.department_rows(ctx):
            print(f"{d.name:<12} 负责主管：{d.head_name or '（无）'}  人数：{d.members}")
        return EXIT_OK
    if args.departments_command == "add":
        row = users.add_department(ctx, args.name, args.head)
        print(f"已新建部门 {row.name}" + (f"（负责主管：{row.head_name}）。" if row.head_name else "。"))
        return EXIT_OK
    users.rename_department(ctx, args.old_name, args.new_name)
    print(f"部门 {args.old_name} 已改名为 {args.new_name.strip()}。")
    return EXIT_OK


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise UserError("请用 --password 给出密码（当前没有可输入的终端）。")
    import getpass

    first = getpass.getpass("密码：")
    if first != getpass.getpass("再输一次："):
        raise UserError("两次输入的密码不一致。")
    return first


COMMANDS: dict[str, Handler] = {"users": cmd_users, "departments": cmd_departments}
