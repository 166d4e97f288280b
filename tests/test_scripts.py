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
    run = subprocess.run([str(ROOT / "scripts" / "demo"), "--headless", "--frames", str(tmp_path / "f"),
                          "--amount", "2.00"], capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"result": "paid"' in run.stdout and (tmp_path / "f" / "03-paid.png").exists()
