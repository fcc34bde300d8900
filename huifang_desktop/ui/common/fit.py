"""Windows that fit the screen: one rule for the main window and every dialog.

Offices run the program on 1366×768 PCs and on 1920×1080 screens at 150 % (1280×720 logical pixels), with
a task bar. Every window opens at its preferred size where that fits, else clamped to the screen's
available area (less the window frame), centred on it; long forms scroll (``scrolling``) with their
buttons outside the scrolled part, so 确定/保存 are always reachable. The main window is maximized on
screens up to :data:`MAXIMIZE_UP_TO` logical pixels wide.

``--screenshot --screen-size WxH`` draws the windows as they would open on another screen: it sets that
screen's available area with :func:`use_screen` (the same rule then applies offscreen).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

MAXIMIZE_UP_TO = 1440  # logical pixels: on screens up to this wide the main window opens maximized
TASK_BAR = 48  # logical pixels a task bar takes from a screen (Windows 11's; Windows 10's is 40)
FRAME = QSize(16, 40)  # a window's frame around its client area: borders and the title bar
TITLE_BAR = 32  # what a maximized window keeps of its frame

_override: QRect | None = None


def use_screen(available: QRect | None) -> None:
    """Make ``available`` (logical pixels) the screen every window is fitted to; None: the real screen."""
    global _override
    _override = QRect(available) if available is not None else None


def screen_area(width: int, height: int, scale: float) -> QRect:
    """The logical area available to windows on a ``width``×``height`` screen at ``scale`` (1.5 = 150 %),
    less the task bar."""
    return QRect(0, 0, int(width / scale), int(height / scale) - TASK_BAR)


def available_area(widget: QWidget | None = None) -> QRect:
    """The logical area windows may take: the override, else the widget's (or the primary) screen's."""
    if _override is not None:
        return QRect(_override)
    screen = None
    if widget is not None:
        parent = widget.parentWidget()
        screen = (parent.window() if parent is not None else widget).screen()
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    if screen is None:  # no screen at all: assume the smallest office PC
        return screen_area(1366, 768, 1.0)
    return screen.availableGeometry()


def fitted_size(preferred: QSize, available: QRect) -> QSize:
    """``preferred`` clamped to the client area a framed window has in ``available``."""
    room = available.size() - FRAME
    return QSize(max(1, min(preferred.width(), room.width())), max(1, min(preferred.height(), room.height())))


def maximized_size(available: QRect) -> QSize:
    """The client area of a window maximized on ``available``."""
    return QSize(available.width(), available.height() - TITLE_BAR)


def fit_to_screen(widget: QWidget, preferred: QSize) -> QSize:
    """Resize ``widget`` (a window or dialog) to ``preferred`` or as much of it as the screen has, and
    centre it on the available area. Returns the size given (a layout whose minimum is larger wins: each
    dialog's test checks its minimum fits 1280×720 less task bar and frame)."""
    area = available_area(widget)
    size = fitted_size(preferred, area)
    widget.resize(size)
    # A window's position is its frame's: the frame (client + FRAME) is centred, never above or left of the area.
    x = area.left() + (area.width() - size.width() - FRAME.width()) // 2
    y = area.top() + (area.height() - size.height() - FRAME.height()) // 2
    widget.move(max(area.left(), x), max(area.top(), y))
    return size


def maximize_on_small_screen(window: QWidget, preferred: QSize) -> bool:
    """The main window: fitted to the screen, and maximized on one up to :data:`MAXIMIZE_UP_TO` wide (or
    when the preferred size does not fit). Returns True when maximized (the caller shows it maximized)."""
    area = available_area(window)
    fit_to_screen(window, preferred)
    return area.width() <= MAXIMIZE_UP_TO or fitted_size(preferred, area) != preferred


def scrolling(content: QWidget) -> QScrollArea:
    """``content`` (a form) inside a frameless vertical scroll area that follows its width: put this in the
    dialog's layout instead of the form, and keep the button box outside it."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return area


__all__ = [
    "MAXIMIZE_UP_TO",
    "TASK_BAR",
    "available_area",
    "fit_to_screen",
    "fitted_size",
    "maximize_on_small_screen",
    "maximized_size",
    "screen_area",
    "scrolling",
    "use_screen",
]
