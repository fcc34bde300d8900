"""The house rule on database rows (the "house" issue): a row from a SQL result is read by name — an
attribute (``row.code``), ``row._mapping``, unpacking into names (``for cid, code in rows``) or
``.scalar_one()``/``.scalars()`` — never by position (``row[3]``), which silently reads the wrong column
when the select list changes.

Read from the source with ``ast`` over ``services``, ``printing``, ``exports`` and ``storage`` (not the
migrations, which read old schemas as they were). The rule follows rows, not every subscript, so ordinary
tuples and lists keep their indexes. A name holds a *row* when it is

* bound from ``.first()``/``.one()``/``.one_or_none()``/``.fetchone()`` (``row = s.execute(q).first()``),
* the loop variable (of a ``for`` or a comprehension, also the second name of ``enumerate``) over a
  *result*: ``.execute(…)``, ``.all()``, ``.fetchall()``, ``.fetchmany()`` — directly, through ``sorted``/
  ``list``/``reversed``/…, or through a name bound to one,
* the parameter of a ``key=`` lambda of ``sorted``/``min``/``max`` over a result,

and a chain through ``.scalars()`` or ``.mappings()`` is no result of rows. A function (anywhere in the
scanned packages, matched by name) that returns a row or a result counts as ``.first()`` or ``.all()``
when called, and so does a list that ``.extend``\\s a result. The rule flags an integer constant (or a slice
with constant bounds) as the subscript of such a row, and of ``.fetchone()``/``.first()``… directly."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "huifang_desktop"
SCANNED = ("services", "printing", "exports", "storage")
MIGRATIONS = PACKAGE / "storage" / "migrations"

ONE_ROW = frozenset({"first", "one", "one_or_none", "fetchone"})
MANY_ROWS = frozenset({"execute", "exec_driver_sql", "all", "fetchall", "fetchmany"})
NOT_ROWS = frozenset({"scalars", "mappings", "scalar", "scalar_one", "scalar_one_or_none"})
PASS_THROUGH = frozenset({"sorted", "list", "tuple", "reversed", "iter", "set"})
KEYED = frozenset({"sorted", "min", "max"})

# Positional reads of SQL rows that are allowed, as "path:line": why. Keep it empty if you can.
EXEMPT: dict[str, str] = {}


@dataclass
class _Helpers:
    """Functions (by name) that return a row, or a result of rows."""

    one: set[str] = field(default_factory=set)
    many: set[str] = field(default_factory=set)
    # (function, parameter): a parameter that is passed a lambda returning a result, ``f(lambda sql: …)``
    makers: set[tuple[str, str]] = field(default_factory=set)


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _chain(call: ast.Call) -> Iterator[str]:
    """The method names of a call chain ``a.b(...).c(...)``, outermost first."""
    node: ast.AST = call
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            yield node.attr
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return


def _constant_index(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _positional(sub: ast.Subscript) -> bool:
    s = sub.slice
    if isinstance(s, ast.Slice):
        bounds = [b for b in (s.lower, s.upper) if b is not None]
        return bool(bounds) and all(_constant_index(b) for b in bounds)
    return _constant_index(s)


class _Scope:
    """The names of one function (with what nests in it) or module that hold rows or results."""

    def __init__(self, helpers: _Helpers) -> None:
        self.helpers = helpers
        self.rows: set[str] = set()
        self.results: set[str] = set()
        self.makers: set[str] = set()  # parameters that make a result when called

    def is_result(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.results
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in PASS_THROUGH and node.args:
                return self.is_result(node.args[0])
            names = list(_chain(node))
            if names and names[0] in MANY_ROWS and not NOT_ROWS.intersection(names):
                return True
            if isinstance(node.func, ast.Name) and node.func.id in self.makers:
                return True
            return name in self.helpers.many
        if isinstance(node, ast.List | ast.Tuple):  # [*a, *b] of results
            parts = [e.value for e in node.elts if isinstance(e, ast.Starred)]
            return bool(parts) and len(parts) == len(node.elts) and all(self.is_result(p) for p in parts)
        return False

    def is_row(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.rows
        if isinstance(node, ast.Call):
            names = list(_chain(node))
            if names and names[0] in ONE_ROW and not NOT_ROWS.intersection(names):
                return True
            return _call_name(node) in self.helpers.one
        if isinstance(node, ast.Subscript) and _constant_index(node.slice):  # rows[0]
            return self.is_result(node.value)
        return False

    def _bind_loop(self, target: ast.expr, source: ast.expr) -> bool:
        if isinstance(target, ast.Name) and self.is_result(source):
            return self._add(self.rows, target.id)
        if (  # for i, row in enumerate(result)
            isinstance(target, ast.Tuple)
            and len(target.elts) == 2
            and isinstance(target.elts[1], ast.Name)
            and isinstance(source, ast.Call)
            and _call_name(source) == "enumerate"
            and source.args
            and self.is_result(source.args[0])
        ):
            return self._add(self.rows, target.elts[1].id)
        return False

    @staticmethod
    def _add(names: set[str], name: str) -> bool:
        if name in names:
            return False
        names.add(name)
        return True

    def learn(self, tree: ast.AST) -> None:
        """Bind names until nothing changes (a name may be used above the line that binds it)."""
        changed = True
        while changed:
            changed = False
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            if self.is_row(node.value):
                                changed |= self._add(self.rows, t.id)
                            elif self.is_result(node.value):
                                changed |= self._add(self.results, t.id)
                elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                    changed |= self._bind_loop(node.target, node.iter)
                elif isinstance(node, ast.Call):
                    name = _call_name(node)
                    f = node.func
                    if (  # out.extend(result)
                        name == "extend"
                        and isinstance(f, ast.Attribute)
                        and isinstance(f.value, ast.Name)
                        and node.args
                        and self.is_result(node.args[0])
                    ):
                        changed |= self._add(self.results, f.value.id)
                    if name in KEYED and node.args and self.is_result(node.args[0]):
                        for kw in node.keywords:
                            if kw.arg == "key" and isinstance(kw.value, ast.Lambda) and kw.value.args.args:
                                changed |= self._add(self.rows, kw.value.args.args[0].arg)

    def returns(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[bool, bool]:
        """(returns a row, returns a result)."""
        one = many = False
        for node in ast.walk(func):
            if isinstance(node, ast.Return) and node.value is not None:
                one |= self.is_row(node.value)
                many |= self.is_result(node.value)
        return one, many


_Def = ast.FunctionDef | ast.AsyncFunctionDef


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, list[ast.AST]]]:
    """Each function (with what nests in it), and the module's own statements: (scope, its code)."""
    yield tree, [stmt for stmt in tree.body if not isinstance(stmt, _Def | ast.ClassDef)]
    for node in ast.walk(tree):
        if isinstance(node, _Def):
            yield node, [node]


def _scope_of(node: ast.AST, code: list[ast.AST], helpers: _Helpers) -> _Scope:
    scope = _Scope(helpers)
    if isinstance(node, _Def):
        scope.makers = {param for func, param in helpers.makers if func == node.name}
    for part in code:
        scope.learn(part)
    return scope


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in [*func.args.posonlyargs, *func.args.args]]


def _learn_makers(trees: list[ast.Module], helpers: _Helpers) -> bool:
    """``f(lambda sql: conn.execute(sql).all())``: ``f``'s parameter makes a result when called."""
    defs: dict[str, list[list[str]]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, _Def):
                defs.setdefault(node.name, []).append(_params(node))
    probe = _Scope(helpers)
    changed = False
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defs):
                continue
            passed = [*enumerate(node.args), *((kw.arg, kw.value) for kw in node.keywords if kw.arg)]
            for where, arg in passed:
                if not (isinstance(arg, ast.Lambda) and probe.is_result(arg.body)):
                    continue
                for params in defs[node.func.id]:
                    name = params[where] if isinstance(where, int) and where < len(params) else where
                    if (
                        isinstance(name, str)
                        and name in params
                        and (node.func.id, name) not in helpers.makers
                    ):
                        helpers.makers.add((node.func.id, name))
                        changed = True
    return changed


def _learn_helpers(trees: Iterable[ast.Module]) -> _Helpers:
    helpers = _Helpers()
    trees = list(trees)
    changed = True
    while changed:
        changed = _learn_makers(trees, helpers)
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, _Def):
                    one, many = _scope_of(node, [node], helpers).returns(node)
                    if one and node.name not in helpers.one:
                        helpers.one.add(node.name)
                        changed = True
                    if many and node.name not in helpers.many:
                        helpers.many.add(node.name)
                        changed = True
    return helpers


def positional_row_reads(sources: dict[str, str]) -> list[str]:
    """``path:line: code`` for every integer subscript of a SQL row in the given sources (path → text)."""
    trees = {path: ast.parse(text, path) for path, text in sources.items()}
    helpers = _learn_helpers(trees.values())
    found: set[tuple[str, int, int, str]] = set()
    for path, tree in trees.items():
        for node, code in _scopes(tree):
            scope = _scope_of(node, code, helpers)
            for part in code:
                for sub in ast.walk(part):
                    if isinstance(sub, ast.Subscript) and _positional(sub) and scope.is_row(sub.value):
                        found.add((path, sub.lineno, sub.col_offset, ast.unparse(sub)))
    return [f"{path}:{line}: {code}" for path, line, _col, code in sorted(found)]


def _scanned_sources() -> dict[str, str]:
    out = {}
    for part in SCANNED:
        for p in sorted((PACKAGE / part).rglob("*.py")):
            if MIGRATIONS not in p.parents:
                out[p.relative_to(ROOT).as_posix()] = p.read_text(encoding="utf-8")
    return out


def test_no_sql_row_is_read_by_position() -> None:
    found = positional_row_reads(_scanned_sources())
    flagged = [f for f in found if f.rsplit(":", 1)[0] not in EXEMPT]
    assert not flagged, (
        "SQL rows read by position — read them by name (row.column, row._mapping, unpacking into names, "
        ".scalar_one()):\n  " + "\n  ".join(flagged)
    )
    stale = sorted(k for k in EXEMPT if not any(f.startswith(k + ":") for f in found))
    assert not stale, f"no longer read by position, remove from EXEMPT: {stale}"


SAMPLE = """
import sqlite3

def flagged(s, conn, q):
    row = s.execute(q).first()
    a = row[0]
    b = conn.execute("PRAGMA integrity_check").fetchone()[0]
    c = [r[1] for r in s.execute(q)]
    rows = s.execute(q).all()
    for r in rows:
        d = r[2]
    e = sorted(rows, key=lambda r: r[1])
    f = rows[0][-1]
    for i, r in enumerate(conn.execute(q).fetchall()):
        g = r[3:]
    h = _first(s, q)[0]
    for r in _chunked(s, q):
        k = r[0]
    _schema(lambda sql: conn.exec_driver_sql(sql).all())

def _schema(rows):
    return [r[1] for r in rows("PRAGMA table_info(t)")]

def _first(s, q):
    row = s.execute(q).first()
    return row

def _chunked(s, q):
    out = []
    out.extend(s.execute(q).all())
    return out

def not_flagged(s, q, pairs):
    for cid, code in s.execute(q):  # unpacked by name
        pass
    row = s.execute(q).first()
    x = row.code, row._mapping["name"]
    ids = s.scalars(q).all()
    first_id = ids[0]  # a list of scalars
    objs = s.execute(q).scalars().all()
    o = objs[0]
    t = pairs[0]  # an ordinary tuple
    for p in pairs:
        y = p[1]
    sizes = (1, 2)
    z = sizes[0] * sizes[1]
    m = s.execute(q).mappings().first()
"""


def test_the_rule_flags_row_positions_and_leaves_ordinary_tuples_alone() -> None:
    found = [f.split(": ", 1)[1] for f in positional_row_reads({"sample.py": SAMPLE})]
    assert found == [
        "row[0]",
        "conn.execute('PRAGMA integrity_check').fetchone()[0]",
        "r[1]",
        "r[2]",
        "r[1]",
        "rows[0][-1]",
        "r[3:]",
        "_first(s, q)[0]",
        "r[0]",
        "r[1]",
    ]
