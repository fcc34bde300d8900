"""Print preview of a PDF made by the printing services: pages on screen, 打印…, 另存为 PDF….

The pages are shown by QtPdf (``QPdfDocument`` reads the bytes from a ``QBuffer``, ``QPdfView`` shows them
one below the other), which ships with PySide6-Addons, a dependency anyway for QtCharts. Printing goes
through ``QPrinter``: each page is rendered by QtPdf at the printer's resolution (at most
:data:`PRINT_DPI_MAX`) and drawn onto the printer with ``QPainter``. A file QtPdf cannot read leaves the
dialog usable: 另存为 PDF keeps the exact bytes for another program.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QEvent,
    QIODevice,
    QObject,
    QPointF,
    QRectF,
    QSize,
    QSizeF,
    Qt,
)
from PySide6.QtGui import QAction, QColor, QImage, QKeyEvent, QKeySequence, QPageLayout, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import printing as printing_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.export_target import last_folder, remember_folder, say_exported

OutputCallback = Callable[[str, str], None]  # (打印机 | PDF 文件, printer name or path)

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 4.0
PRINT_PROGRESS_FROM = 10  # pages: a longer print shows a progress dialog with 取消
PRINT_DPI_MAX = 300  # pages are rendered as images: an A4 page at 300 dpi is 35 MB, at 1200 dpi 560 MB

_LOAD_ERRORS = {
    QPdfDocument.Error.InvalidFileFormat: "不是有效的 PDF 文件或文件已损坏",
    QPdfDocument.Error.IncorrectPassword: "PDF 文件有密码保护",
    QPdfDocument.Error.UnsupportedSecurityScheme: "PDF 文件的加密方式不受支持",
    QPdfDocument.Error.DataNotYetAvailable: "PDF 文件不完整",
    QPdfDocument.Error.FileNotFound: "找不到 PDF 文件",
}


class PdfError(Exception):
    """A PDF QtPdf cannot read (damaged, encrypted, not a PDF); the message is for the user."""


def load_pdf(data: bytes, parent: QObject) -> QPdfDocument:
    """A ``QPdfDocument`` of ``data`` (read from a ``QBuffer`` owned by the document), or :class:`PdfError`
    with a Chinese message. The document and its buffer belong to ``parent``."""
    document = QPdfDocument(parent)
    buffer = QBuffer(document)  # QtPdf reads from the device as pages are needed: it lives with the document
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)  # a QBuffer is random-access and complete: QtPdf loads it at once
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        reason = _LOAD_ERRORS.get(document.error(), "PDF 文件没有可显示的页面")
        document.close()
        document.deleteLater()
        raise PdfError(reason)
    return document


def render_page(document: QPdfDocument, index: int, size: QSize) -> QImage:
    """Page ``index`` rendered to ``size`` pixels on white (QtPdf leaves the background transparent)."""
    page = document.render(index, size)
    image = QImage(size, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.drawImage(0, 0, page)
    finally:
        painter.end()
    return image


class PrintPreviewDialog(QDialog):
    """Preview a PDF with 打印… (system printer), 另存为 PDF… and 关闭.

    Opened with ``open()`` / ``show()``; nothing here runs a modal loop of its own: the print and file
    dialogs are opened the same way and call :meth:`print_to` / :meth:`save_to`, which tests call directly.
    ``on_output(output, target)`` is told of each print (打印机, printer name) and save (PDF 文件, path): the
    caller logs it (:func:`huifang_desktop.services.printing.log_output`).
    """

    def __init__(
        self,
        pdf_bytes: bytes,
        title: str,
        suggested_name: str,
        parent: QWidget | None = None,
        *,
        on_output: OutputCallback | None = None,
        save_dir: Path | None = None,
        may_output: bool = True,
    ) -> None:
        super().__init__(parent)
        self.may_output = may_output  # False: a 绝密 document the user may only look at
        self.pdf = pdf_bytes
        self.title = title
        self.suggested_name = suggested_name
        self.on_output = on_output
        self.save_dir = save_dir or last_folder()
        self.print_dialog: QPrintDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.printer: QPrinter | None = None
        self.setWindowTitle(self.tr("打印预览 — {0}").format(title))
        self._fit_size()
        self._build_ui()
        self._load(pdf_bytes)
        self._connect()
        self._add_shortcuts()
        if not may_output:
            refused = self.tr("绝密资料：打印和另存为 PDF 需要主管或经理")
            for b in (self.print_button, self.save_button):
                b.setEnabled(False)
                b.setToolTip(refused)
        self._show_page()
        if not self.message.text():
            self.message.hide()
        self._show_zoom()

    def _fit_size(self) -> None:
        room = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = 980, 860
        if room is not None:  # a small laptop screen: the dialog stays on it
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(width, height)

    # -- layout: the widgets, named and placed ------------------------------------------------------

    def _build_ui(self) -> None:
        """The button bar, the message line and the page view; nothing connected, no document yet."""
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.print_button = QPushButton(self.tr("打印(&P)…"))
        self.print_button.setToolTip(self.tr("用系统打印机打印（Ctrl+P）"))
        self.save_button = QPushButton(self.tr("另存为 PDF(&S)…"))
        self.save_button.setToolTip(self.tr("保存为 PDF 文件（Ctrl+S）"))
        self.zoom_out_button = QPushButton("−")
        self.zoom_out_button.setToolTip(self.tr("缩小（-）"))
        self.zoom_in_button = QPushButton("+")
        self.zoom_in_button.setToolTip(self.tr("放大（+）"))
        for b in (self.zoom_out_button, self.zoom_in_button):
            b.setFixedWidth(36)
        self.fit_button = QPushButton(self.tr("适合宽度(&W)"))
        self.fit_button.setToolTip(self.tr("页面宽度适合窗口"))
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages_label = QLabel()
        self.close_button = QPushButton(self.tr("关闭"))
        for b in (
            self.print_button,
            self.save_button,
            self.zoom_in_button,
            self.zoom_out_button,
            self.fit_button,
            self.close_button,
        ):
            b.setAutoDefault(False)  # Enter does not print, save or zoom by surprise

        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setStyleSheet("QPdfView { background: #8c8c8c; }")

        bar = QHBoxLayout()
        bar.addWidget(self.print_button)
        bar.addWidget(self.save_button)
        bar.addSpacing(16)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.zoom_in_button)
        bar.addWidget(self.fit_button)
        bar.addSpacing(16)
        bar.addWidget(self.pages_label)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)

    # -- behaviour ---------------------------------------------------------------------------------

    def _load(self, pdf_bytes: bytes) -> None:
        """The document into the view; a PDF QtPdf cannot read leaves 打印 and the zoom off, and says why."""
        try:
            self.document: QPdfDocument | None = load_pdf(pdf_bytes, self)
        except PdfError as exc:
            self.document = None
            self._say(
                self.tr("无法显示预览（{0}），仍可另存为 PDF 后用其他程序查看或打印。").format(exc),
                error=True,
            )
        if self.document is not None:
            self.view.setDocument(self.document)
            self.view.pageNavigator().currentPageChanged.connect(self._show_page)
        else:
            for b in (self.print_button, self.zoom_in_button, self.zoom_out_button, self.fit_button):
                b.setEnabled(False)

    def _connect(self) -> None:
        self.view.viewport().installEventFilter(self)
        self.view.installEventFilter(self)
        self.view.zoomFactorChanged.connect(self._show_zoom)
        self.view.zoomModeChanged.connect(self._show_zoom)
        self.print_button.clicked.connect(self.ask_print)
        self.save_button.clicked.connect(self.ask_save)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.fit_button.clicked.connect(self.fit_width)
        self.close_button.clicked.connect(self.reject)

    def _add_shortcuts(self) -> None:
        """Window-wide keys: 打印, 另存为, zoom (with and without Ctrl), 适合宽度 and the page keys."""
        for keys, slot in (
            ((QKeySequence.StandardKey.Print, "Ctrl+P"), self.ask_print),
            ((QKeySequence.StandardKey.Save, "Ctrl+S"), self.ask_save),
            ((QKeySequence.StandardKey.ZoomIn, "Ctrl++", "Ctrl+=", "+", "="), self.zoom_in),
            ((QKeySequence.StandardKey.ZoomOut, "Ctrl+-", "-"), self.zoom_out),
            (("Ctrl+0",), self.fit_width),
            (("PgUp",), self.previous_page),
            (("PgDown",), self.next_page),
        ):
            action = QAction(self)
            sequences: list[QKeySequence] = []
            for k in keys:
                for seq in (
                    QKeySequence.keyBindings(k)
                    if isinstance(k, QKeySequence.StandardKey)
                    else [QKeySequence(k)]
                ):
                    if not seq.isEmpty() and seq not in sequences:
                        sequences.append(seq)
            action.setShortcuts(sequences)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    # -- info --------------------------------------------------------------------------------------

    def page_count(self) -> int:
        return self.document.pageCount() if self.document is not None else 0

    def current_page(self) -> int:
        """The page at the top of the view (0-based)."""
        return self.view.pageNavigator().currentPage() if self.document is not None else 0

    @property
    def zoom(self) -> float:
        """1.0 = actual size on this screen; in 适合宽度 the factor the view fits the widest page with."""
        if self.view.zoomMode() == QPdfView.ZoomMode.Custom or self.document is None:
            return self.view.zoomFactor()
        margins = self.view.documentMargins()
        room = self.view.viewport().width() - margins.left() - margins.right()
        widest = max(self.document.pagePointSize(i).width() for i in range(min(self.page_count(), 50)))
        return max(room, 1) / (widest * self.view.logicalDpiX() / 72.0)

    def _show_zoom(self) -> None:
        self.zoom_label.setText(f"{self.zoom * 100:.0f}%")

    def _show_page(self) -> None:
        if self.document is None:
            self.pages_label.setText("")
            return
        self.pages_label.setText(
            self.tr("第 {0} 页，共 {1} 页").format(self.current_page() + 1, self.page_count())
        )

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #d9363e;" if error else "color: #389e0d;")
        self.message.setText(text)
        self.message.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._show_zoom()  # 适合宽度 follows the width of the view
        elif (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
            and event.key() in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
        ):
            # the view would scroll by a screenful; PgUp/PgDn turn whole pages as in the rest of the dialog
            self.previous_page() if event.key() == Qt.Key.Key_PageUp else self.next_page()
            return True
        return super().eventFilter(watched, event)

    # -- zoom and pages ----------------------------------------------------------------------------

    def set_zoom(self, zoom: float) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(min(max(zoom, ZOOM_MIN), ZOOM_MAX))
        self._show_zoom()

    def zoom_in(self) -> None:
        if self.document is not None:
            self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        if self.document is not None:
            self.set_zoom(self.zoom / ZOOM_STEP)

    def fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._show_zoom()

    def go_to_page(self, index: int) -> None:
        if self.document is None:
            return
        navigator = self.view.pageNavigator()
        navigator.jump(min(max(index, 0), self.page_count() - 1), QPointF(), navigator.currentZoom())

    def next_page(self) -> None:
        self.go_to_page(self.current_page() + 1)

    def previous_page(self) -> None:
        self.go_to_page(self.current_page() - 1)

    # -- saving ------------------------------------------------------------------------------------

    def ask_save(self) -> None:
        """Open the file dialog (not modal-blocking); choosing a file calls :meth:`save_to`."""
        if not self.may_output:
            return
        dialog = QFileDialog(
            self, self.tr("另存为 PDF"), str(self.save_dir / self.suggested_name), self.tr("PDF 文件 (*.pdf)")
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(self.save_to)
        self.file_dialog = dialog
        QDialog.open(dialog)

    def save_to(self, path: str | Path) -> bool:
        """Write the PDF to ``path``; a refusal (disk full, no permission …) is shown in the dialog."""
        if not self.may_output:
            return False
        target = Path(path)
        try:
            printing_service.write_pdf(target, self.pdf)
        except ServiceError as exc:
            self._say(str(exc), error=True)
            return False
        self.save_dir = target.parent
        remember_folder(target)
        self._say(self.tr("已保存到 {0}").format(target))
        say_exported(self.message, self.tr("已保存到 {0}").format(target), target)
        self._tell(printing_service.OUTPUT_FILE, str(target))
        return True

    def _tell(self, output: str, target: str) -> None:
        if self.on_output is None:
            return
        try:
            self.on_output(output, target)
        except Exception as exc:  # noqa: BLE001  (the output happened; say that the log did not take it)
            self._say(self.tr("{0}，但未能记入操作日志：{1}").format(self.message.text(), exc), error=True)

    # -- printing ----------------------------------------------------------------------------------

    def ask_print(self) -> None:
        """Open the system print dialog (not modal-blocking); accepting it prints with :meth:`print_to`."""
        if self.document is None or not self.may_output:
            return
        printer = self.printer or QPrinter(QPrinter.PrinterMode.HighResolution)
        self.printer = printer
        printer.setDocName(self.title)
        size = self.document.pagePointSize(0)
        orientation = QPageLayout.Orientation
        printer.setPageOrientation(
            orientation.Landscape if size.width() > size.height() else orientation.Portrait
        )
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("打印 — {0}").format(self.title))
        dialog.setMinMax(1, self.page_count())
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintCurrentPage, True)
        dialog.accepted.connect(lambda: self.print_to(printer))
        self.print_dialog = dialog
        QDialog.open(dialog)  # QPrintDialog's own open() wants a receiver

    def _page_numbers(self, printer: QPrinter) -> list[int]:
        """The pages (0-based) to print, in order, with the copies the printer does not make itself."""
        n = self.page_count()
        if printer.printRange() == QPrinter.PrintRange.CurrentPage:
            pages = [self.current_page()]
        elif printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            first = max(printer.fromPage(), 1)
            last = min(printer.toPage() or n, n)
            pages = list(range(first - 1, last))
        else:
            pages = list(range(n))
        copies = 1 if printer.supportsMultipleCopies() else max(printer.copyCount(), 1)
        if copies == 1 or not pages:
            return pages
        if printer.collateCopies():
            return pages * copies
        return [page for page in pages for _ in range(copies)]

    def print_to(self, printer: QPrinter) -> bool:
        """Render the pages onto ``printer`` at its resolution, one PDF page per sheet, actual size when the
        paper fits (else scaled down), turned when the paper's orientation differs."""
        if self.document is None or not self.may_output:
            return False
        pages = self._page_numbers(printer)
        if not pages:
            return False
        printer.setDocName(self.title)
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            name = printer.printerName() or printer.outputFileName()
            self._say(
                self.tr("无法开始打印：打印机“{0}”不可用。请检查打印机是否已连接、已开机并有纸。").format(
                    name
                ),
                error=True,
            )
            return False
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        progress: QProgressDialog | None = None
        if len(pages) >= PRINT_PROGRESS_FROM:
            progress = QProgressDialog(self.tr("正在打印…"), self.tr("取消"), 0, len(pages), self)
            progress.setWindowTitle(self.tr("打印"))
            progress.setWindowModality(Qt.WindowModality.WindowModal)  # setValue lets 取消 be clicked
            progress.setMinimumDuration(0)
        aborted = False
        try:
            for n, index in enumerate(pages):
                if n:
                    printer.newPage()
                self._draw_page(painter, printer, index)
                if progress is not None:
                    progress.setValue(n + 1)
                    progress.setLabelText(self.tr("正在打印第 {0} 页，共 {1} 页…").format(n + 1, len(pages)))
                    if progress.wasCanceled():
                        printer.abort()
                        aborted = True
                        break
        finally:
            painter.end()
            if progress is not None:
                progress.reset()
                progress.hide()
                progress.deleteLater()
        if aborted:
            self._say(self.tr("已取消打印。"), error=True)
            return False
        target = (
            printer.outputFileName()
            if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
            else printer.printerName()
        )
        self._say(self.tr("已发送 {0} 页到 {1}").format(len(pages), target or self.tr("打印机")))
        self._tell(printing_service.OUTPUT_PRINTER, target)
        return True

    def _draw_page(self, painter: QPainter, printer: QPrinter, index: int) -> None:
        assert self.document is not None
        dpi = printer.resolution()
        paper = printer.pageLayout().fullRectPixels(dpi)
        w, h = self._fit(self.document.pagePointSize(index), paper.width(), paper.height(), dpi)
        rotate = (w > h) != (paper.width() > paper.height())
        ratio = min(1.0, PRINT_DPI_MAX / dpi)
        image = render_page(self.document, index, QSize(max(round(w * ratio), 1), max(round(h * ratio), 1)))
        painter.save()
        try:
            painter.translate(paper.width() / 2, paper.height() / 2)
            if rotate:
                painter.rotate(90)
            painter.drawImage(QRectF(-w / 2, -h / 2, w, h), image)
        finally:
            painter.restore()

    @staticmethod
    def _fit(points: QSizeF, paper_w: float, paper_h: float, dpi: int) -> tuple[float, float]:
        """The page's size in printer pixels (unturned): actual size, or scaled down to fit the paper
        (turned when the orientations differ)."""
        w, h = points.width() * dpi / 72.0, points.height() * dpi / 72.0
        across, down = (h, w) if (w > h) != (paper_w > paper_h) else (w, h)
        scale = min(1.0, paper_w / across, paper_h / down)
        return w * scale, h * scale


def add_print_button(
    dialog: QDialog, buttons: QDialogButtonBox, tooltip: str, preview: Callable[[], object]
) -> QPushButton:
    """打印预览(&P)… in a form dialog's button box, and Ctrl+P for it anywhere in the dialog."""
    button = buttons.addButton(
        QCoreApplication.translate("PrintPreviewDialog", "打印预览(&P)…"),
        QDialogButtonBox.ButtonRole.ActionRole,
    )
    button.setToolTip(tooltip)
    button.clicked.connect(preview)
    shortcut = QAction(dialog)
    shortcut.setShortcut(QKeySequence("Ctrl+P"))
    shortcut.triggered.connect(preview)
    dialog.addAction(shortcut)
    return button


def preview_document(
    parent: QWidget, ctx: ServiceContext, doc: printing_service.PrintedDocument
) -> PrintPreviewDialog:
    """Open the preview of a document made by the printing services; prints and saves are logged."""

    def logged(output: str, target: str) -> None:
        printing_service.log_output(ctx, doc, output, target)

    dialog = PrintPreviewDialog(
        doc.pdf,
        doc.title,
        doc.file_name,
        parent,
        on_output=logged,
        may_output=printing_service.may_output(ctx, doc),
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


__all__ = [
    "PdfError",
    "PrintPreviewDialog",
    "add_print_button",
    "load_pdf",
    "preview_document",
    "render_page",
]
