"""The README's two commands: scripts/demo with arguments installs what it needs, even when the install is stale."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scripts_demo_with_arguments_reinstalls_a_stale_venv_and_runs(tmp_path):
    stamp = ROOT / ".venv" / ".installed-"
    if stamp.exists():
        stamp.write_text("stale\n")  # as after a pull that changed pyproject.toml
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    run = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--headless", "--frames", str(tmp_path / "f"), "--amount", "2.00"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"result": "paid"' in run.stdout and (tmp_path / "f" / "03-paid.png").exists()


# --- OS packages: installed by scripts/test itself (issue #19 item 2), never by hand or by CI alone ----------


def need_os_packages(*pairs):
    """scripts/_packages.sh's need_os_packages as a user who cannot install (nobody, no sudo)."""
    script = f'source {ROOT / "scripts" / "_packages.sh"}; need_os_packages "$@"'
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*drop, "bash", "-c", script, "scripts/test", *pairs],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"]},
    )


def test_a_missing_os_package_that_cannot_be_installed_stops_with_the_one_command_to_run():
    run = need_os_packages("sh:dash", "no-such-tool-qrt:no-such-package-qrt")
    assert run.returncode == 3 and run.stdout == ""
    assert run.stderr.endswith("    sudo apt-get install -y no-such-package-qrt\n")


def test_os_packages_that_are_there_need_nothing():
    run = need_os_packages("sh:dash", "bash:bash")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_ci_only_runs_scripts_test_which_installs_what_the_tests_need():
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "exec scripts/test -q" and not any("apt-get" in line for line in ci)
    test = [line for line in (ROOT / "scripts" / "test").read_text().splitlines() if not line.startswith("#")]
    for package in ("missing+=(espeak-ng)", "missing+=(systemd)", "missing+=(tesseract-ocr)"):
        assert any(package in line for line in test), package
