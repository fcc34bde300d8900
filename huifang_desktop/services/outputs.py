"""What every export says about its file and its period: the target checked before any work, a write that
failed (disk full, no permission, the file open in Excel) worded for the user, the period as a title."""

from __future__ import annotations

import errno
from datetime import date
from pathlib import Path

from huifang_desktop.services.errors import ServiceError

_KINDS = {".xlsx": "Excel 文件", ".pdf": "PDF 文件"}


def check_suffix(out: Path, suffix: str, error: type[ServiceError]) -> None:
    """``error`` unless ``out`` ends with ``suffix`` (.xlsx, .pdf; any case): a ledger saved as .txt would
    not open in Excel, and the user would not know why."""
    if out.suffix.lower() != suffix:
        got = f"“{out.suffix}”" if out.suffix else "没有扩展名"
        raise error(
            f"无法写入 {out}：{_KINDS.get(suffix, '文件')}的文件名应以 {suffix} 结尾（{got}）。"
            f"请改为 {out.stem or out.name}{suffix} 这样的文件名。"
        )


def checked_target(out_path: Path | str, error: type[ServiceError], *, suffix: str) -> Path:
    """The output file's path; ``error`` when it does not end with ``suffix``, its folder is missing or the
    path is a folder."""
    out = Path(out_path)
    check_suffix(out, suffix, error)
    try:
        unusable = out.is_dir() or not out.parent.is_dir()
    except OSError as exc:  # a name too long for the file system, a folder we may not look into …
        raise write_failed(out, exc, error) from exc
    if unusable:
        raise error(f"无法写入 {out}：文件夹不存在或该路径是一个文件夹。请选择已存在的文件夹和文件名。")
    return out


def write_failed(out: Path, exc: OSError, error: type[ServiceError]) -> ServiceError:
    """The error to raise when writing ``out`` failed."""
    return error(
        f"无法写入文件 {out}：{os_reason(exc)}。请检查文件夹权限、磁盘空间，以及文件是否正被 Excel 打开。"
    )


_REASONS = {
    errno.ENOSPC: "磁盘空间不足",
    getattr(errno, "EDQUOT", -1): "磁盘空间不足",
    errno.EACCES: "没有写入权限（文件夹只读，或文件正被其他程序打开）",
    errno.EPERM: "没有写入权限（文件夹只读，或文件正被其他程序打开）",
    errno.ENOENT: "文件夹不存在",
    errno.EROFS: "磁盘是只读的",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENAMETOOLONG: "文件名太长",
    errno.ENOTDIR: "路径中有一项不是文件夹",
    errno.EEXIST: "已有同名的文件",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Chinese where the reason is a common one (else the system's words)."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def period_text(start: date | None, end: date | None) -> str:
    """全部, or 2026-11-01 至 2026-11-30 (最早 / 今 for an open end)."""
    if start is None and end is None:
        return "全部"
    return (f"{start:%Y-%m-%d}" if start else "最早") + " 至 " + (f"{end:%Y-%m-%d}" if end else "今")
