"""What every step of an import shares: the office's import settings (setting ``import_rules``) and saved
column mappings, the fields of each ledger, the errors (:class:`WorkbookError`, :class:`ImportCancelled`) and
the bulk look-ups (``IN (…)`` in chunks of :data:`_CHUNK` keys, users by name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.importing import (
    TARGET_FIELDS,
    ImportRules,
    ImportTarget,
    TargetField,
    cell_text,
    chunks,
    mapping_settings_key,
    user_lookup,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import get_value
from huifang_desktop.storage.limits import check_row
from huifang_desktop.storage.models import (
    Setting,
    User,
)

RULES_KEY = "import_rules"
IMPORT_ACTION = "导入Excel"
UNDO_ACTION = "撤销导入"
CUSTOMER_COUNTER = "customer"  # as services.customers.register_customer
VISIT_HISTORY_STATUS = "历史导入"  # = services.visits.RECORD_HISTORY
VISIT_HISTORY_NOTE = "从 Excel 导入的历史记录"
_CHUNK = 900  # keys per IN (…) look-up (below SQLite's old 999-parameter limit)
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

ProgressFn = Callable[[int, int], None]


class WorkbookError(ServiceError):
    """The file cannot be read as a workbook (missing, damaged, encrypted, .xls, not Excel); names the file."""


class ImportCancelled(ServiceError):
    pass


# --- settings ------------------------------------------------------------------------------------------


def load_import_rules(ctx: ServiceContext) -> ImportRules:
    data = get_value(ctx, RULES_KEY)
    return ImportRules.from_dict(data) if isinstance(data, dict) else ImportRules()


def saved_mapping(ctx: ServiceContext, target: ImportTarget) -> dict[str, str]:
    """The office's saved mapping for ``target``: field key → header text."""
    data = get_value(ctx, mapping_settings_key(target))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_mapping(ctx: ServiceContext, target: ImportTarget, mapping: Mapping[str, str]) -> None:
    """Remember which header goes to which field (field key → header text) for this office's next import.

    Anyone who may import may save it (it is a convenience, not an office rule); audited."""
    ctx.require(Permission.EDIT_CUSTOMERS, "保存导入列对应关系")
    keys = {f.key for f in target_fields(target)}
    clean = {k: cell_text(v) for k, v in mapping.items() if k in keys and cell_text(v)}
    key = mapping_settings_key(target)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, key)
        old = None if row is None else json.loads(row.value)
        if old == clean:
            return
        encoded = json.dumps(clean, ensure_ascii=False)
        if row is None:
            s.add(Setting(key=key, value=encoded))
        else:
            row.value = encoded
        audit(s, ctx, "保存导入列对应", "setting", None, f"{target.value}导入列对应", old=old, new=clean)


def target_fields(target: ImportTarget) -> tuple[TargetField, ...]:
    """The fields a column can be mapped to, the usual order of a ledger (required ones marked)."""
    return TARGET_FIELDS[target]


def _name_key(name: str) -> str:
    return cell_text(name).replace(" ", "").lower()


def _chunked_in(s: Session, query: Callable[[Sequence[Any]], Any], keys: Iterable[Any]) -> list[Any]:
    items = sorted(set(keys), key=str)
    out: list[Any] = []
    for part in chunks(items, _CHUNK):
        out.extend(s.execute(query(part)).all())
    return out


def _users(s: Session, *, active_only: bool) -> dict[str, int]:
    q = select(User.id, User.username, User.display_name)
    if active_only:
        q = q.where(User.active.is_(True))
    return user_lookup((uid, un, dn) for uid, un, dn in s.execute(q).all())


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class: bulk inserts go to the table (Core executemany), not through the ORM."""
    return cast(Table, model.__table__)


def insert_rows(s: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows as one executemany of the driver in the session's transaction, each value converted
    once by its column type's bind processor (dates and times on SQLite; most columns have none): what
    ``session.execute(insert(table), rows)`` does, without Core's per-row parameter machinery, which took a
    tenth of a 10,000-customer import. Every row names the same columns, all of the table's but those with
    a database default (no Python-side default is applied); the length checks of ``storage/limits.py`` are
    made here as the session makes them."""
    if not rows:
        return
    errors = [e for row in rows for e in check_row(table, row)]
    if errors:
        raise ValidationError(errors[:5])
    conn = s.connection()
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(keys)
    convert = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := conn.dialect.type_descriptor(table.c[name].type).bind_processor(conn.dialect)) is not None
    ]
    params: list[Any] = []
    for row in rows:
        values = [row[name] for name in names]
        for i, proc in convert:
            if values[i] is not None:
                values[i] = proc(values[i])
        params.append(tuple(values) if compiled.positional else dict(zip(names, values, strict=True)))
    conn.exec_driver_sql(compiled.string, params)
