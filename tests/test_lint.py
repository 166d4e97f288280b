"""The code stays formatted and lint-clean (ruff), and the terminal and hub packages type-check strictly (mypy)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    result = run("ruff", "check", "terminal", "hub", "tests", "bench", "scripts/chaos.py")
    assert result.returncode == 0, result.stdout


def test_ruff_format_changes_nothing():
    result = run("ruff", "format", "--check", "terminal", "hub", "tests", "bench", "scripts/chaos.py")
    assert result.returncode == 0, result.stdout


def test_the_terminal_and_hub_packages_type_check_strictly():
    result = run("mypy")
    assert result.returncode == 0, result.stdout
    # pyproject's [tool.mypy] names what is checked, strictly: both packages, not a part of either
    assert "Success: no issues found" in result.stdout
    with open(ROOT / "pyproject.toml", "rb") as f:
        config = tomllib.load(f)["tool"]["mypy"]
    assert config["strict"] is True and sorted(config["files"]) == ["hub", "terminal"]


def test_the_formatter_is_overridden_only_where_a_layout_truly_reads_better():
    markers = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("terminal", "hub", "bench", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.rstrip().endswith("# fmt: " + "skip")
    ]
    assert len(markers) <= 20, markers
