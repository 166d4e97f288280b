"""The repository stands alone (issue #19 item 1): no test, script or doc reads anything outside it (the published
vectors the tests use are in tests/vectors/ with their sources), and a copy of the repository with nothing beside
it collects every test and runs the vector tests that once read a folder beside the checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Where something outside the repository would be read from: a path that climbs out of it, a sibling folder of the
#: checkout, an absolute path of the machine it was written on.
OUTSIDE = re.compile(r"\.\./shared|(?<![\w.])/wor[k]/|/home/\w|/Users/\w")
CLIMB = re.compile(r"(?:\.\./)+[\w.-]*")
PARENTS = re.compile(r"parents\[(\d+)\]")


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
    paths = [ROOT / name for name in listed.stdout.decode().split("\0") if name]
    return [p for p in paths if p.is_file() and p.suffix not in {".png", ".ttf", ".otf", ".bin", ".db", ".mo"}]


def reads_outside(path: Path, text: str) -> list[str]:
    """What in ``text`` (the file at ``path``) points outside the repository."""
    found = [f"{m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    for m in CLIMB.finditer(text):
        target = (path.parent / m.group(0)).resolve()
        if not target.is_relative_to(ROOT):
            found.append(f"{m.group(0)!r} (is {target})")
    if path.suffix == ".py":
        for m in PARENTS.finditer(text):
            if int(m.group(1)) >= len(path.relative_to(ROOT).parts):
                found.append(f"{m.group(0)} (climbs above the repository)")
    return found


def test_no_tracked_file_points_outside_the_repository():
    problems = []
    files = tracked_text_files()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += [f"{path.relative_to(ROOT)}: {what}" for what in reads_outside(path, text)]
    assert problems == []
    assert len(files) > 200 and any(p.name == "payment-qr.json" for p in files)  # it did read the repository


def test_the_scan_sees_a_path_out_of_the_repository():
    test_file = ROOT / "tests" / "core" / "test_x.py"
    up = ".." + "/"  # written apart, so that this file does not point outside itself
    assert reads_outside(test_file, f'SHARED = Path(__file__).parent / "{up * 3}shared/vectors.json"')
    assert reads_outside(test_file, "ROOT = Path(__file__).resolve().parents" + "[3]")
    assert reads_outside(ROOT / "docs" / "x.md", "see /" + "work/shared/DESIGN.md")
    assert not reads_outside(test_file, "ROOT = Path(__file__).resolve().parents" + "[2]")
    assert not reads_outside(ROOT / "docs" / "x.md", f"[the README]({up}README.md)")


def test_a_copy_with_nothing_beside_it_collects_every_test_and_runs_the_vector_tests(tmp_path):
    # GIVEN the repository's files alone in a fresh folder (as a clone from a public host)
    copy = tmp_path / "qr-terminal"
    for path in tracked_text_files():
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    env = {**os.environ, "PYTHONPATH": str(copy), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*pytest, *args], cwd=copy, capture_output=True, text=True, timeout=300, env=env)

    # WHEN its tests are collected, and the tests of the published vectors run there
    collected = run("--collect-only")
    ran = run("tests/core/test_payloads.py", "tests/core/test_guard.py", "-x")
    # THEN every test collects, from the copy's own files, and the vector tests pass
    assert collected.returncode == 0, collected.stdout[-3000:]
    assert " error" not in collected.stdout.splitlines()[-1]
    where = subprocess.run(
        [sys.executable, "-c", "import terminal, tests; print(terminal.__file__, tests.__file__)"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert all(Path(p).is_relative_to(copy) for p in where.stdout.split())
    assert ran.returncode == 0 and " passed" in ran.stdout.splitlines()[-1], ran.stdout[-3000:]
