"""Every window fits the office's screens: 1366×768 at 100 % and 1920×1080 at 150 % (1280×720 logical), less
a task bar; the main window opens maximized there; each main dialog opens inside the free area with its
buttons inside the window (not in a scrolled part)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialogButtonBox,
    QPushButton,
    QScrollArea,
    QWidget,
    QWizard,
)

from huifang_desktop.config import AppPaths
from huifang_desktop.demo import generate_demo
from huifang_desktop.services import users
from huifang_desktop.ui.common import fit
from huifang_desktop.ui.main_window import MainWindow
from huifang_desktop.ui.screenshots import DIALOGS

ROOT = Path(__file__).resolve().parents[2]
SCREENS = {"1366x768@100%": (1366, 768, 1.0), "1920x1080@150%": (1920, 1080, 1.5)}
REQUIRED = {"settings", "customer", "complaint-intake", "visit-record", "import-wizard", "backups"}


@pytest.fixture
def office_window(qtbot, ctx, tmp_path) -> MainWindow:
    generate_demo(ctx, customers=40, visits=120, complaints=12, seed=3)
    supervisor = users.find_user(ctx, "supervisor")
    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    return window


@pytest.fixture(params=list(SCREENS))
def screen(request) -> Iterator[QRect]:
    width, height, scale = SCREENS[request.param]
    area = fit.screen_area(width, height, scale)
    fit.use_screen(area)
    yield area
    fit.use_screen(None)


def _framed(widget: QWidget) -> QRect:
    """The window's frame: a window's position is its frame's; offscreen windows have no frame, so the
    allowance a real one has is added to the size."""
    return QRect(widget.pos(), widget.size() + fit.FRAME)


def _buttons(dialog: QWidget) -> list[QAbstractButton]:
    found: list[QAbstractButton] = []
    for box in dialog.findChildren(QDialogButtonBox):
        found += [b for b in box.buttons() if b.isVisibleTo(dialog)]
    if isinstance(dialog, QWizard):
        found += [
            b
            for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CancelButton)
            if (b := dialog.button(which)) is not None and b.isVisibleTo(dialog)
        ]
    if not found:  # a form with its own row of buttons (新建登记, 备份与恢复)
        found = [b for b in dialog.findChildren(QPushButton) if b.isVisibleTo(dialog)]
    return found


def _unclipped(button: QWidget, dialog: QWidget) -> bool:
    """The whole button is drawn: inside every parent up to the dialog, none of them a scroll area."""
    rect = QRect(QPoint(0, 0), button.size())
    widget = button
    while widget is not dialog:
        parent = widget.parentWidget()
        if parent is None or isinstance(parent, QScrollArea):
            return False
        rect = rect.translated(widget.pos())
        if not parent.rect().contains(rect):
            return False
        widget = parent
    return True


def test_main_window_opens_maximized_inside_the_screen(qtbot, office_window, screen):
    window = office_window
    for slug in window.tab_slugs():
        window.show_tab(slug)
    assert fit.maximize_on_small_screen(window, QSize(1280, 800))  # both screens are at most 1440 wide
    room = fit.maximized_size(screen)
    minimum = window.minimumSizeHint()
    assert minimum.width() <= room.width() and minimum.height() <= room.height(), (minimum, room)
    assert window.width() <= screen.width() and window.height() <= screen.height()


def test_every_main_dialog_fits_the_screen_with_its_buttons_visible(qtbot, office_window, screen):
    window = office_window
    window.show_fitted()
    if window.isMaximized() or window.isFullScreen():  # offscreen: as a maximized window on this screen
        window.showNormal()
    window.resize(fit.maximized_size(screen))
    window.move(screen.topLeft())
    assert REQUIRED <= {shot.name for shot in DIALOGS}
    problems = []
    for shot in DIALOGS:
        dialog = shot.build(window)
        assert dialog is not None, shot.name
        dialog.show()
        QApplication.processEvents()
        minimum = dialog.minimumSizeHint()
        if not screen.contains(_framed(dialog)):
            problems.append(f"{shot.title}: {dialog.geometry()} outside {screen}")
        if (
            minimum.width() + fit.FRAME.width() > screen.width()
            or minimum.height() + fit.FRAME.height() > screen.height()
        ):
            problems.append(f"{shot.title}: minimum {minimum} larger than {screen.size()}")
        buttons = _buttons(dialog)
        if not buttons:
            problems.append(f"{shot.title}: no buttons found")
        hidden = [b.text() for b in buttons if not _unclipped(b, dialog)]
        if hidden:
            problems.append(f"{shot.title}: buttons {hidden} not fully inside the window")
        dialog.hide()
        dialog.deleteLater()
    assert not problems, "\n".join(problems)


def test_screen_area_is_the_logical_screen_less_the_task_bar():
    assert fit.screen_area(1366, 768, 1.0) == QRect(0, 0, 1366, 768 - fit.TASK_BAR)
    assert fit.screen_area(1920, 1080, 1.5) == QRect(0, 0, 1280, 720 - fit.TASK_BAR)
    assert fit.fitted_size(QSize(1120, 740), fit.screen_area(1920, 1080, 1.5)) == QSize(
        1120, 720 - fit.TASK_BAR - fit.FRAME.height()
    )


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **env}
    return subprocess.run(
        [sys.executable, "-m", "huifang_desktop", *args],
        check=False,
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo_office(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("office")
    made = _cli(
        [
            "--data-dir",
            str(data),
            "demo",
            "--customers",
            "40",
            "--visits",
            "120",
            "--complaints",
            "10",
            "--seed",
            "3",
        ]
    )
    assert made.returncode == 0, made.stderr
    return data


@pytest.mark.parametrize(("size", "scale"), [("1366x768", "1"), ("1920x1080", "1.5")])
def test_screenshot_command_saves_every_tab_and_dialog_no_larger_than_the_screen(
    qapp, demo_office, tmp_path, size, scale
):
    from PySide6.QtGui import QImage

    shots = tmp_path / "shots"
    done = _cli(
        ["--data-dir", str(demo_office), "--screenshot", str(shots), "--screen-size", size],
        QT_SCALE_FACTOR=scale,
    )
    assert done.returncode == 0, done.stderr
    pngs = sorted(shots.glob("*.png"))
    assert len(pngs) >= 12, [p.name for p in pngs]
    width, height = (int(v) for v in size.split("x"))
    for png in pngs:
        image = QImage(str(png))
        assert not image.isNull(), png.name
        assert image.width() <= width and image.height() <= height, (png.name, image.size())
    names = {p.name for p in pngs}
    assert {
        "01-customers.png",
        "07-settings.png",
        "09-complaint-intake.png",
        "10-visit-record.png",
        "13-import-wizard.png",
        "15-backups.png",
    } <= names


def test_screen_size_is_checked_before_anything_opens(tmp_path):
    bad = _cli(
        ["--data-dir", str(tmp_path / "d"), "--screenshot", str(tmp_path / "s"), "--screen-size", "big"]
    )
    assert bad.returncode == 1 and "屏幕尺寸" in bad.stderr
    alone = _cli(["--data-dir", str(tmp_path / "d"), "--screen-size", "1366x768"])
    assert alone.returncode == 1 and "--screenshot" in alone.stderr
    assert not (tmp_path / "d" / "huifang.db").exists()
