"""Every right is decided by the ONE permission table (domain/roles.py): services/ and ui/ never compare roles
themselves. An AST scan flags any comparison that reads a role (``x.role``, ``Role.X``, ``Role(...)``) and any
use of ``.rank``; the few spots left are business rules about WHO, not about what one may do, listed below."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "huifang_desktop"

# (file, function): why it may compare roles. Keep this short; a right belongs in PERMISSIONS.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "services/complaints/intake.py",
        "_route",
    ): "routing by severity: prefer the customer's owner at the clerk level, "
    "the acting user when they are the level itself",
    (
        "services/complaints/common.py",
        "_pick_user",
    ): "finds a person AT a ladder level (SQL: User.role == level)",
}
# The demo generators (huifang_desktop/demo/, above services) simulate a whole office (who registers, who
# visits) and are outside this scan; their one right (MANAGE_USERS) is checked in tests/demo/test_demo_rights.py.
ALLOWED_MODULES: set[str] = set()


def _reads_role(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and (
            sub.attr in ("role", "rank") or (isinstance(sub.value, ast.Name) and sub.value.id == "Role")
        ):
            return True
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "Role":
            return True
    return False


def role_comparisons(source: str) -> list[tuple[int, str, str]]:
    """(line, enclosing function, code) of every role comparison and every ``.rank`` in ``source``."""
    tree = ast.parse(source)
    parent: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[child] = node

    def function_of(node: ast.AST) -> str:
        while node in parent:
            node = parent[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node.name
        return "<module>"

    found: dict[int, tuple[int, str, str]] = {}  # one per line: the outermost offending expression
    for node in ast.walk(tree):  # breadth first: a comparison before the ``.rank`` inside it
        compares_role = isinstance(node, ast.Compare) and any(
            _reads_role(x) for x in (node.left, *node.comparators)
        )
        if compares_role or (isinstance(node, ast.Attribute) and node.attr == "rank"):
            found.setdefault(node.lineno, (node.lineno, function_of(node), ast.unparse(node)))
    return sorted(found.values())


def test_the_scan_finds_the_kinds_of_ad_hoc_check_it_forbids():
    code = """
def f(ctx, u, c):
    if ctx.user.role is Role.MANAGER: pass
    if u.role in (Role.CLERK, Role.SUPERVISOR): pass
    if ctx.user.role.rank >= Role.SUPERVISOR.rank: pass
    if Role(c.handler_role) == Role.ADMIN: pass
    q = select(User.id).where(User.role != Role.ADMIN.value)
    best = max(a, b, key=lambda r: r.rank)
    if can(ctx.user.role, Permission.SIGN_OFF): pass
"""
    lines = sorted({line for line, _f, _c in role_comparisons(code)})
    assert lines == [3, 4, 5, 6, 7, 8]


def test_services_and_ui_compare_no_roles_outside_the_permission_table():
    offences = []
    used = set()
    for layer in ("services", "ui"):
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            rel = path.relative_to(PACKAGE).as_posix()
            if rel in ALLOWED_MODULES:
                continue
            for line, function, code in role_comparisons(path.read_text(encoding="utf-8")):
                if (rel, function) in ALLOWED:
                    used.add((rel, function))
                    continue
                offences.append(f"{rel}:{line} in {function}(): {code}")
    assert not offences, (
        "role compared outside domain/roles.py; use ctx.require / ctx.may / can() with a "
        "Permission (add one to PERMISSIONS if needed):\n" + "\n".join(offences)
    )
    assert used == set(ALLOWED), f"allow-list entries no longer needed: {sorted(set(ALLOWED) - used)}"


def test_the_readmes_rights_table_is_the_permission_table() -> None:
    from huifang_desktop.domain.roles import Role, rights_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Rights", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert rows == [
        f"| {label} (`{role.value}`) | {may} |"
        for (label, may), role in zip(rights_table(), Role, strict=True)
    ]
