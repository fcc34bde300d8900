"""What a renderer hands to the drawing step: the page model (strings, boxes, lines, check boxes and stamps
at their places, and the value boxes the tests compare with the PDF) and the records of a print job."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from huifang_desktop.printing.templates import FormTemplate

ProgressFn = Callable[[int, int], bool]
Output = str | Path | IO[bytes]


# Text styles: (grey level, fake bold, red)
PLAIN, BOLD, GREY, RED, RED_BOLD = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """The sign-off of a record: printed in the sign-off box and as a stamp in the header."""

    signer: str
    signed_at: datetime | date
    role: str = "审核"


@dataclass(frozen=True, slots=True)
class FormJob:
    """One record of a batch for :func:`render_forms`. ``values=None`` prints a blank form; ``template``: a
    page of another form in the batch (a cover sheet), else the batch's template."""

    values: Mapping[str, Any] | None
    draft: bool = False
    signed: SignatureInfo | None = None
    revision: int = 0
    tampered: bool = False
    template: FormTemplate | None = None


@dataclass(frozen=True, slots=True)
class TableStyle:
    """Sizes of a landscape ledger table (mm and pt); every number is a setting."""

    margin: float = 12.0
    font_size: float = 8.5
    header_font_size: float = 9.0
    title_size: float = 16.0
    leading: float = 1.3
    padding: float = 1.2
    min_row_height: float = 6.0


class RenderCancelled(Exception):
    """The progress callback returned False; nothing was written."""


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float, tolerance: float = 0.5) -> bool:
        return (
            self.x - tolerance <= x <= self.x + self.w + tolerance
            and self.y - tolerance <= y <= self.y + self.h + tolerance
        )


@dataclass(frozen=True, slots=True)
class FieldBox:
    """Where a field's value went on one page: the value area and the strings printed in it."""

    field: str
    label: str
    rect: Rect
    texts: tuple[str, ...] = ()
    ticked: tuple[str, ...] = ()


@dataclass(slots=True)
class PageLayout:
    """Everything drawn on one body page (header and footer are added per copy when drawing)."""

    fills: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    rules: list[tuple[float, float, float, float]] = field(default_factory=list)
    frames: list[tuple[float, float, float, float]] = field(default_factory=list)
    checks: list[tuple[float, float, float, bool]] = field(default_factory=list)
    stamps: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[tuple[float, float, str, float, int]] = field(default_factory=list)
    fields: list[FieldBox] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, size: float, style: int = PLAIN) -> None:
        if text:
            self.texts.append((x, y, text, size, style))


DONE, PARTIAL, NONE = 0, 1, 2  # what a row's place() managed
