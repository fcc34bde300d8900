"""Qt's own widgets read Chinese whatever the system language (issue 18 item 7a). The tester saw "Look in:" and
"Files of type:" in the file dialog: Qt 6.11's qtbase_zh_CN.qm translates the older source strings "Look in:"
/ "Files of type:", not the "&Look in:" / "Files of &type:" the dialog now asks for, so they were English under
every LANG. Run in a child process: the program's own QApplication (make_app) with LANG=C, LANG=en_US.UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from PySide6.QtCore import QCoreApplication, QFileInfo, QLocale
from PySide6.QtGui import QAbstractFileIconProvider
from PySide6.QtWidgets import QFileDialog, QLabel
from huifang_desktop.ui.application import make_app

app = make_app([])
d = QFileDialog(None, "选择 Excel 台账", sys.argv[1], "Excel 工作簿 (*.xlsx)")
d.setOption(QFileDialog.Option.DontUseNativeDialog)
labels = {w.objectName(): w.text() for w in d.findChildren(QLabel) if w.objectName()}
print(json.dumps({
    "look": labels.get("lookInLabel"), "type": labels.get("fileTypeLabel"), "name": labels.get("fileNameLabel"),
    "folder": QAbstractFileIconProvider().type(QFileInfo(sys.argv[1])),
    "ours": QCoreApplication.translate("AuditLogPage", "查询(&Q)"),
    "untranslated": QCoreApplication.translate("QFileSystemModel", "Folder"),
    "locale": QLocale().name(),
}, ensure_ascii=False))
"""


@pytest.mark.parametrize("lang", ["C", "en_US.UTF-8", "zh_CN.UTF-8"])
def test_the_programs_file_dialog_is_chinese_whatever_the_system_language(lang: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANGUAGE"}
    env.update(LANG=lang, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["look"].startswith("查找范围"), shown
    assert shown["type"].startswith("文件类型"), shown
    assert shown["name"].startswith("文件名称"), shown
    assert shown["folder"] == "文件夹", shown
    assert shown["locale"] == "zh_CN", shown  # dates and numbers of Qt's widgets too
    # the supplement answers only for its own strings: ours stay as written, others fall through to Qt
    assert shown["ours"] == "查询(&Q)" and shown["untranslated"] == "Folder", shown
