"""Column matching: which row is the header (:func:`detect_header_row`), which column feeds which field
(:func:`suggest_mapping` by header names, a saved mapping preferred; :func:`refine_mapping` by the columns'
values), and what is left over (:func:`unused_columns`, :func:`missing_required`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.importing.fields import (
    DEFAULT_RULES,
    TARGET_FIELDS,
    ImportRules,
    ImportTarget,
    TargetField,
)
from huifang_desktop.domain.importing.values import cell_text, column_letter, normalize_header, parse_grade


@functools.cache
def _normalized_synonyms(f: TargetField) -> tuple[str, ...]:
    return tuple(normalize_header(syn) for syn in f.synonyms)


def _field_score(header: str, f: TargetField) -> float:
    """How well a normalised header names field ``f``: 2+ exact (earlier synonyms a little more), 1+ when
    it contains a synonym (longer synonyms more), else 0."""
    if not header:
        return 0.0
    best = 0.0
    for i, s in enumerate(_normalized_synonyms(f)):
        if header == s:
            best = max(best, 2.0 + 0.01 * (len(f.synonyms) - i))
        elif len(s) >= 2 and s in header:
            best = max(best, 1.0 + 0.01 * len(s))
    return best


def header_score(values: Sequence[Any], target: ImportTarget) -> float:
    """How much a row looks like the header of a ``target`` sheet: known names count 1, cells that only
    contain one count ½. Title rows (one long cell) and data rows score low."""
    score = 0.0
    for v in values:
        if not isinstance(v, str):
            continue
        h = normalize_header(v)
        if not h or len(h) > 20:
            continue
        best = max((_field_score(h, f) for f in TARGET_FIELDS[target]), default=0.0)
        score += 1.0 if best >= 2 else (0.5 if best >= 1 else 0.0)
    return score


def detect_header_row(
    rows: Sequence[Sequence[Any]], target: ImportTarget, rules: ImportRules = DEFAULT_RULES
) -> int | None:
    """The 1-based row number of the header among the first ``rules.header_scan_rows`` rows (``rows[0]``
    is sheet row 1), or None when no row has ``rules.min_header_matches`` known names."""
    best_row, best = None, 0.0
    for i, values in enumerate(rows[: rules.header_scan_rows], start=1):
        s = header_score(values, target)
        if s > best:
            best_row, best = i, s
    return best_row if best >= rules.min_header_matches else None


def suggest_mapping(
    headers: Sequence[Any], target: ImportTarget, saved: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Field key → 0-based column index. A saved mapping (field → header text, from an earlier import of
    this office) is applied first where its header is present; the rest by synonyms, best match first,
    each column and each field used once."""
    norm = [normalize_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    keys = {f.key for f in TARGET_FIELDS[target]}
    for key, header in (saved or {}).items():
        if key not in keys or key in mapping:
            continue
        want = normalize_header(header)
        for col, h in enumerate(norm):
            if h and h == want and col not in used:
                mapping[key] = col
                used.add(col)
                break
    pairs = []
    for order, f in enumerate(TARGET_FIELDS[target]):
        if f.key in mapping:
            continue
        for col, h in enumerate(norm):
            s = _field_score(h, f)
            if s > 0 and col not in used:
                pairs.append((-s, order, col, f.key))
    for _s, _order, col, key in sorted(pairs):
        if key in mapping or col in used:
            continue
        mapping[key] = col
        used.add(col)
    return dict(sorted(mapping.items(), key=lambda kv: kv[1]))


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _is_grade(text: str) -> bool:
    try:
        return parse_grade(text) is not None
    except ValidationError:
        return False


def refine_mapping(
    mapping: Mapping[str, int],
    target: ImportTarget,
    samples: Sequence[Sequence[Any]],
    categories: Sequence[str] = (),
) -> dict[str, int]:
    """Correct a header-based mapping by the columns' values (``samples``: the first data rows).

    A 客户台账 column headed 客户类别 whose values are classes (A类, 甲, VIP, b, 大客户) and not the office's
    类别 is the 等级 column (or, when another column already is, not imported and listed)."""
    out = dict(mapping)
    if target is not ImportTarget.CUSTOMERS or "category" not in out:
        return out
    col = out["category"]
    values = [t for t in (cell_text(r[col]) if col < len(r) else "" for r in samples) if t]
    if not values:
        return out
    known = set(categories)
    in_categories = _share(values, lambda v: v in known)
    as_grades = _share(values, _is_grade)
    if in_categories < 0.5 and as_grades >= 0.6:
        del out["category"]
        if "grade" not in out:
            out["grade"] = col
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def unused_columns(headers: Sequence[Any], mapping: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
    """The columns with a header that no field takes: (letter, header) each, so none is dropped unseen."""
    used = set(mapping.values())
    return tuple(
        (column_letter(i), cell_text(h)) for i, h in enumerate(headers) if cell_text(h) and i not in used
    )


def missing_required(target: ImportTarget, mapping: Mapping[str, int]) -> list[TargetField]:
    return [f for f in TARGET_FIELDS[target] if f.required and f.key not in mapping]


def mapping_by_header(headers: Sequence[Any], mapping: Mapping[str, int]) -> dict[str, str]:
    """Field key → header text: what is saved, so the next sheet with other column positions still maps."""
    return {
        k: cell_text(headers[c])
        for k, c in mapping.items()
        if 0 <= c < len(headers) and cell_text(headers[c])
    }
