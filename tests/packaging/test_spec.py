"""The PyInstaller spec bundles every file the program loads at run time (no build needed).

``packaging/datafiles.py`` holds the lists; ``packaging/huifang.spec`` must use them. These tests check the
lists against the files on disk, pyproject's package data and the places the code looks, and run the spec
with stand-ins for PyInstaller's classes to see what it hands to them.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from huifang_desktop.printing import fonts, templates
from tests.packaging.datafiles_module import load_datafiles

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


datafiles = load_datafiles()


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def bundled() -> set[str]:
    return datafiles.bundled_paths(ROOT)


def test_datafiles_bundle_every_form_template_where_templates_look(bundled: set[str]) -> None:
    forms = sorted((ROOT / "forms").glob("*.toml"))
    assert [p.stem for p in forms] == templates.template_names()
    assert "visit_record" in templates.template_names()
    package_dir = templates.FORMS_PACKAGE.replace(".", "/")
    missing = [p.name for p in forms if f"{package_dir}/{p.name}" not in bundled]
    assert missing == []
    assert f"{package_dir}/__init__.py" in bundled  # importlib.resources needs a real package


def test_datafiles_bundle_the_font_and_icons(bundled: set[str]) -> None:
    font = fonts.font_path()
    assert font.is_file()
    assert f"huifang_desktop/resources/fonts/{fonts.FONT_FILE}" in bundled
    icons = sorted((ROOT / "resources" / "icons").iterdir())
    assert "huifang.png" in [p.name for p in icons]
    assert [p.name for p in icons if f"huifang_desktop/resources/icons/{p.name}" not in bundled] == []
    assert "huifang_desktop/resources/__init__.py" in bundled


def test_datafiles_bundle_every_migration_as_source(bundled: set[str]) -> None:
    folder = ROOT / "huifang_desktop" / "storage" / "migrations"
    needed = [*folder.glob("*.py"), *folder.glob("*.mako"), *folder.glob("versions/*.py")]
    assert {p.name for p in folder.glob("versions/*.py")} >= {"0001_foundation.py"}
    assert sorted(_rel(p) for p in needed if _rel(p) not in bundled) == []


def test_datafiles_cover_pyproject_package_data(bundled: set[str]) -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package_dirs: dict[str, str] = setuptools.get("package-dir", {})
    checked = 0
    for package, patterns in setuptools["package-data"].items():
        source = ROOT / package_dirs.get(package, package.replace(".", "/"))
        target = package.replace(".", "/")
        for pattern in patterns:
            for path in source.glob(pattern):
                if path.is_file():
                    checked += 1
                    assert f"{target}/{path.relative_to(source).as_posix()}" in bundled, (package, pattern)
    assert checked >= 8  # forms, font, icon, migrations: the check really looked at files


def test_datafiles_migrations_in_bundle_walk_to_the_same_head(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from huifang_desktop.storage.db import head_revision, known_revisions

    for source, target in datafiles.data_files(ROOT):
        dest = tmp_path / target
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    cfg = Config()
    cfg.set_main_option("script_location", str(tmp_path / "huifang_desktop" / "storage" / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_current_head() == head_revision()
    assert {s.revision for s in script.walk_revisions()} == known_revisions()


def test_hidden_imports_cover_migration_imports_and_optional_drivers() -> None:
    without_pg = datafiles.hidden_imports(ROOT, available=lambda name: None)
    assert {
        "alembic",
        "sqlalchemy",
        "huifang_desktop.storage.models",
        "sqlalchemy.dialects.sqlite",
        "reportlab.rl_settings",
    } <= set(without_pg)
    assert {
        "huifang_desktop.printing.render",
        "huifang_desktop.printing.templates",  # loaded lazily by name
        "huifang_desktop.ui.application",
    } <= set(without_pg)
    assert not any(".migrations" in name for name in without_pg)  # those ship as files
    assert not any("psycopg" in name for name in without_pg)
    with_pg = datafiles.hidden_imports(ROOT, available=lambda name: object())
    assert "sqlalchemy.dialects.postgresql.psycopg" in with_pg


def test_excludes_keep_the_qt_modules_the_program_imports() -> None:
    excluded = set(datafiles.EXCLUDES)
    for used in datafiles.QT_MODULES_USED:
        assert f"PySide6.{used}" not in excluded
    assert {"PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtNetwork", "tkinter", "pytest"} <= excluded
    assert "PIL" not in excluded  # reportlab.lib.utils imports PIL.Image at module level
    # the print preview shows and prints through QtPdf (QPdfDocument, QPdfView)
    assert {"PySide6.QtPdf", "PySide6.QtPdfWidgets"} <= set(
        datafiles.hidden_imports(ROOT, available=lambda n: None)
    )
    assert not {"PySide6.QtPdf", "PySide6.QtPdfWidgets"} & excluded


@pytest.mark.parametrize(
    ("dest", "platform", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "linux", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "linux", True),
        ("PySide6/Qt/plugins/platforms/libqminimal.so", "linux", True),
        ("PySide6/Qt/plugins/platforms/libqminimalegl.so", "linux", False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", "linux", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", "linux", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so", "linux", True),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "linux", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "linux", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "linux", True),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", "linux", False),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "linux", False),
        ("PySide6/Qt/translations/qtbase_de.qm", "linux", False),
        ("PySide6/Qt/translations/qtbase_zh_CN.qm", "linux", True),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "linux", True),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", "linux", True),
        ("PySide6/Qt/lib/libQt6PdfWidgets.so.6", "linux", True),
        ("PySide6/QtPdf.abi3.so", "linux", True),
        ("PySide6\\Qt6Pdf.dll", "win32", True),
        ("PySide6\\plugins\\platforms\\qwindows.dll", "win32", True),
        ("PySide6\\plugins\\platforms\\qoffscreen.dll", "win32", True),
        ("PySide6\\plugins\\platforms\\qdirect2d.dll", "win32", False),
        ("PySide6\\plugins\\styles\\qmodernwindowsstyle.dll", "win32", True),
        ("PySide6\\opengl32sw.dll", "win32", False),
        ("huifang_desktop/resources/fonts/wqy-microhei.ttc", "linux", True),
        ("libpython3.11.so.1.0", "linux", True),
    ],
)
def test_keep_qt_file_keeps_only_the_needed_plugins(dest: str, platform: str, kept: bool) -> None:
    assert datafiles.keep_qt_file(dest, platform) is kept


def test_unused_libraries_are_only_those_no_kept_binary_links_to() -> None:
    links = {
        "/src/libqgtk3.so": ["libgtk-3.so.0", "libQt6Gui.so.6", "libc.so.6"],
        "/src/libgtk-3.so.0": ["libcairo.so.2", "libglib-2.0.so.0"],
        "/src/libqxcb.so": ["libQt6Gui.so.6", "libglib-2.0.so.0"],
        "/src/QtGui.abi3.so": ["libQt6Gui.so.6"],
    }
    kept = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("PySide6/QtGui.abi3.so", "/src/QtGui.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6", "BINARY"),
        ("libgtk-3.so.0", "/src/libgtk-3.so.0", "BINARY"),
        ("libcairo.so.2", "/src/libcairo.so.2", "BINARY"),
        ("libglib-2.0.so.0", "/src/libglib-2.0.so.0", "BINARY"),
    ]
    dropped = [("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY")]
    unused = datafiles.unused_libraries(kept, dropped, lambda src: links.get(src, []))
    assert unused == {"libgtk-3.so.0", "libcairo.so.2"}
    links_too = [
        *kept,
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("libcairo.so.2.1", "libcairo.so.2", "SYMLINK"),
    ]
    assert [e[0] for e in datafiles.without_libraries(links_too, unused)] == [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/QtGui.abi3.so",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "libglib-2.0.so.0",
        "libQt6Gui.so.6",
    ]


def test_project_version_is_the_package_version() -> None:
    import huifang_desktop

    assert datafiles.project_version(ROOT) == huifang_desktop.__version__


class _Recorder:
    """Stand-ins for PyInstaller's spec classes: remember what the spec passes."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}

    def make(self, kind: str) -> Any:
        def build(*args: Any, **kwargs: Any) -> SimpleNamespace:
            self.calls.setdefault(kind, []).append((args, kwargs))
            datas = [(f"{target}/{Path(src).name}", src, "DATA") for src, target in kwargs.get("datas", [])]
            return SimpleNamespace(binaries=[], datas=datas, pure=[], scripts=[], kind=kind)

        return build


def test_spec_hands_the_helper_lists_to_pyinstaller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform.startswith("win"):
        pytest.importorskip("PyInstaller")  # the spec builds a Windows version resource with it
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec puts the checkout first
    recorder = _Recorder()
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path / "build"),
        "DISTPATH": str(tmp_path / "dist"),
        **{name: recorder.make(name) for name in ("Analysis", "PYZ", "EXE", "COLLECT")},
    }
    spec_file = PACKAGING / "huifang.spec"
    try:
        exec(compile(spec_file.read_bytes(), str(spec_file), "exec"), namespace)  # noqa: S102
    finally:
        sys.modules.pop("huifang_datafiles", None)

    ((analysis_args, analysis),) = recorder.calls["Analysis"]
    assert analysis_args[0] == [str(ROOT / "huifang_desktop" / "__main__.py")]
    assert analysis["datas"] == datafiles.data_files(ROOT)
    assert set(analysis["hiddenimports"]) >= set(datafiles.hidden_imports(ROOT))
    assert analysis["excludes"] == datafiles.excludes(sys.platform)
    names = [kwargs["name"] for _args, kwargs in recorder.calls["EXE"]]
    windows = sys.platform.startswith("win")
    assert names == (["huifang-desktop", "huifang-desktop-cli"] if windows else ["huifang-desktop"])
    ((_collect_args, collect),) = recorder.calls["COLLECT"]
    assert collect["name"] == "huifang-desktop"
