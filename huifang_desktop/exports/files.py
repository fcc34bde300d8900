"""Writing an export file so that a failure never leaves a half-written one in the user's folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def through_part_file(out: Path) -> Iterator[Path]:
    """Write ``out`` as ``out.part``: the part file is created at once (a folder that cannot be written
    fails before any work), moved onto ``out`` when the block ends, and removed when the block raises (a
    write error, a full disk, a cancelled export): ``out`` is either the whole new file or untouched."""
    part = out.with_name(out.name + ".part")
    part.open("wb").close()
    try:
        yield part
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def discard_sheet(ws: Any) -> None:
    """Close an openpyxl write-only sheet abandoned half-way (a cancel or an error) and remove its
    temporary file; left alone, its row writer complains when it is collected later."""
    try:
        ws.close()
    except Exception:  # noqa: BLE001, S110 - already failing; the original error is what matters
        pass
    writer = getattr(ws, "_writer", None)
    if writer is not None:
        try:
            writer.cleanup()
        except OSError:
            pass


__all__ = ["discard_sheet", "through_part_file"]
