"""The README's two commands: scripts/demo with arguments installs what it needs, even when the install is stale."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

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


def fake_program(folder, name, body):
    """A stand-in for an OS program (apt-get, sudo) that writes how it was called to ``calls`` beside it."""
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{folder}/calls"\n{body}\n')
    path.chmod(0o755)


def install_with(*, as_nobody, sudo):
    """install_os_packages run with apt-get (and sudo, when ``sudo``) replaced by recorders: what was called."""
    with tempfile.TemporaryDirectory() as folder:  # in /tmp, where the user nobody can reach it
        return _install_with(Path(folder), as_nobody=as_nobody, sudo=sudo)


def _install_with(tmp_path, *, as_nobody, sudo):
    fake_program(tmp_path, "apt-get", "exit 0")
    if sudo:
        fake_program(tmp_path, "sudo", 'shift; exec "$@"')  # sudo -n COMMAND…: runs it (no password asked)
    tmp_path.chmod(0o755)
    (tmp_path / "calls").touch(0o666)
    (tmp_path / "calls").chmod(0o666)
    script = f'source {ROOT / "scripts" / "_packages.sh"}; install_os_packages "$@"'
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody else []
    run = subprocess.run(
        [*drop, "bash", "-c", script, "scripts/test", "no-such-package-qrt"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        cwd=tmp_path,
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return run, calls


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the root path: run as root (CI and scripts/test's machines)")
def test_as_root_a_missing_os_package_is_installed_with_apt_get():
    run, calls = install_with(as_nobody=False, sudo=False)
    assert run.returncode == 0, run.stderr
    assert calls[0].startswith("apt-get ") and calls[0].endswith(" update")
    assert calls[1].endswith(" install -y --no-install-recommends no-such-package-qrt")
    assert "sudo" not in " ".join(calls)


@pytest.mark.skipif(os.geteuid() != 0, reason="becomes the user nobody to check the sudo path: run as root")
def test_without_root_but_with_sudo_n_a_missing_os_package_is_installed_through_sudo():
    run, calls = install_with(as_nobody=True, sudo=True)
    assert run.returncode == 0, run.stderr
    assert calls[0] == "sudo -n true"  # may it, without a password?
    # each apt-get (update, then install) through sudo -n
    assert [c.split()[:3] for c in calls[1::2]] == [["sudo", "-n", "env"]] * 2
    assert [c.split()[:2] for c in calls[2::2]] == [["apt-get", "-qq"]] * 2
    assert calls[-1].endswith(" install -y --no-install-recommends no-such-package-qrt")
