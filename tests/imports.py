"""Reading a module's imports from its source (the core's purity test, the layers test): absolute names, relative
imports resolved, each name of ``from X import a`` counted as ``X.a`` (it may be a submodule)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    """``terminal.core.payloads.emv`` for terminal/core/payloads/emv.py (a package is its ``__init__``)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.AST, module: str, *, package: bool = False) -> list[tuple[int, str]]:
    """Every module ``module`` imports, as absolute dotted names: relative imports resolved against its package,
    and each name of ``from X import a`` counted as ``X.a`` (it may be a submodule: ``from terminal import store``)."""
    here = module.split(".") if package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            origin = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found += [(node.lineno, origin)] if node.module else []
            found += [(node.lineno, f"{origin}.{a.name}") for a in node.names if a.name != "*"]
    return found


def imports_of_file(path: Path) -> list[tuple[int, str]]:
    """What the module at ``path`` (inside the repository) imports, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return imports_of(tree, module_name(path), package=path.name == "__init__.py")
