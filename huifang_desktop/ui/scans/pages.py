"""Scanned files as page images: PNG/JPEG files as they are, PDF pages rendered with QtPdf.

Qt is only imported by ui/ and app (the import contract), so the PDF pages are rendered here and handed to
:func:`huifang_desktop.services.scans.import_pages`. QPdfDocument renders into a QImage without any
application object or window system, so the command line uses this as it is (and an in-process caller is
not left with a QCoreApplication where a QApplication is wanted later).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtPdf import QPdfDocument

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services.scans import PDF_SUFFIX, ScanPageImage, read_image_file, scan_candidates

RENDER_DPI = 150  # enough for the 16–20 mm QR code (3–4 pixels a module) and a readable signature
MAX_PDF_BYTES = 200 * 1024 * 1024
_LOAD_ERRORS = {
    QPdfDocument.Error.FileNotFound: "文件不存在",
    QPdfDocument.Error.InvalidFileFormat: "不是有效的 PDF 文件",
    QPdfDocument.Error.IncorrectPassword: "PDF 文件有密码保护",
    QPdfDocument.Error.UnsupportedSecurityScheme: "PDF 文件的加密方式不受支持",
}


def pdf_pages(path: Path, dpi: int = RENDER_DPI) -> list[ScanPageImage]:
    """Every page of a PDF rendered at ``dpi`` as a PNG (white background)."""
    try:
        if path.stat().st_size > MAX_PDF_BYTES:
            raise ValidationError(
                FieldError("file", "扫描件", f"“{path.name}”超过 {MAX_PDF_BYTES // 1048576} MB")
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(
            FieldError("file", "扫描件", f"无法读取“{path.name}”：{exc.strerror or exc}")
        ) from exc
    document = QPdfDocument()
    try:
        buffer = QBuffer(document)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        document.load(buffer)
        if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
            reason = _LOAD_ERRORS.get(document.error(), "PDF 文件没有页面")
            raise ValidationError(FieldError("file", "扫描件", f"“{path.name}”无法读取：{reason}"))
        out = []
        for index in range(document.pageCount()):
            points = document.pagePointSize(index)
            size = QSize(max(1, round(points.width() * dpi / 72)), max(1, round(points.height() * dpi / 72)))
            image = document.render(index, size)
            if image.isNull():
                raise ValidationError(FieldError("file", "扫描件", f"“{path.name}”第 {index + 1} 页无法显示"))
            png = QByteArray()
            target = QBuffer(png)
            target.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(target, "PNG")  # type: ignore[call-overload]  # PySide6 takes the format as str
            target.close()
            out.append(
                ScanPageImage(path.name, index + 1, bytes(png.data()), f"{path.stem}-第{index + 1}页.png")
            )
        return out
    finally:
        document.close()  # the document has no parent: Python owns it and frees it


def file_pages(paths: Iterable[Path | str]) -> list[ScanPageImage]:
    """The pages of the chosen files and folders (PDF pages rendered, PNG/JPEG files as they are)."""
    pages: list[ScanPageImage] = []
    for p in scan_candidates(paths):
        if p.suffix.lower() == PDF_SUFFIX:
            pages.extend(pdf_pages(p))
        else:
            pages.append(read_image_file(p))
    if not pages:
        raise ValidationError(FieldError("file", "扫描件", "所选位置没有 PDF、PNG 或 JPEG 文件"))
    return pages
