"""The core does no I/O and never reads the clock (DESIGN.md: functional core).

Checked with an allow-list, not a deny-list (issue #19 item 8): every module the core imports must be a pure
standard-library module, another module of ``terminal.core``, or one of the few pure-computation libraries named
below. Importing ``terminal.store.journal`` (or any new I/O library) from the core fails this test, however it is
written: absolute, relative (``from ..store import journal``), a name imported from a package (``from terminal
import store``), or at run time (``__import__``; and a fresh interpreter that imports every core module is checked
for what it loaded).
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.imports import imports_of, imports_of_file

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "terminal" / "core"

#: Standard-library modules that compute and do no I/O.
PURE_STDLIB = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "hmac",
    "itertools",
    "math",
    "re",
    "string",
    "typing",
    "unicodedata",
    "urllib.parse",
    "zlib",
    "binascii",
    "operator",
    "abc",
    "textwrap",
    "gettext",  # only its pure catalog classes (GNUTranslations built from bytes the shell read)
}
#: Pure-computation libraries the core may use, and why.
PURE_LIBRARIES = {
    "num2words": "amounts in words for the voice",
    "babel": "CLDR number and currency formatting, plural rules",
    "ada_url": "WHATWG URL parsing, as a browser reads a link QR",
    "idna": "UTS 46 host processing for link QRs",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "open"}
#: Ways to import at run time, which the import scan cannot see.
DYNAMIC_IMPORTS = {"__import__", "import_module", "exec", "eval"}


def allowed(module: str) -> bool:
    """True when the core may import ``module`` (a dotted name)."""
    if module == "terminal.core" or module.startswith("terminal.core."):
        return True
    if module.split(".")[0] in PURE_LIBRARIES:
        return True
    return any(module == m or module.startswith(m + ".") for m in PURE_STDLIB)


def core_imports() -> list[tuple[str, int, str]]:
    return [(path.name, line, name) for path in sorted(CORE.rglob("*.py")) for line, name in imports_of_file(path)]


def test_core_modules_import_only_pure_modules():
    found = core_imports()
    assert [f"{file}:{line}: import {name}" for file, line, name in found if not allowed(name)] == []
    assert len(list(CORE.rglob("*.py"))) >= 10 and len(found) >= 100  # the scan did look at the core


def test_core_modules_read_no_clock_and_open_no_file():
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in FORBIDDEN_CALLS | DYNAMIC_IMPORTS:
                    problems.append(f"{path.name}:{node.lineno}: calls {name}()")
    assert problems == []


#: Modules that mean I/O or the clock; none may be loaded by importing the core (the interpreter itself loads
#: os, time and threading before any of our code, so those are checked by the scans above instead).
IO_MODULES = ["sqlite3", "socket", "requests", "urllib3", "http", "subprocess", "pygame", "serial", "escpos"]
IO_MODULES += ["gpiozero", "sqlite_utils", "select", "selectors", "asyncio", "multiprocessing", "shutil"]


def test_importing_every_core_module_loads_nothing_outside_the_core_and_no_io_library():
    # A fresh interpreter imports every module of terminal.core and reports what it loaded: what the source
    # scans cannot see (an import by a computed name, one through a library) shows here.
    program = """
import importlib, json, pkgutil, sys
import terminal.core
names = [m.name for m in pkgutil.walk_packages(terminal.core.__path__, "terminal.core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"core": names, "loaded": sorted(sys.modules)}))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["core"]) >= 10  # it did import the core
    ours = [m for m in report["loaded"] if m.startswith("terminal.") and not m.startswith("terminal.core")]
    assert ours == []
    assert [m for m in report["loaded"] if m.split(".")[0] in IO_MODULES] == []


def test_the_allow_list_refuses_the_store_io_libraries_and_the_clock_module():
    # The check can fail: what the old deny-list let through, and what it caught, are both refused.
    refused = ["terminal.store.journal", "terminal.backends.http", "terminal.devices.display", "requests", "sqlite3"]
    refused += ["socket", "os", "time", "threading", "random", "secrets", "pygame", "subprocess"]
    for module in refused:
        assert not allowed(module), module
    assert allowed("terminal.core.money") and allowed("urllib.parse") and allowed("babel.numbers")
    assert not allowed("urllib.request")


@pytest.mark.parametrize(
    ("source", "module", "imported"),
    [
        ("from terminal.store.journal import Journal", "terminal.core.money", "terminal.store.journal"),
        ("from ..store import journal", "terminal.core.money", "terminal.store"),
        ("from .. import store", "terminal.core.money", "terminal.store"),
        ("from ...store.journal import Journal", "terminal.core.payloads.emv", "terminal.store.journal"),
        ("from terminal import store", "terminal.core.money", "terminal.store"),
        ("import terminal.store.journal as j", "terminal.core.money", "terminal.store.journal"),
    ],
)
def test_the_scan_refuses_the_store_however_the_import_is_written(source, module, imported):
    found = [name for _, name in imports_of(ast.parse(source), module)]
    assert imported in found and not all(allowed(name) for name in found)


def test_the_scan_reads_relative_imports_inside_the_core_as_the_core():
    found = [
        name
        for _, name in imports_of(ast.parse("from . import money\nfrom .payloads import emv"), "terminal.core.sale")
    ]
    assert found == ["terminal.core.money", "terminal.core.payloads", "terminal.core.payloads.emv"]
    assert all(allowed(name) for name in found)
