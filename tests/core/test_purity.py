"""The core does no I/O and never reads the clock (DESIGN.md: functional core).

Checked with an allow-list, not a deny-list (issue #19 item 8): every module the core imports must be a pure
standard-library module, another module of ``terminal.core``, or one of the few pure-computation libraries named
below. Importing ``terminal.store.journal`` (or any new I/O library) from the core fails this test.
"""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "terminal" / "core"

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


def allowed(module: str) -> bool:
    """True when the core may import ``module`` (a dotted name)."""
    if module == "terminal.core" or module.startswith("terminal.core."):
        return True
    if module.split(".")[0] in PURE_LIBRARIES:
        return True
    return any(module == m or module.startswith(m + ".") for m in PURE_STDLIB)


def imports_of(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module or ""))
    return found


def test_core_modules_import_only_pure_modules():
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        problems += [f"{path.name}:{line}: import {name}" for line, name in imports_of(tree) if not allowed(name)]
    assert problems == []
    assert len(list(CORE.rglob("*.py"))) >= 10  # the scan did look at the core


def test_core_modules_read_no_clock_and_open_no_file():
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in FORBIDDEN_CALLS:
                    problems.append(f"{path.name}:{node.lineno}: calls {name}()")
    assert problems == []


def test_the_allow_list_refuses_the_store_io_libraries_and_the_clock_module():
    # The check can fail: what the old deny-list let through, and what it caught, are both refused.
    refused = ["terminal.store.journal", "terminal.backends.http", "terminal.devices.display", "requests", "sqlite3"]
    refused += ["socket", "os", "time", "threading", "random", "secrets", "pygame", "subprocess"]
    for module in refused:
        assert not allowed(module), module
    assert allowed("terminal.core.money") and allowed("urllib.parse") and allowed("babel.numbers")
    assert not allowed("urllib.request")
