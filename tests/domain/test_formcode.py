"""The QR text of printed forms (domain/formcode.py)."""

from __future__ import annotations

import pytest

from huifang_desktop.domain import formcode


def test_formcode_round_trips_a_number_and_verifies_its_check() -> None:
    code = formcode.encode("HF20240605-002")
    number, check = code.split("*")
    assert number == "HF20240605-002" and len(check) == 3
    assert formcode.parse(code) == "HF20240605-002"
    assert formcode.verify(code) and formcode.parse(code.lower().replace("hf", "HF")) == "HF20240605-002"


def test_formcode_refuses_a_misread_number_or_check() -> None:
    code = formcode.encode("TS20261124-001")
    assert formcode.parse(code.replace("001", "007")) is None
    bad = code[:-1] + ("2" if code[-1] != "2" else "3")
    assert formcode.parse(bad) is None
    assert formcode.parse("TS20261124-001") is None and formcode.parse("") is None
    with pytest.raises(ValueError):
        formcode.encode("")


def test_formcode_empty_forms_carry_their_kind_only() -> None:
    code = formcode.encode_kind("complaint")
    assert formcode.parse_kind(code) == "complaint" and formcode.parse(code) is None
    assert formcode.parse_kind(formcode.encode("HF1")) is None
