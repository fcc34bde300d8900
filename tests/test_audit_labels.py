"""Every key a service writes into an audit row's old/new has a Chinese name in audit.FIELD_LABELS, so the
操作日志 never shows an internal key. The keys are collected from the source (ast): dict literals given to
``audit(…)`` / ``audit_values(…)``, followed through local names, ``with_state``, ``diff``, the module's own
snapshot functions and ``asdict`` of the module's dataclasses. A call whose keys cannot be followed must be
listed in ``OPEN_VALUES`` with the reason (values whose keys are data, not program fields)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import huifang_desktop.services as services_pkg
from huifang_desktop.services import audit

SERVICES = Path(services_pkg.__file__).parent

# (module, action text or function) → why its keys are not program field names; the module is the top-level
# one under services/ (a package's submodules count as the package: ``ledgers`` for ``ledgers/prefs.py``)
OPEN_VALUES = {
    ("settings", "set_value"): "a whole setting value (rule lists); its fields are shown with FIELD_LABELS",
    ("importing", "save_mapping"): "a column mapping: Excel column headers → fields, both data",
    (
        "ledgers",
        "_store_prefs",
    ): "a user's saved ledger filter or columns (a setting value, given by the caller)",
}


class _Collector:
    def __init__(self, module: str, dotted: str, tree: ast.Module, package: list[ast.Module]) -> None:
        self.module = module
        self.tree = tree
        self.package = package  # every module of the same top-level module or package
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        mod = importlib.import_module(f"huifang_desktop.services.{dotted}")
        self.dataclass_keys = {
            f.name
            for obj in vars(mod).values()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == mod.__name__
            for f in dataclasses.fields(obj)
        }
        self.keys: set[str] = set()
        self.open: set[tuple[str, str]] = set()

    def resolve(self, node: ast.AST | None, fn: ast.FunctionDef, depth: int = 0) -> bool:
        """Add the keys of ``node``'s dict to self.keys; False when they cannot be followed."""
        if node is None or depth > 12:
            return node is None
        if isinstance(node, ast.Constant) and node.value is None:
            return True
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, fn, depth + 1) and self.resolve(node.orelse, fn, depth + 1)
        if isinstance(node, ast.Dict):
            ok = True
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:
                    ok = self.resolve(v, fn, depth + 1) and ok
                elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                    self.keys.add(k.value)
                else:
                    ok = False
            return ok
        if isinstance(node, ast.DictComp):
            if self.iter_keys(node.generators[0].iter, fn, depth + 1):
                return True
            base = node.value.value if isinstance(node.value, ast.Subscript) else node.value
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.args:
                base = base.args[0] if isinstance(base.args[0], ast.Subscript) else base
                base = base.value if isinstance(base, ast.Subscript) else base
            return self.resolve(base, fn, depth + 1)
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "with_state":
                self.keys.add("state")
                return self.resolve(node.args[1] if len(node.args) > 1 else None, fn, depth + 1)
            if name == "diff":
                return all(self.resolve(a, fn, depth + 1) for a in node.args)
            if name == "asdict":
                self.keys |= self.dataclass_keys
                return bool(self.dataclass_keys)
            if name in ("dict",) and node.args:
                return self.resolve(node.args[0], fn, depth + 1)
            target = self.functions.get(name)
            if target is not None:
                returns = [
                    r.value for r in ast.walk(target) if isinstance(r, ast.Return) and r.value is not None
                ]
                return bool(returns) and all(self.resolve(r, target, depth + 1) for r in returns)
            return False
        if isinstance(node, ast.Name):
            found = False
            ok = True
            for n in ast.walk(fn):
                if isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    names = [t.id for tgt in targets for t in ast.walk(tgt) if isinstance(t, ast.Name)]
                    if node.id in names:
                        found = True
                        ok = self.resolve(n.value, fn, depth + 1) and ok
                elif (
                    isinstance(n, ast.Assign)
                    and len(n.targets) == 1
                    and isinstance(n.targets[0], ast.Subscript)
                    and isinstance(n.targets[0].value, ast.Name)
                    and n.targets[0].value.id == node.id
                    and isinstance(n.targets[0].slice, ast.Constant)
                ):
                    self.keys.add(n.targets[0].slice.value)
            return found and ok
        if isinstance(node, ast.Subscript):  # snapshot[k] of a followed dict
            return self.resolve(node.value, fn, depth + 1)
        if isinstance(node, ast.Attribute):  # doc.detail: the module's ``detail=`` arguments
            values = [
                kw.value
                for tree in self.package
                for call in ast.walk(tree)
                if isinstance(call, ast.Call)
                for kw in call.keywords
                if kw.arg == node.attr
            ]
            return bool(values) and all(self.resolve(v, fn, depth + 1) for v in values)
        return False

    def iter_keys(self, node: ast.AST, fn: ast.FunctionDef, depth: int) -> bool:
        """Keys of a comprehension ``{k: … for k in X}`` over a literal tuple (or a name bound to one)."""
        if depth > 12:
            return False
        if isinstance(node, ast.Tuple | ast.List):
            ok = True
            for elt in node.elts:
                first = elt.elts[0] if isinstance(elt, ast.Tuple) and elt.elts else elt
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    self.keys.add(first.value)
                elif isinstance(elt, ast.Starred):
                    ok = self.iter_keys(elt.value, fn, depth + 1) and ok
                else:
                    ok = False
            return ok
        if isinstance(node, ast.Name):
            values = [
                n.value
                for n in ast.walk(fn)
                if isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)
            ]
            return bool(values) and all(self.iter_keys(v, fn, depth + 1) for v in values)
        if isinstance(node, ast.DictComp | ast.ListComp | ast.SetComp | ast.GeneratorExp):
            return self.iter_keys(node.generators[0].iter, fn, depth + 1)
        if isinstance(node, ast.Dict):
            return self.resolve(node, fn, depth + 1)
        return False

    def run(self, tree: ast.Module) -> None:
        for fn in self.functions.values():
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call):
                    continue
                name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
                if name not in ("audit", "audit_values") or self.module == "context":
                    continue
                for kw in call.keywords:
                    if kw.arg in ("old", "new") and not self.resolve(kw.value, fn):
                        self.open.add((self.module.split(".")[0], fn.name))


def audit_keys() -> tuple[set[str], set[tuple[str, str]]]:
    keys: set[str] = set()
    open_: set[tuple[str, str]] = set()
    modules: list[tuple[str, str, ast.Module]] = []
    for path in sorted(SERVICES.rglob("*.py")):
        parts = path.relative_to(SERVICES).with_suffix("").parts
        dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if dotted:
            modules.append((parts[0], dotted, ast.parse(path.read_text(encoding="utf-8"))))
    for top, dotted, tree in modules:
        c = _Collector(top, dotted, tree, [t for other, _d, t in modules if other == top])
        c.run(tree)
        keys |= c.keys
        open_ |= c.open
    return keys, open_


def _labelled(key: str) -> bool:
    return key in audit.FIELD_LABELS or not any("a" <= ch.lower() <= "z" for ch in key)


def test_every_audit_key_a_service_writes_has_a_chinese_label() -> None:
    keys, _ = audit_keys()
    assert {
        "visitor_id",
        "form",
        "output",
        "pages",
        "target",
        "state",
        "public_key",
    } <= keys  # the collector works
    missing = sorted(k for k in keys if not _labelled(k))
    assert not missing, f"audit keys without a Chinese name in audit.FIELD_LABELS: {missing}"


def test_audit_values_that_cannot_be_followed_are_only_the_known_data_values() -> None:
    _, open_ = audit_keys()
    assert open_ <= set(OPEN_VALUES), (
        f"audit values whose keys cannot be checked: {sorted(open_ - set(OPEN_VALUES))}"
    )
