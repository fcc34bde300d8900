"""Supervisor sign-off (审阅签字, domain.md §1, §5, §7): what is reviewed, when it is due, and the signature.

A reviewed item is a 回访记录表, a 回访报告表 or a closed complaint's 投诉处理表 (:class:`ReviewKind`). It moves
待审阅 → 已签字 (signed) or 退回 (returned to its clerk, who corrects it and sends it back); a signed item can
only be reopened (撤回签字) by a supervisor or manager, with a reason, which returns it to its clerk.

The stored sign-off carries two SHA-256 hashes:

* the **content hash**: over a canonical JSON of the item's business fields (:data:`HASH_FIELDS`), i.e.
  everything on the form, but not its status, version or sign-off columns;
* the **signature hash**: over the content hash plus the sign-off itself (signer, role, time, 指导意见,
  revision), so a signer or a comment changed afterwards is caught too.

and, since migration 0010, the **signature**: an Ed25519 signature by the signer's private key (kept
encrypted under the signer's password, ``services.signing``) over :func:`sign_message` — the kind, the item's
id, the content hash, the sign-off and the position of the 签字 row in the audit hash chain. The hashes alone
can be recomputed by anyone who can write the database file; the signature cannot.

:func:`check_integrity` compares a stored row with its hashes and signature: any change of the stored row after signing —
by the program or by SQL outside it — shows as :attr:`Integrity.TAMPERED` (“签字后被修改”). A row that carries a
content hash without being signed had its signature removed outside the program (reopening clears the hash),
and counts as tampered too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.domain.validation import optional_text
from huifang_desktop.domain.workcal import WorkCalendar

HASH_VERSION = 1  # part of every hash: a later canonical form cannot match an old hash by accident


class ReviewKind(StrEnum):
    RECORD = "回访记录表"
    REPORT = "回访报告表"
    COMPLAINT = "投诉处理表"

    @property
    def entity(self) -> str:
        """The table name the audit log uses for this kind."""
        return _ENTITIES[self]

    @property
    def short(self) -> str:
        return _SHORT[self]

    @classmethod
    def parse(cls, value: ReviewKind | str) -> ReviewKind:
        """A kind from its label, its table name or its key (``record``/``report``/``complaint``)."""
        if isinstance(value, ReviewKind):
            return value
        text = str(value).strip()
        for kind in cls:
            if text in (kind.value, kind.entity, kind.name.lower(), kind.short):
                return kind
        raise ValidationError(FieldError("kind", "审阅类型", f"“{value}”不是可审阅的表单"))


_ENTITIES = {
    ReviewKind.RECORD: "visit_record",
    ReviewKind.REPORT: "visit_report",
    ReviewKind.COMPLAINT: "complaint",
}
_SHORT = {ReviewKind.RECORD: "回访记录", ReviewKind.REPORT: "回访报告", ReviewKind.COMPLAINT: "投诉"}


class ReviewStatus(StrEnum):
    """Review state of an item. Complaints that are not closed yet have no review state (``NONE``)."""

    NONE = ""
    DRAFT = "草稿"
    PENDING = "待审阅"
    RETURNED = "退回"
    SIGNED = "已签字"


class Integrity(StrEnum):
    UNSIGNED = "未签字"
    INTACT = "签字有效"
    TAMPERED = "签字后被修改"


class ReviewAction(StrEnum):
    """The audit-log actions of the review; the log and the item's history use these words."""

    SIGN = "签字"
    RETURN = "退回修改"
    REOPEN = "撤回签字"
    RESUBMIT = "重新提交"


# --- what is hashed ----------------------------------------------------------------------------------

RECORD_FIELDS: tuple[str, ...] = (
    "number",
    "plan_id",
    "customer_id",
    "contact_name",
    "contact_phone",
    "visit_type",
    "method",
    "visited_at",
    "visitor_id",
    "content",
    "feedback",
    "problems",
    "measures",
    "satisfaction",
    "handling",
    "transfer_department",
    "transfer_due",
    "transfer_done_at",
    "transfer_answer",
    "next_visit_on",
    "result",
    "customer_signed",
    "created_at",
)
REPORT_FIELDS: tuple[str, ...] = (
    "number",
    "clerk_id",
    "period_start",
    "period_end",
    "summary",
    "problems",
    "actions",
    "evaluation",
    "due_on",
    "created_at",
)
COMPLAINT_FIELDS: tuple[str, ...] = (
    "number",
    "kind",
    "received_at",
    "channel",
    "complainant",
    "anonymous",
    "phone",
    "customer_id",
    "subject",
    "content",
    "category",
    "severity",
    "special",
    "reply_only",
    "department_id",
    "handler_id",
    "handler_role",
    "state",
    "accepted_at",
    "investigation",
    "cause",
    "measures",
    "result",
    "replied_at",
    "reply_way",
    "reply_text",
    "handled_at",
    "visit_round",
    "visit_record_id",
    "visited_at",
    "visit_satisfied",
    "satisfaction",
    "visit_note",
    "closed_at",
    "withdraw_reason",
    "linked_to_id",
    "converted_from",
    "occurrences",
    "created_by_id",
    "created_at",
    "attachments",  # (sha256, name, kind) of every attached file, sorted: a file swapped or removed shows
)
HASH_FIELDS: dict[ReviewKind, tuple[str, ...]] = {
    ReviewKind.RECORD: RECORD_FIELDS,
    ReviewKind.REPORT: REPORT_FIELDS,
    ReviewKind.COMPLAINT: COMPLAINT_FIELDS,
}
# Never hashed: they change when the item is reviewed, or carry no content (the optimistic-lock counter,
# deadlines and notices of the complaint workflow, the sign-off columns themselves).
EXCLUDED_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "status",
        "review_status",
        "version",
        "revision",
        "supervisor_comment",
        "signed_by_id",
        "signed_at",
        "signed_role",
        "content_hash",
        "signature_hash",
        "updated_at",
        "deadline",
        "escalation_seen",
    }
)


_AS_IS = frozenset((str, int, bool, type(None)))


def _plain(value: Any) -> Any:
    """One value in its canonical JSON form (dates ISO, decimals as text, tuples as lists)."""
    t = type(value)
    if t in _AS_IS:  # the common values, by their exact type (subclasses such as StrEnum: below)
        return value
    if t is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # exact and stable, never the locale's or JSON's rounding
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=_sort_key) if isinstance(value, set | frozenset) else items
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def _sort_key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def canonical_json(values: Mapping[str, Any]) -> str:
    """Stable text of ``values``: sorted keys, no whitespace, UTF-8 characters kept, typed values in ISO."""
    return json.dumps(_plain(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def hashed_values(kind: ReviewKind, values: Mapping[str, Any]) -> dict[str, Any]:
    """The business fields of ``kind`` taken from ``values`` (a missing field is a programming error)."""
    missing = [name for name in HASH_FIELDS[kind] if name not in values]
    if missing:
        raise KeyError(f"{kind.value} is missing fields for its content hash: {', '.join(missing)}")
    return {name: values[name] for name in HASH_FIELDS[kind]}


def content_hash(kind: ReviewKind, values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of the item's business fields."""
    payload = {"v": HASH_VERSION, "kind": kind.entity, "fields": hashed_values(kind, values)}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignOff:
    """What a sign-off stores besides the content hash."""

    signer_id: int | None
    signer_role: str
    signed_at: datetime | None
    comment: str
    revision: int


def signature_hash(content: str, sign_off: SignOff) -> str:
    """SHA-256 (hex) over the content hash and the sign-off: a changed signer, time or comment shows."""
    payload = {
        "v": HASH_VERSION,
        "content": content,
        **{f.name: getattr(sign_off, f.name) for f in fields(SignOff)},
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSignature:
    """The review columns of a stored row, as read back. ``signature``: the Ed25519 signature (hex, empty on
    a row signed before migration 0010); ``seq``: the audit-chain position it was signed at."""

    status: str
    content_hash: str
    signature_hash: str
    sign_off: SignOff
    signature: str = ""
    seq: int | None = None


def sign_message(kind: ReviewKind | str, item_id: int, content: str, sign_off: SignOff, seq: int) -> bytes:
    """What the signer's key signs: the item (a review kind, or a table name such as ``monthly_assessment``),
    its content hash, the sign-off and the chain position."""
    entity = kind.entity if isinstance(kind, ReviewKind) else kind
    payload = {
        "v": 2,
        "kind": entity,
        "id": item_id,
        "content": content,
        "seq": seq,
        **{f.name: getattr(sign_off, f.name) for f in fields(SignOff)},
    }
    return canonical_json(payload).encode("utf-8")


# (message, signature hex, signer id, chain position) -> valid for the signer's key registered before it
SignatureCheck = Callable[[bytes, str, int | None, int], bool]
# (item id, the row's stored signature) -> a sign-off made before signatures existed, confirmed by the chain
LegacyCheck = Callable[[int | None, StoredSignature], bool]


def check_integrity(
    kind: ReviewKind,
    values: Mapping[str, Any],
    stored: StoredSignature,
    item_id: int | None = None,
    verify: SignatureCheck | None = None,
    legacy: LegacyCheck | None = None,
) -> Integrity:
    """Does the stored row still match what was signed?

    Signed: both hashes recomputed from the row must equal the stored ones (a signed row without hashes was
    marked signed outside the program), and the signature must be valid for the signer's registered key
    (``verify``) over the recomputed content hash — a row whose hashes were recomputed after an edit, whose
    signer was replaced or that was marked signed with SQL fails here. A row signed before signatures existed
    (no signature) must be confirmed by ``legacy`` (its 签字 row in the audit chain). Without ``verify`` /
    ``legacy`` only the hashes are compared. Not signed: a row still carrying a content hash had its
    signature removed outside the program (reopening clears the hashes). Otherwise :attr:`Integrity.UNSIGNED`.
    """
    if stored.status != ReviewStatus.SIGNED:
        return (
            Integrity.TAMPERED
            if stored.content_hash or stored.signature_hash or stored.signature
            else Integrity.UNSIGNED
        )
    if not stored.content_hash or not stored.signature_hash:
        return Integrity.TAMPERED
    current = content_hash(kind, values)
    if current != stored.content_hash:
        return Integrity.TAMPERED
    if signature_hash(current, stored.sign_off) != stored.signature_hash:
        return Integrity.TAMPERED
    if stored.signature:
        if verify is not None:
            if item_id is None or stored.seq is None:
                return Integrity.TAMPERED
            message = sign_message(kind, item_id, current, stored.sign_off, stored.seq)
            if not verify(message, stored.signature, stored.sign_off.signer_id, stored.seq):
                return Integrity.TAMPERED
    elif legacy is not None and not legacy(item_id, stored):
        return Integrity.TAMPERED
    return Integrity.INTACT


# --- status changes ----------------------------------------------------------------------------------

_FROM: dict[ReviewAction, frozenset[str]] = {
    ReviewAction.SIGN: frozenset({ReviewStatus.PENDING.value}),
    ReviewAction.RETURN: frozenset({ReviewStatus.PENDING.value}),
    ReviewAction.REOPEN: frozenset({ReviewStatus.SIGNED.value}),
    ReviewAction.RESUBMIT: frozenset({ReviewStatus.RETURNED.value}),
}
_TO: dict[ReviewAction, ReviewStatus] = {
    ReviewAction.SIGN: ReviewStatus.SIGNED,
    ReviewAction.RETURN: ReviewStatus.RETURNED,
    ReviewAction.REOPEN: ReviewStatus.RETURNED,  # back to the clerk; an edit or 重新提交 makes it 待审阅
    ReviewAction.RESUBMIT: ReviewStatus.PENDING,
}
_REFUSALS: dict[ReviewAction, dict[str, str]] = {
    ReviewAction.SIGN: {
        ReviewStatus.SIGNED.value: "已签字",
        ReviewStatus.RETURNED.value: "已退回，等待修改后重新提交",
        ReviewStatus.NONE.value: "尚未办结，不在审阅中",
        ReviewStatus.DRAFT.value: "还是草稿，尚未提交",
    },
    ReviewAction.RETURN: {
        ReviewStatus.SIGNED.value: "已签字，须先撤回签字",
        ReviewStatus.RETURNED.value: "已退回",
        ReviewStatus.NONE.value: "尚未办结，不在审阅中",
        ReviewStatus.DRAFT.value: "还是草稿，尚未提交",
    },
    ReviewAction.REOPEN: {},
    ReviewAction.RESUBMIT: {ReviewStatus.SIGNED.value: "已签字", ReviewStatus.PENDING.value: "已在审阅中"},
}


def next_status(action: ReviewAction, status: str, label: str = "该表单") -> ReviewStatus:
    """The status after ``action``; a ValidationError naming the state when the action does not apply."""
    if status in _FROM[action]:
        return _TO[action]
    reason = _REFUSALS[action].get(status) or (
        f"状态为“{status or '未提交'}”，未签字"
        if action is ReviewAction.REOPEN
        else f"状态为“{status or '未提交'}”"
    )
    raise ValidationError(FieldError("status", "审阅状态", f"{label}{reason}，不能{action.value}"))


# --- what a user may do with a reviewed item ---------------------------------------------------------------
# The one rule for the services that refuse and the 审阅 pane that enables its buttons (Stoq's ``can_*``).
# ``mine``: the acting user made the item; ``refusal``: why his level may not sign it (核决权限 of a complaint
# file, :func:`huifang_desktop.domain.complaint_rules.sign_refusal`), "" when it may.


def self_review_barred(*, mine: bool, allow_self_sign: bool) -> bool:
    """A signer does not sign or return his own item unless the office allows it (``allow_self_sign``)."""
    return mine and not allow_self_sign


def can_return(role: Role, status: str, *, mine: bool, allow_self_sign: bool) -> bool:
    """Return (退回) a pending item: a signer, and not his own unless the office lets people sign their own."""
    return (
        status == ReviewStatus.PENDING.value
        and can(role, Permission.SIGN_OFF)
        and not self_review_barred(mine=mine, allow_self_sign=allow_self_sign)
    )


def can_sign(
    role: Role, status: str, *, mine: bool, allow_self_sign: bool, refusal: str = "", own_top: bool = False
) -> bool:
    """Sign (签字) a pending item: whoever may return it, when his level reaches the item's (``refusal`` "").
    ``own_top``: his own complaint file whose 核决权限 is the top of the ladder, where he stands
    (:func:`huifang_desktop.domain.complaint_rules.own_file_signable`): nobody above him can sign it, so he may
    (he still may not return it to himself)."""
    return (
        can_return(role, status, mine=mine and not own_top, allow_self_sign=allow_self_sign) and not refusal
    )


def can_reopen(role: Role, status: str) -> bool:
    """Withdraw a signature (撤回签字): a signed item, by who may reopen (a supervisor or manager)."""
    return status == ReviewStatus.SIGNED.value and can(role, Permission.REOPEN)


def can_resubmit(role: Role, status: str, *, mine: bool) -> bool:
    """Send a returned item back to review: its maker, or a signer on his behalf."""
    return status == ReviewStatus.RETURNED.value and (mine or can(role, Permission.SIGN_OFF))


def can_edit_returned(role: Role, kind: ReviewKind, status: str, *, mine: bool) -> bool:
    """Correct a returned item: its maker; a signer too, except a 回访报告表 (the clerk's own account)."""
    return status == ReviewStatus.RETURNED.value and (
        mine or (can(role, Permission.SIGN_OFF) and kind is not ReviewKind.REPORT)
    )


def review_actions(
    role: Role,
    kind: ReviewKind,
    status: str,
    *,
    mine: bool,
    allow_self_sign: bool,
    refusal: str = "",
    own_top: bool = False,
) -> frozenset[str]:
    """What the acting user may do with the item now: "sign", "return", "reopen", "resubmit", "edit"."""
    allowed = {
        "sign": can_sign(
            role, status, mine=mine, allow_self_sign=allow_self_sign, refusal=refusal, own_top=own_top
        ),
        "return": can_return(role, status, mine=mine, allow_self_sign=allow_self_sign),
        "reopen": can_reopen(role, status),
        "resubmit": can_resubmit(role, status, mine=mine),
        "edit": can_edit_returned(role, kind, status, mine=mine),
    }
    return frozenset(name for name, ok in allowed.items() if ok)


def require_reason(text: str | None, label: str, field: str = "reason", max_len: int = 2000) -> str:
    """A reason that must be written (退回, 撤回签字): trimmed, not empty, at most ``max_len`` characters."""
    clean = (text or "").replace("\u3000", " ").strip()
    if not clean:
        raise ValidationError(FieldError(field, label, f"请填写{label}"))
    return optional_text(clean, label=label, field=field, max_len=max_len)


# --- when a review is due ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """Office settings of the review (key ``review_rules``); every number is a default.

    A 回访记录表 is due for review ``record_workdays`` working days after the visit; a 回访报告表 on its
    ``due_on`` (the working day after the visits) plus ``report_workdays``; a closed complaint's 投诉处理表
    ``complaint_workdays`` after closing. ``allow_self_sign``: whether a supervisor may sign what they did
    themselves (default no: someone else signs). ``signed_days``: how far back the tab lists signed items.
    """

    record_workdays: int = 2
    report_workdays: int = 0
    complaint_workdays: int = 2
    allow_self_sign: bool = False
    signed_days: int = 30

    def __post_init__(self) -> None:
        errors = []
        for name, label in (
            ("record_workdays", "回访记录审阅期限"),
            ("report_workdays", "回访报告审阅期限"),
            ("complaint_workdays", "投诉处理表审阅期限"),
            ("signed_days", "已签字显示天数"),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append(FieldError(name, label, "应为不小于 0 的整数"))
        if not isinstance(self.allow_self_sign, bool):
            errors.append(FieldError("allow_self_sign", "允许本人签字", "应为是或否"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewRules:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def workdays(self, kind: ReviewKind) -> int:
        return {
            ReviewKind.RECORD: self.record_workdays,
            ReviewKind.REPORT: self.report_workdays,
            ReviewKind.COMPLAINT: self.complaint_workdays,
        }[kind]


def review_due(kind: ReviewKind, day: date, rules: ReviewRules, cal: WorkCalendar) -> date:
    """The day the review is due. ``day``: the visit day (record), the report's ``due_on`` (report), the
    closing day (complaint)."""
    return cal.add_workdays(day, rules.workdays(kind))


def is_review_overdue(due: date, today: date) -> bool:
    """Overdue from the day after the due day."""
    return today > due


def due_function(kind: ReviewKind, rules: ReviewRules, cal: WorkCalendar) -> Callable[[date], date]:
    """:func:`review_due` for one kind, cached per day (the queue asks for thousands of items)."""
    cache: dict[date, date] = {}

    def due(day: date) -> date:
        hit = cache.get(day)
        if hit is None:
            hit = cache[day] = review_due(kind, day, rules, cal)
        return hit

    return due


__all__ = [
    "COMPLAINT_FIELDS",
    "EXCLUDED_FIELDS",
    "HASH_FIELDS",
    "RECORD_FIELDS",
    "REPORT_FIELDS",
    "Integrity",
    "LegacyCheck",
    "ReviewAction",
    "ReviewKind",
    "ReviewRules",
    "ReviewStatus",
    "SignOff",
    "SignatureCheck",
    "StoredSignature",
    "canonical_json",
    "check_integrity",
    "content_hash",
    "due_function",
    "hashed_values",
    "is_review_overdue",
    "next_status",
    "require_reason",
    "review_due",
    "sign_message",
    "signature_hash",
]
