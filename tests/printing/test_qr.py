"""The QR code in the header of every printed form: rasterised at 150 dpi and read back with zxing-cpp."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from huifang_desktop.domain import formcode
from huifang_desktop.printing import SignatureInfo, layout_form, load_template, render_form

zxingcpp = pytest.importorskip("zxingcpp")
NOW = datetime(2026, 11, 24, 10, 0)


def qr_codes(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[str]:
    """The QR texts zxing-cpp finds on page 1 rasterised at ``dpi`` (poppler's pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    src = tmp_path / "form.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(src),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("name", ["visit_record", "visit_report", "complaint"])
def test_qr_of_a_filled_form_carries_its_number_and_a_check(name: str, tmp_path: Path) -> None:
    template = load_template(name)
    buffer = io.BytesIO()
    signed = SignatureInfo("李主管", NOW, "审阅")
    render_form(template, {"number": "HF20240605-002"}, buffer, printed_at=NOW, signed=signed)
    (code,) = qr_codes(buffer.getvalue(), tmp_path)
    assert formcode.parse(code) == "HF20240605-002"


def test_qr_sits_top_right_clear_of_the_header_texts() -> None:
    template = load_template("visit_record")
    layout = layout_form(template, {"number": "HF20240605-002"}, signed=SignatureInfo("李主管", NOW))
    box = layout.qr_box
    assert box is not None and 16 * 72 / 25.4 <= box.w <= 20 * 72 / 25.4
    assert box.x + box.w > 500 and box.y > 760  # top right of the A4 page
    assert layout.number_box.y + layout.number_box.h < box.y  # above the 编号 / 表单编号 line


def test_qr_of_an_empty_form_carries_the_form_kind(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    render_form(load_template("complaint"), None, buffer, printed_at=NOW)
    (code,) = qr_codes(buffer.getvalue(), tmp_path)
    assert formcode.parse_kind(code) == "complaint"
