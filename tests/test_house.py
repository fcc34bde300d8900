"""The house rules of the code's layout (issue 24): no import cycle among the program's modules, and no
module over 900 lines outside the migrations — with a named list of the files still being split, which may
only shrink — no constructor in ``ui/`` over 60 lines, and a short, shrinking list of ``# type: ignore``
exemptions, each naming its mypy error code.

Imports are read from the source with ``ast``, everywhere in a module: at the top, inside functions (an
import deferred to call time still ties the two modules together) and under ``TYPE_CHECKING``. Importing
``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``, so those count too — except a module's own
packages: a module of ``services/visits/`` may read its package's re-exports."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "huifang_desktop"
MAX_LINES = 900

# Files over MAX_LINES that are being split into smaller modules right now. The list only shrinks: once a
# file is split (or gone), the test asks for its entry to be removed, and nothing new may be added.
BEING_SPLIT: frozenset[str] = frozenset({})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _ancestors(name: str) -> Iterator[str]:
    parts = name.split(".")
    for i in range(1, len(parts)):
        yield ".".join(parts[:i])


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The program's modules that ``name`` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package (or the package itself, for an __init__)
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    own = set(_ancestors(name))
    out: set[str] = set()
    for target in found:
        if target not in modules or target == name or target in own:
            continue
        out.add(target)
        out.update(a for a in _ancestors(target) if a in modules and a not in own and a != name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _explain(group: list[str], graph: dict[str, set[str]]) -> str:
    members = set(group)
    return "\n".join(f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in group)


def test_no_import_cycle_among_the_programs_modules() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles (counting imports inside functions):\n" + "\n\n".join(
        _explain(group, graph) for group in found
    )


def test_the_cycle_finder_counts_imports_inside_functions_but_not_a_packages_own_re_exports(
    tmp_path: Path,
) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    files = {
        "pkg": ("__init__.py", "from pkg.one import A\n"),  # the package re-exports its module's name
        "pkg.one": ("one.py", "from pkg import two\nA = 1\n"),
        "pkg.two": ("two.py", "def later():\n    from pkg.one import A  # deferred: still an arrow\n"),
        "pkg.three": ("three.py", "from pkg import A\n"),  # its own package's re-export: fine
    }
    modules = {}
    for name, (file, source) in files.items():
        (pkg / file).write_text(source, encoding="utf-8")
        modules[name] = pkg / file
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    assert graph["pkg.two"] == {"pkg.one"} and graph["pkg.three"] == set()
    assert cycles(graph) == [["pkg.one", "pkg.two"]]


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_over_900_lines_outside_the_migrations() -> None:
    migrations = PACKAGE / "storage" / "migrations"
    too_long = {
        p.relative_to(ROOT).as_posix(): _lines(p)
        for p in PACKAGE.rglob("*.py")
        if migrations not in p.parents and _lines(p) > MAX_LINES
    }
    new = {f: n for f, n in too_long.items() if f not in BEING_SPLIT}
    assert not new, f"modules over {MAX_LINES} lines (split them by workflow): {new}"
    done = sorted(f for f in BEING_SPLIT if f not in too_long)
    assert not done, f"split or gone, remove from BEING_SPLIT in tests/test_house.py: {done}"


# The dialogs', pages' and tabs' constructors stay short (the house issue, OpenLP's split of layout from
# behaviour): a constructor keeps its state and calls the methods that build the widgets (_build_ui …), wire
# them (_connect) and load what they show. Counted from ``def __init__`` to its last line, docstring included.
UI = PACKAGE / "ui"
MAX_CONSTRUCTOR_LINES = 60


def constructor_lengths(source: str) -> dict[str, int]:
    """``Class.__init__`` → its length in lines, for every class in ``source`` (nested classes too)."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__" and item.end_lineno:
                    found[f"{node.name}.__init__"] = item.end_lineno - item.lineno + 1
    return found


def test_constructor_lengths_counts_from_def_to_the_last_line() -> None:
    source = "class A:\n    def __init__(self) -> None:\n        '''doc'''\n        self.x = 1\n\n    def f(self): pass\n"
    assert constructor_lengths(source) == {"A.__init__": 3}


def ui_over(lengths: Callable[[str], dict[str, int]], limit: int) -> dict[str, int]:
    """``path: name`` → length of what ``lengths`` measures in each ``ui/`` module, above ``limit``."""
    return {
        f"{p.relative_to(ROOT).as_posix()}: {name}": n
        for p in sorted(UI.rglob("*.py"))
        for name, n in lengths(p.read_text(encoding="utf-8")).items()
        if n > limit
    }


def test_no_ui_constructor_over_60_lines() -> None:
    too_long = ui_over(constructor_lengths, MAX_CONSTRUCTOR_LINES)
    assert not too_long, (
        f"constructors over {MAX_CONSTRUCTOR_LINES} lines (build the widgets in _build_ui, wire them in "
        f"_connect, load in a method of its own): {too_long}"
    )


# No function or method in ``ui/`` runs over 80 lines either (the layout builders included): a long builder
# is split by the window's own sections (``_build_customer_box``, ``_build_buttons`` …). Counted like the
# constructors, from ``def`` to its last line; nested functions count on their own and inside their parent.
MAX_FUNCTION_LINES = 80


def function_lengths(source: str) -> dict[str, int]:
    """``Class.method`` / ``function`` (nested: ``outer.inner``) → its length in lines, for every function
    in ``source``."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.end_lineno:
                name = f"{prefix}{child.name}"
                found[f"{name}:{child.lineno}"] = child.end_lineno - child.lineno + 1
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_function_lengths_counts_methods_and_nested_functions_from_def_to_the_last_line() -> None:
    source = (
        "def f():\n    def g():\n        pass\n    return g\n\n"
        "class A:\n    async def h(self):\n        '''doc'''\n        x = 1\n"
    )
    assert function_lengths(source) == {"f:1": 4, "f.g:2": 2, "A.h:7": 3}


def test_no_ui_function_over_80_lines() -> None:
    too_long = ui_over(function_lengths, MAX_FUNCTION_LINES)
    assert not too_long, (
        f"functions over {MAX_FUNCTION_LINES} lines (split a layout builder by the window's sections, "
        f"behaviour into named steps): {too_long}"
    )


# mypy's exemptions (``# type: ignore[code]``) are few, and only go down: each one left is a gap in a
# library's stubs (PySide6, reportlab, openpyxl) or a pattern mypy cannot express (attributes set on a
# function or a QThread, a Qt method hidden by a field of the same name). MAX_TYPE_IGNORES may only be
# lowered: remove an ignore by typing the code, then lower the number to the count left.
MAX_TYPE_IGNORES = 31
_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?")


def type_ignores(source: str) -> list[tuple[int, str | None]]:
    """Each ``# type: ignore`` comment in ``source`` (not in strings): (line, its codes or None when bare)."""
    found: list[tuple[int, str | None]] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            for match in _IGNORE.finditer(token.string):
                codes = (match["codes"] or "")[1:-1].strip()
                found.append((token.start[0], codes or None))
    return found


def test_type_ignores_are_found_in_comments_only_with_their_codes() -> None:
    source = (
        "x = 1  # type: ignore[assignment]  # why\n"
        "y = '# type: ignore'\n"
        "z = 2  # type: ignore\n"
        "w = 3  # type:ignore[arg-type,return-value]\n"
    )
    assert type_ignores(source) == [(1, "assignment"), (3, None), (4, "arg-type,return-value")]


def test_type_ignores_only_go_down_and_each_names_its_error_code() -> None:
    found = {
        f"{p.relative_to(ROOT).as_posix()}:{line}": codes
        for p in sorted(PACKAGE.rglob("*.py"))
        for line, codes in type_ignores(p.read_text(encoding="utf-8"))
    }
    bare = sorted(where for where, codes in found.items() if codes is None)
    assert not bare, f"a bare `# type: ignore` hides every error: name the code, e.g. [attr-defined]: {bare}"
    assert len(found) <= MAX_TYPE_IGNORES, (
        f"{len(found)} `# type: ignore` comments, at most {MAX_TYPE_IGNORES}: type the code instead "
        f"(see tests/test_house.py): {sorted(found)}"
    )
