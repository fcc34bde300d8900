"""Sign-off rules: canonical content hash, signature hash, tamper check, review due days, status changes."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.signoff import (
    EXCLUDED_FIELDS,
    HASH_FIELDS,
    Integrity,
    ReviewAction,
    ReviewKind,
    ReviewRules,
    ReviewStatus,
    SignOff,
    StoredSignature,
    canonical_json,
    check_integrity,
    content_hash,
    due_function,
    is_review_overdue,
    next_status,
    require_reason,
    review_due,
    signature_hash,
)
from huifang_desktop.domain.workcal import WorkCalendar


def _record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "number": "HF20261124-001",
        "plan_id": 7,
        "customer_id": 3,
        "contact_name": "张倩",
        "contact_phone": "15199743456",
        "visit_type": "例行",
        "method": "电话",
        "visited_at": datetime(2026, 11, 24, 9, 30),
        "visitor_id": 2,
        "content": "了解使用情况",
        "feedback": "满意",
        "problems": "",
        "measures": "",
        "satisfaction": "满意",
        "handling": "",
        "transfer_department": "",
        "transfer_due": None,
        "transfer_done_at": None,
        "transfer_answer": "",
        "next_visit_on": date(2026, 12, 24),
        "result": "成功",
        "customer_signed": False,
        "created_at": datetime(2026, 11, 24, 9, 40),
        # not hashed:
        "status": "待审阅",
        "version": 3,
        "revision": 0,
        "supervisor_comment": "",
        "content_hash": "",
    }
    base.update(changes)
    return base


SIGN_OFF = SignOff(
    signer_id=5,
    signer_role="supervisor",
    signed_at=datetime(2026, 11, 24, 10, 0),
    comment="记录完整",
    revision=0,
)


def _signed(values: dict[str, Any], sign_off: SignOff = SIGN_OFF) -> StoredSignature:
    h = content_hash(ReviewKind.RECORD, values)
    return StoredSignature(ReviewStatus.SIGNED.value, h, signature_hash(h, sign_off), sign_off)


# --- the canonical form and the content hash -----------------------------------------------------------


def test_canonical_json_is_sorted_compact_and_keeps_chinese() -> None:
    text = canonical_json(
        {
            "b": "满意",
            "a": datetime(2026, 11, 24, 9, 30),
            "c": date(2026, 1, 2),
            "d": Decimal("12.50"),
            "e": (1, 2),
            "f": None,
            "g": True,
        }
    )
    assert text == (
        '{"a":"2026-11-24 09:30:00","b":"满意","c":"2026-01-02","d":"12.5","e":[1,2],"f":null,"g":true}'
    )


def test_canonical_json_refuses_values_it_cannot_represent_stably() -> None:
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_content_hash_is_a_stable_sha256_independent_of_key_order() -> None:
    values = _record()
    shuffled = dict(reversed(list(values.items())))
    h = content_hash(ReviewKind.RECORD, values)
    assert len(h) == 64 and int(h, 16) >= 0
    assert content_hash(ReviewKind.RECORD, shuffled) == h


@pytest.mark.parametrize(
    "field", ["feedback", "satisfaction", "visited_at", "customer_signed", "transfer_answer"]
)
def test_content_hash_changes_with_every_business_field(field: str) -> None:
    changed = {
        "feedback": "不满意",
        "satisfaction": "很满意",
        "visited_at": datetime(2026, 11, 24, 9, 31),
        "customer_signed": True,
        "transfer_answer": "已处理",
    }[field]
    base = content_hash(ReviewKind.RECORD, _record())
    assert content_hash(ReviewKind.RECORD, _record(**{field: changed})) != base


@pytest.mark.parametrize("field", ["status", "version", "revision", "supervisor_comment", "content_hash"])
def test_content_hash_ignores_status_version_and_sign_off_columns(field: str) -> None:
    changed = {
        "status": "已签字",
        "version": 9,
        "revision": 2,
        "supervisor_comment": "同意",
        "content_hash": "x" * 64,
    }[field]
    base = content_hash(ReviewKind.RECORD, _record())
    assert content_hash(ReviewKind.RECORD, _record(**{field: changed})) == base


def test_hash_fields_never_include_excluded_columns() -> None:
    for kind, names in HASH_FIELDS.items():
        assert not set(names) & EXCLUDED_FIELDS, kind
        assert len(names) == len(set(names))


def test_content_hash_differs_between_kinds_with_the_same_values() -> None:
    report = {name: "" for name in HASH_FIELDS[ReviewKind.REPORT]}
    both = {**report, **{name: "" for name in HASH_FIELDS[ReviewKind.RECORD]}}
    assert content_hash(ReviewKind.REPORT, both) != content_hash(ReviewKind.RECORD, both)


def test_content_hash_needs_every_field_of_its_kind() -> None:
    values = _record()
    del values["feedback"]
    with pytest.raises(KeyError, match="feedback"):
        content_hash(ReviewKind.RECORD, values)


def test_complaint_hash_covers_its_attachments() -> None:
    values = {name: "" for name in HASH_FIELDS[ReviewKind.COMPLAINT]}
    values["attachments"] = [["a" * 64, "答复函.pdf", "答复函"]]
    other = {**values, "attachments": [["b" * 64, "答复函.pdf", "答复函"]]}
    none = {**values, "attachments": []}
    hashes = {content_hash(ReviewKind.COMPLAINT, v) for v in (values, other, none)}
    assert len(hashes) == 3


def test_signature_hash_covers_signer_role_time_comment_and_revision() -> None:
    h = content_hash(ReviewKind.RECORD, _record())
    base = signature_hash(h, SIGN_OFF)
    for change in (
        {"signer_id": 6},
        {"signer_role": "manager"},
        {"signed_at": datetime(2026, 11, 24, 10, 1)},
        {"comment": "记录完整。"},
        {"revision": 1},
    ):
        assert signature_hash(h, SignOff(**{**_sign_off_dict(), **change})) != base, change
    assert signature_hash("0" * 64, SIGN_OFF) != base


def _sign_off_dict() -> dict[str, Any]:
    return {
        "signer_id": SIGN_OFF.signer_id,
        "signer_role": SIGN_OFF.signer_role,
        "signed_at": SIGN_OFF.signed_at,
        "comment": SIGN_OFF.comment,
        "revision": SIGN_OFF.revision,
    }


# --- the tamper check -------------------------------------------------------------------------------------


def test_check_integrity_intact_when_nothing_changed() -> None:
    values = _record()
    assert check_integrity(ReviewKind.RECORD, values, _signed(values)) is Integrity.INTACT


def test_check_integrity_flags_a_changed_field_after_signing() -> None:
    stored = _signed(_record())
    assert check_integrity(ReviewKind.RECORD, _record(feedback="很满意"), stored) is Integrity.TAMPERED
    assert Integrity.TAMPERED.value == "签字后被修改"


def test_check_integrity_flags_a_forged_signer() -> None:
    values = _record()
    stored = _signed(values)
    forged = StoredSignature(
        stored.status,
        stored.content_hash,
        stored.signature_hash,
        SignOff(**{**_sign_off_dict(), "signer_id": 99}),
    )
    assert check_integrity(ReviewKind.RECORD, values, forged) is Integrity.TAMPERED


def test_check_integrity_flags_signed_status_without_hashes() -> None:
    stored = StoredSignature(ReviewStatus.SIGNED.value, "", "", SIGN_OFF)
    assert check_integrity(ReviewKind.RECORD, _record(), stored) is Integrity.TAMPERED


def test_check_integrity_flags_a_signature_removed_outside_the_program() -> None:
    values = _record()
    signed = _signed(values)
    unsigned = StoredSignature(
        ReviewStatus.PENDING.value, signed.content_hash, signed.signature_hash, SIGN_OFF
    )
    assert check_integrity(ReviewKind.RECORD, values, unsigned) is Integrity.TAMPERED


def test_check_integrity_of_an_unsigned_item() -> None:
    stored = StoredSignature(ReviewStatus.PENDING.value, "", "", SignOff(None, "", None, "", 0))
    assert check_integrity(ReviewKind.RECORD, _record(), stored) is Integrity.UNSIGNED


# --- statuses and reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        (ReviewAction.SIGN, "待审阅", ReviewStatus.SIGNED),
        (ReviewAction.RETURN, "待审阅", ReviewStatus.RETURNED),
        (ReviewAction.REOPEN, "已签字", ReviewStatus.RETURNED),
        (ReviewAction.RESUBMIT, "退回", ReviewStatus.PENDING),
    ],
)
def test_next_status_allowed_moves(action: ReviewAction, before: str, after: ReviewStatus) -> None:
    assert next_status(action, before) is after


@pytest.mark.parametrize(
    ("action", "before", "words"),
    [
        (ReviewAction.SIGN, "已签字", "已签字"),
        (ReviewAction.SIGN, "退回", "已退回"),
        (ReviewAction.SIGN, "", "尚未办结"),
        (ReviewAction.RETURN, "已签字", "须先撤回签字"),
        (ReviewAction.REOPEN, "待审阅", "未签字"),
        (ReviewAction.RESUBMIT, "待审阅", "已在审阅中"),
    ],
)
def test_next_status_refusals_name_the_state(action: ReviewAction, before: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        next_status(action, before, "回访记录 HF1 ")
    assert err.value.fields == ["status"]
    assert words in str(err.value) and action.value in str(err.value) and "HF1" in str(err.value)


def test_require_reason_trims_and_refuses_blank() -> None:
    assert require_reason("  请补充客户意见\n", "退回原因") == "请补充客户意见"
    with pytest.raises(ValidationError) as err:
        require_reason(" \u3000 ", "退回原因")
    assert err.value.fields == ["reason"] and "请填写退回原因" in str(err.value)
    with pytest.raises(ValidationError):
        require_reason("长" * 2001, "退回原因")


def test_review_kind_parse_accepts_labels_tables_and_keys() -> None:
    assert ReviewKind.parse("visit_record") is ReviewKind.RECORD
    assert ReviewKind.parse("回访报告表") is ReviewKind.REPORT
    assert ReviewKind.parse("complaint") is ReviewKind.COMPLAINT
    assert ReviewKind.parse("report") is ReviewKind.REPORT
    with pytest.raises(ValidationError):
        ReviewKind.parse("customer")


# --- due days -----------------------------------------------------------------------------------------------

CAL = WorkCalendar(
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}), workdays=frozenset({date(2026, 10, 10)})
)


def test_review_due_counts_working_days_per_kind() -> None:
    rules = ReviewRules()
    friday = date(2026, 11, 20)
    assert review_due(ReviewKind.RECORD, friday, rules, CAL) == date(2026, 11, 24)  # 2 working days: Tue
    assert review_due(ReviewKind.REPORT, date(2026, 11, 23), rules, CAL) == date(2026, 11, 23)  # its due_on
    assert review_due(ReviewKind.COMPLAINT, friday, rules, CAL) == date(2026, 11, 24)
    # over the holiday
    assert review_due(ReviewKind.RECORD, date(2026, 9, 30), rules, CAL) == date(2026, 10, 6)


def test_review_due_report_on_a_holiday_moves_to_the_next_working_day() -> None:
    assert review_due(ReviewKind.REPORT, date(2026, 10, 1), ReviewRules(), CAL) == date(2026, 10, 5)


def test_review_due_follows_the_office_setting() -> None:
    rules = ReviewRules(record_workdays=5, report_workdays=1)
    assert review_due(ReviewKind.RECORD, date(2026, 11, 20), rules, CAL) == date(2026, 11, 27)
    assert review_due(ReviewKind.REPORT, date(2026, 11, 23), rules, CAL) == date(2026, 11, 24)


def test_is_review_overdue_from_the_day_after() -> None:
    due = date(2026, 11, 24)
    assert not is_review_overdue(due, date(2026, 11, 24))
    assert is_review_overdue(due, date(2026, 11, 25))


def test_due_function_caches_and_matches_review_due() -> None:
    due = due_function(ReviewKind.RECORD, ReviewRules(), CAL)
    days = [date(2026, 9, 28) + (date(2026, 9, 2) - date(2026, 9, 1)) * i for i in range(20)]
    assert [due(d) for d in days] == [review_due(ReviewKind.RECORD, d, ReviewRules(), CAL) for d in days]


def test_review_rules_round_trip_and_refuse_bad_values() -> None:
    rules = ReviewRules(record_workdays=3, allow_self_sign=True)
    data = json.loads(json.dumps(rules.to_dict()))
    assert ReviewRules.from_dict(data) == rules
    assert ReviewRules.from_dict({"unknown": 1}) == ReviewRules()
    with pytest.raises(ValidationError) as err:
        ReviewRules(record_workdays=-1, signed_days="x")  # type: ignore[arg-type]
    assert set(err.value.fields) == {"record_workdays", "signed_days"}


def test_review_actions_are_the_one_rule_for_service_and_pane() -> None:
    """domain.md §5: a signer signs or returns a pending item (not his own unless allowed; a complaint file only
    at the level its severity asks, 002 制度3 §6); a signed one is reopened by a supervisor; a returned one is
    corrected and resubmitted by its maker (a signer too, except a 回访报告表)."""
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.domain.signoff import ReviewKind, review_actions

    def acts(role: Role, kind: ReviewKind, status: str, mine: bool = False, refusal: str = "") -> set[str]:
        return set(review_actions(role, kind, status, mine=mine, allow_self_sign=False, refusal=refusal))

    record, report, complaint = ReviewKind.RECORD, ReviewKind.REPORT, ReviewKind.COMPLAINT
    assert acts(Role.SUPERVISOR, record, "待审阅") == {"sign", "return"}
    assert acts(Role.SUPERVISOR, record, "待审阅", mine=True) == set()
    assert acts(Role.SUPERVISOR, complaint, "待审阅", refusal="须由经理签字") == {"return"}
    assert acts(Role.CLERK, record, "待审阅") == set()
    assert (
        acts(Role.SUPERVISOR, record, "已签字") == {"reopen"} and acts(Role.CLERK, record, "已签字") == set()
    )
    assert acts(Role.CLERK, report, "退回", mine=True) == {"resubmit", "edit"}
    assert acts(Role.SUPERVISOR, report, "退回") == {"resubmit"}
    assert acts(Role.SUPERVISOR, record, "退回") == {"resubmit", "edit"}
