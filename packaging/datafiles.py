"""What the frozen build bundles: data files, hidden imports, excluded modules, Qt files to keep.

Standard library only. Used by ``packaging/huifang.spec`` (PyInstaller) and by
``tests/packaging/test_spec.py`` (which runs without PyInstaller). Load it by path, not as
``packaging.datafiles``: the name ``packaging`` belongs to the PyPI package of that name::

    spec = importlib.util.spec_from_file_location("huifang_datafiles", ".../packaging/datafiles.py")

Run as a script it prints facts the build script needs: ``python packaging/datafiles.py version``.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "huifang-desktop"  # executable, bundle folder and archive name


@dataclass(frozen=True, slots=True)
class DataRule:
    """Files ``source_dir/<pattern>`` (relative to the project root) go to ``target_dir`` in the bundle.

    ``target_dir`` is the folder of the installed package (pyproject's package-dir mapping), so
    ``importlib.resources.files("huifang_desktop.resources")`` finds the same files frozen and installed.
    """

    source_dir: str
    patterns: tuple[str, ...]
    target_dir: str


# Mirrors [tool.setuptools.package-data] in pyproject.toml (test_spec.py checks the two agree).
# The ``__init__.py`` of forms/ and resources/ ship as plain files: those folders only become the packages
# huifang_desktop.forms / huifang_desktop.resources when installed, so PyInstaller cannot analyse them
# from a checkout; at run time Python's own finder imports them from the bundle folder.
DATA_RULES: tuple[DataRule, ...] = (
    DataRule("forms", ("__init__.py", "*.toml"), "huifang_desktop/forms"),
    DataRule("resources", ("__init__.py",), "huifang_desktop/resources"),
    DataRule("resources/fonts", ("*",), "huifang_desktop/resources/fonts"),
    DataRule("resources/icons", ("*",), "huifang_desktop/resources/icons"),
    DataRule("resources/translations", ("*",), "huifang_desktop/resources/translations"),
    DataRule("resources/styles", ("*",), "huifang_desktop/resources/styles"),
    # Alembic loads env.py and the revision files by path, as source: they must be real .py files.
    DataRule("huifang_desktop/storage/migrations", ("*.py", "*.mako"), "huifang_desktop/storage/migrations"),
    DataRule("huifang_desktop/storage/migrations/versions", ("*.py",),
             "huifang_desktop/storage/migrations/versions"),
)

MIGRATIONS_DIR = "huifang_desktop/storage/migrations"

# Modules PyInstaller cannot see: imported by the migration scripts (which are data, not analysed code),
# by name at run time (SQLAlchemy dialects), or lazily inside functions of optional libraries.
HIDDEN_IMPORTS: tuple[str, ...] = (
    "huifang_desktop.storage.models",  # imported by migrations/env.py
    "alembic.runtime.environment",
    "alembic.runtime.migration",
    "alembic.operations",
    "alembic.operations.ops",
    "alembic.ddl",
    "alembic.ddl.impl",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.sql.default_comparator",
    "argon2",
    "argon2._password_hasher",
    "_argon2_cffi_bindings",
    "chinese_calendar",
    "chinese_calendar.constants",
    "pypinyin",
    "pypinyin.style",
    "pypinyin.style._utils",
    "reportlab.rl_settings",
    # the QR code on every form: reportlab's barcode package registers all its widgets when imported, by
    # module names PyInstaller cannot see
    *(f"reportlab.graphics.barcode.{m}" for m in (
        "code128", "code39", "code93", "common", "dmtx", "eanbc", "ecc200datamatrix", "fourstate", "lto", "qr",
        "qrencoder", "usps", "usps4s", "widgets")),
    "reportlab.pdfbase._fontdata",
    "reportlab.pdfbase.ttfonts",
    "platformdirs",
    "PySide6.QtPdf",  # the print preview imports them at module level; listed so no hook setting drops them
    "PySide6.QtPdfWidgets",
    "zxingcpp",  # scan-back reads the forms' QR codes (imported lazily by services/scans.py)
)

# Only when the build environment has the optional driver (pip install .[postgres]).
OPTIONAL_HIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "psycopg": ("psycopg", "psycopg.pq.pq_ctypes", "psycopg.pq._pq_ctypes", "sqlalchemy.dialects.postgresql",
                "sqlalchemy.dialects.postgresql.psycopg"),
}

# The program uses QtCore, QtGui, QtWidgets and QtPrintSupport (the print preview's 打印…: QPrinter,
# QPrintDialog), QtCharts (the 统计 tab; from PySide6-Addons, +3.3 MB with its QtOpenGL bindings left
# out as below: QtCharts links libQt6OpenGL(Widgets) but never imports their Python modules), and QtPdf /
# QtPdfWidgets (the print preview: QPdfDocument, QPdfView; also PySide6-Addons). libQt6Pdf links
# libQt6Network, which stays as a library although the QtNetwork Python module is left out.
QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets", "QtPrintSupport", "QtCharts", "QtPdf", "QtPdfWidgets")
QT_MODULES_EXCLUDED = (
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender", "QtAxContainer",
    "QtBluetooth", "QtConcurrent", "QtDataVisualization", "QtDBus", "QtDesigner", "QtGraphs",
    "QtGraphsWidgets", "QtHelp", "QtHttpServer", "QtLabsStyleKit", "QtLocation", "QtMultimedia",
    "QtMultimediaWidgets", "QtNetwork", "QtNetworkAuth", "QtNfc", "QtOpenGL", "QtOpenGLWidgets",
    "QtPositioning", "QtQml", "QtQmlFeatures", "QtQuick", "QtQuick3D",
    "QtQuickControls2", "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors",
    "QtSerialBus", "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvg", "QtSvgWidgets",
    "QtTest", "QtTextToSpeech", "QtUiTools", "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick",
    "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
)
EXCLUDES: tuple[str, ...] = (
    *(f"PySide6.{m}" for m in QT_MODULES_EXCLUDED),
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "readline", "pydoc_data",
    "ensurepip", "venv",
    "numpy", "IPython", "pytest", "_pytest", "pytestqt", "pluggy", "py", "pypdf", "pdfplumber",
    "importlinter", "grimp", "tests", "setuptools", "pkg_resources", "pip", "wheel",
    # Pillow stays (reportlab.lib.utils imports PIL.Image unconditionally); not its optional codecs and
    # bridges, which PIL.Image.init() skips when missing.
    "PIL._avif", "PIL.AvifImagePlugin", "PIL._webp", "PIL.WebPImagePlugin", "PIL._imagingtk", "PIL.ImageTk",
    "PIL._imagingcms", "PIL.ImageCms", "PIL._imagingft", "PIL.ImageFont", "PIL._imagingmath", "PIL.ImageMath",
    "PIL._imagingmorph", "PIL.ImageMorph", "PIL.ImageQt", "PIL.ImageShow", "PIL.ImageGrab",
    "sqlalchemy.testing", "alembic.testing", "mako.testing", "pygments", "rich", "markdown_it",
    "psycopg2", "MySQLdb", "pysqlite2", "lxml", "defusedxml",
)

# Left out on one platform only. Linux: psycopg's bundled libpq with its own OpenSSL, Kerberos and LDAP
# (psycopg_binary, 10.7 MB) — psycopg uses the system's libpq instead (the .deb depends on libpq5; an office
# on PostgreSQL with the .tar.gz installs it), which the distribution keeps patched. Windows has no system
# libpq: the binary package stays there.
#
# Python's TLS and OpenSSL hashes (libcrypto + libssl, 5.6 MB): the program opens no network connection of its
# own and hashlib falls back to its built-in SHA-2/MD5/BLAKE2. Windows: left out (psycopg_binary speaks TLS
# through its own libpq). Linux: psycopg's ctypes libpq imports ``ssl``, so the module stays, and libssl and
# libcrypto are the system's (SYSTEM_LIBRARIES_LINUX; the .deb depends on libssl3).
EXCLUDES_BY_PLATFORM: dict[str, tuple[str, ...]] = {
    "linux": ("psycopg_binary",),
    "win32": ("ssl", "_ssl", "_hashlib"),
}


def excludes(platform: str = sys.platform) -> list[str]:
    """The Analysis' excludes on ``platform``: :data:`EXCLUDES` and the platform's own."""
    return [*EXCLUDES, *EXCLUDES_BY_PLATFORM.get(_platform_key(platform), ())]

# Qt plugins kept, by plugin folder; a folder not listed is dropped whole. Names are matched without the
# "lib"/"q" prefixes and the suffix, e.g. "libqxcb.so" and "qxcb.dll" are both "xcb".
QT_PLUGINS: dict[str, dict[str, tuple[str, ...]]] = {
    "linux": {
        "platforms": ("offscreen", "minimal", "xcb"),
        "platforminputcontexts": ("compose", "ibus"),  # Chinese input methods (IBus) on Linux desktops
        "platformthemes": ("xdgdesktopportal",),  # not gtk3: it would pull the build machine's GTK
        "xcbglintegrations": ("xcb-glx-integration", "xcb-egl-integration"),
        "imageformats": ("ico", "jpeg"),
        "printsupport": ("cupsprintersupport",),  # the system printers (CUPS) in the print dialog
        "styles": ("*",),
    },
    "win32": {
        "platforms": ("offscreen", "minimal", "windows"),
        "imageformats": ("ico", "jpeg"),
        "printsupport": ("*",),  # Qt 6 builds Windows printing into QtPrintSupport; kept should a plugin ship
        "styles": ("*",),
    },
    "darwin": {
        "platforms": ("offscreen", "minimal", "cocoa"),
        "imageformats": ("ico", "jpeg"),
        "printsupport": ("*",),
        "styles": ("*",),
    },
}
QT_TRANSLATIONS_KEPT = ("qtbase_zh_CN.qm", "qtbase_zh_TW.qm", "qt_zh_CN.qm", "qt_zh_TW.qm")
QT_FILES_DROPPED = ("opengl32sw.dll",)  # software OpenGL for Qt Quick, 20 MB; widgets do not need it

# Linux libraries left to the system (not bundled), with the libraries only they needed (cups → gnutls,
# p11-kit, nettle, gmp, avahi …; dbus → systemd, gcrypt, lz4 …; glib → pcre2; fontconfig → expat …).
# Each is on every Linux desktop and belongs with a system service or configuration, which a copy from the
# build machine may not match: libcups talks to the system's CUPS (print dialog), libdbus to the system's
# D-Bus daemon (input methods, portals), fontconfig reads the system's font configuration, the X11/xcb
# libraries talk to its X server; glib is the system's main loop library that the input methods load too.
# X11/xcb, fontconfig and freetype are on AppImage's exclude list (pkg2appimage) for the same reason. The .deb
# depends on their packages (DEB_DEPENDS); a tar.gz user's desktop has them. Without libcups the print dialog
# lists no printers. Measured with QtPdf and zxing-cpp in: 166.1 MB before, 144.2 MB after (ssl out too).
SYSTEM_LIBRARIES_LINUX = (
    "libcups.so.2", "libdbus-1.so.3", "libglib-2.0.so.0", "libgthread-2.0.so.0",
    "libfontconfig.so.1", "libfreetype.so.6",
    "libX11.so.6", "libX11-xcb.so.1", "libXau.so.6", "libXdmcp.so.6", "libxcb.so.1", "libxcb-*.so.*",
    "libxkbcommon.so.0", "libxkbcommon-x11.so.0",
    "libssl.so.3", "libcrypto.so.3",
)
# Debian/UOS/Kylin packages of the libraries above plus those PyInstaller never bundles (GL, EGL, libc).
DEB_DEPENDS = (
    "libc6 (>= {glibc})", "libcups2", "libdbus-1-3", "libglib2.0-0", "libfontconfig1", "libfreetype6",
    "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0",
    "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0", "libxcb-render0", "libxcb-shape0",
    "libxcb-shm0", "libxcb-sync1", "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxcb-glx0",
    "libxkbcommon0", "libxkbcommon-x11-0", "libegl1", "libgl1",
    "libpq5",  # PostgreSQL offices: psycopg loads the system's libpq (EXCLUDES_BY_PLATFORM)
    "libssl3",
)

# The one-folder build's size budget (bytes, apparent size as `du -sb`): tests/packaging/test_size.py.
SIZE_BUDGET_BYTES = 150_000_000


def system_library(dest: str, platform: str = sys.platform) -> bool:
    """True for a library the build leaves to the system (SYSTEM_LIBRARIES_LINUX; none elsewhere)."""
    if _platform_key(platform) != "linux":
        return False
    # Only the system's own copies, which PyInstaller puts at the top of the bundle; a wheel's private
    # copies (pillow.libs/libxcb-9065bb12.so.1.1.0) stay.
    return "/" not in dest and any(fnmatch.fnmatch(dest, pattern) for pattern in SYSTEM_LIBRARIES_LINUX)


def project_version(root: Path = ROOT) -> str:
    """``__version__`` of huifang_desktop, read from the source (no import)."""
    text = (root / "huifang_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if match is None:
        raise ValueError("huifang_desktop/__init__.py has no __version__")
    return match.group(1)


def data_files(root: Path = ROOT, rules: Iterable[DataRule] = DATA_RULES) -> list[tuple[str, str]]:
    """``(source file, target folder)`` pairs for PyInstaller's ``datas``, one per file, sorted."""
    out: set[tuple[str, str]] = set()
    for rule in rules:
        folder = root / rule.source_dir
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and any(fnmatch.fnmatch(path.name, p) for p in rule.patterns):
                out.add((str(path), rule.target_dir))
    return sorted(out)


def bundled_paths(root: Path = ROOT) -> set[str]:
    """Paths (``a/b/c.ext``, relative to the bundle's contents folder) of every data file."""
    return {f"{target}/{Path(source).name}" for source, target in data_files(root)}


def migration_imports(root: Path = ROOT) -> list[str]:
    """Top-level modules the Alembic scripts import (PyInstaller never analyses those data files)."""
    names: set[str] = set()
    folder = root / MIGRATIONS_DIR
    for path in sorted([*folder.glob("*.py"), *folder.glob("versions/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return sorted(names)


def own_modules(root: Path = ROOT) -> list[str]:
    """Every module of huifang_desktop (but the migrations, which ship as files).

    Some are imported lazily by name (``huifang_desktop.printing`` loads ``render`` on first use), so the
    whole package goes in rather than what PyInstaller's import scan happens to see.
    """
    package = root / "huifang_desktop"
    names = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if "migrations" in parts or "__pycache__" in parts or parts[-1] == "__main__":
            continue
        names.append(".".join(parts))
    return names


def hidden_imports(root: Path = ROOT,
                   available: Callable[[str], object | None] = importlib.util.find_spec) -> list[str]:
    """Hidden imports for the Analysis: the fixed list, our own modules, the migrations' imports, and
    optional drivers installed in the build environment."""
    names = set(HIDDEN_IMPORTS) | set(own_modules(root)) | set(migration_imports(root))
    for module, extra in OPTIONAL_HIDDEN_IMPORTS.items():
        if available(module) is not None:
            names.update(extra)
    return sorted(names)


def _platform_key(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def _plugin_name(file_name: str) -> str:
    stem = file_name.split(".", 1)[0]
    if stem.startswith("lib"):
        stem = stem[3:]
    if stem.startswith("q") and not stem.startswith("qt"):
        stem = stem[1:]
    for suffix in ("platforminputcontextplugin",):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem


def keep_qt_file(dest: str, platform: str = sys.platform) -> bool:
    """Whether a collected file (its path inside the bundle) stays. Non-Qt files always stay.

    Qt plugins are kept per :data:`QT_PLUGINS`, Qt's own translations only for Chinese.
    """
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    if not parts or parts[0] not in ("PySide6", "shiboken6"):
        return True
    name = parts[-1]
    if name in QT_FILES_DROPPED:
        return False
    if "translations" in parts[:-1]:
        return name in QT_TRANSLATIONS_KEPT
    if "plugins" in parts[:-1]:
        i = parts.index("plugins")
        if len(parts) != i + 3:
            return False
        wanted = QT_PLUGINS[_platform_key(platform)].get(parts[i + 1])
        if wanted is None:
            return False
        plugin = _plugin_name(name)
        return any(fnmatch.fnmatch(plugin, w) for w in wanted)
    return True


Toc = list[tuple[str, str, str]]  # PyInstaller TOC entries: (dest, src, typecode)


def _lib_key(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name.lower()


def unused_libraries(binaries: Toc, dropped: Toc, needed: Callable[[str], Iterable[str]]) -> set[str]:
    """Base names (lower case) of the libraries in ``binaries`` that only the ``dropped`` entries needed.

    ``needed(src)`` names the libraries a binary links to. PyInstaller adds a plugin's dependencies (GTK
    for the gtk3 theme, QtNetwork for the TLS plugins, Wayland, …) while analysing; filtering the plugins
    out afterwards leaves those behind. A library stays if anything kept still links to it.
    """
    by_name: dict[str, list[tuple[str, str, str]]] = {}
    for entry in binaries:
        if entry[2] != "SYMLINK":
            by_name.setdefault(_lib_key(entry[0]), []).append(entry)

    def closure(start: Iterable[tuple[str, str, str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(start)
        while todo:
            entry = todo.pop()
            for name in needed(entry[1]):
                k = _lib_key(name)
                if k not in seen and k in by_name:
                    seen.add(k)
                    todo.extend(by_name[k])
        return seen

    candidates = closure(e for e in dropped if e[2] != "SYMLINK")
    roots = [e for e in binaries if e[2] != "SYMLINK" and _lib_key(e[0]) not in candidates]
    return candidates - closure(roots)


def without_libraries(toc: Toc, names: set[str]) -> Toc:
    """``toc`` without the libraries ``names`` and without symbolic links pointing at them."""
    return [(dest, src, typecode) for dest, src, typecode in toc
            if _lib_key(dest) not in names and not (typecode == "SYMLINK" and _lib_key(src) in names)]


def elf_needed(path: str) -> list[str] | None:
    """The libraries an ELF file links to directly (its NEEDED entries, read with binutils' objdump, which
    PyInstaller needs on Linux anyway), or None when ``path`` is no ELF file objdump can read.

    Not PyInstaller's ``get_imports``: on Linux that runs ``ldd``, which lists every library loaded
    *transitively*, so each Qt library would seem to link to libsystemd, gnutls … and nothing a system
    library alone needed could ever be dropped."""
    try:
        result = subprocess.run(["objdump", "-p", path], capture_output=True, text=True, check=False)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return [line.split()[1] for line in result.stdout.splitlines()
            if line.strip().startswith("NEEDED") and len(line.split()) > 1]


def glibc_floor(folder: Path) -> str | None:
    """The newest ``GLIBC_x.y`` symbol version any ELF file in ``folder`` needs: the oldest glibc the build
    runs on (``objdump -T``, the dynamic symbol tables). None when there is no ELF file."""
    newest: tuple[int, ...] | None = None
    files = [str(f) for f in sorted(folder.rglob("*")) if f.is_file() and not f.is_symlink()]
    for start in range(0, len(files), 200):
        result = subprocess.run(["objdump", "-T", *files[start:start + 200]], capture_output=True, text=True,
                                check=False)
        for match in re.finditer(r"\bGLIBC_(\d+(?:\.\d+)+)\b", result.stdout):
            version = tuple(int(part) for part in match.group(1).split("."))
            if newest is None or version > newest:
                newest = version
    return None if newest is None else ".".join(map(str, newest))


if __name__ == "__main__":
    if sys.argv[1:] == ["version"]:
        print(project_version())
    elif sys.argv[1:] == ["budget"]:
        print(f"{SIZE_BUDGET_BYTES // 1_000_000} MB")
    elif sys.argv[1:2] == ["glibc"] and len(sys.argv) == 3:
        print(glibc_floor(Path(sys.argv[2])) or "?")
    elif sys.argv[1:2] == ["deb-depends"] and len(sys.argv) == 3:
        print(", ".join(d.format(glibc=sys.argv[2]) for d in DEB_DEPENDS))
    elif sys.argv[1:] == ["datas"]:
        for source, target in data_files():
            print(f"{target}\t{source}")
    else:
        print("usage: datafiles.py version|budget|glibc FOLDER|deb-depends GLIBC|datas", file=sys.stderr)
        sys.exit(2)
