"""The core imports no I/O library and never reads the clock (DESIGN.md: functional core)."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "terminal" / "core"
FORBIDDEN_MODULES = {
    "pygame",
    "requests",
    "sqlite3",
    "sqlite_utils",
    "gpiozero",
    "serial",
    "escpos",
    "socket",
    "threading",
    "time",
    "os",
    "subprocess",
    "http",
    "urllib3",
    "random",
    "secrets",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "open"}


def test_core_modules_import_no_io_library_and_read_no_clock():
    problems = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                problems += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in FORBIDDEN_CALLS:
                    problems.append(f"{path.name}:{node.lineno}: calls {name}()")
    assert problems == []
    assert len(list(CORE.rglob("*.py"))) >= 10  # the scan did look at the core
