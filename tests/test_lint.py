"""The code stays formatted and lint-clean (ruff), and the whole terminal package type-checks strictly (mypy)."""

import subprocess
import sys
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


def test_the_terminal_package_type_checks_strictly():
    result = run("mypy")
    assert result.returncode == 0, result.stdout
