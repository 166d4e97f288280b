"""What each ``qr-terminal`` subcommand imports: only its own module under terminal.commands, and ``run`` starts
without the demo, the sandbox, the hub, segno, another command's libraries, or the libraries it keeps out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli import COMMANDS

from .servers import closed_port

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

#: Runs the CLI in a child, then prints what it imported (--help exits through SystemExit).
CHILD = """
import json, sys
from terminal.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if sys.modules[m] is not None)}))
"""

#: Stops the loop (as systemd does, with SIGTERM) once it has run a moment: the ready screen, the QR drawn at
#: start and the journal's check are behind it.
STOP_SOON = "import os, signal, threading; threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()\n"


def imported(*argv: str, before: str = "") -> tuple[int, list[str]]:
    child = subprocess.run(
        [sys.executable, "-c", before + CHILD, *argv], capture_output=True, text=True, env=ENV, timeout=60
    )
    result = json.loads(child.stdout.splitlines()[-1])
    return result["code"], result["modules"]


def under(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_subcommand_imports_its_own_module_and_no_other_commands(command):
    code, modules = imported(command, "--help")
    assert code == 0
    assert under(modules, "terminal.commands") == ["terminal.commands", f"terminal.commands.{COMMANDS[command][1]}"]


def a_config(tmp_path: Path) -> Path:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('device_token = "test-device-token"\n')
    secrets.chmod(0o600)
    config = tmp_path / "terminal.toml"
    config.write_text(
        f"""[terminal]
id = "T1"
journal = "{tmp_path / "journal.db"}"
[merchant]
name = "Chai Point"
[payee]
ids = ["chaipoint@okbank"]
[backend]
url = "http://127.0.0.1:{closed_port()}"
[display]
driver = "dummy"
fullscreen = false
width = 320
height = 240
[secrets]
file = "secrets.toml"
"""
    )
    return config


def test_run_starts_without_the_demo_the_sandbox_the_hub_segno_or_what_it_keeps_out(tmp_path):
    code, modules = imported("run", "--config", str(a_config(tmp_path)), before=STOP_SOON)
    assert code == 0
    assert "terminal.wiring" in modules and "terminal.app" in modules  # it did build and run the terminal
    assert under(modules, "terminal.commands") == ["terminal.commands", "terminal.commands.run"]
    unwanted = ("terminal.sandbox", "hub", "segno", "requests_toolbelt", "starlette", "sqlalchemy", "jinja2")
    assert under(modules, *unwanted) == []
    # what run keeps out (UNUSED, and the mixer with no [voice]), and the parts this config does not fit
    assert under(modules, "numpy", "pandas", "charset_normalizer", "chardet", "pygame.mixer") == []
    assert under(modules, "escpos", "terminal.devices.buttons", "terminal.devices.pole_link") == []
