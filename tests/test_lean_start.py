"""What each ``qr-terminal`` subcommand imports: only its own module under terminal.commands, and ``run`` starts
without the demo, the sandbox, the hub, segno, another command's libraries, or the libraries it keeps out; a
pending migration of its journal is applied by a child process, so sqlite-utils never loads into ``run``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli import COMMANDS
from terminal.commands.run import PYGAME_UNUSED
from terminal.config.secrets import TOKEN_ENV
from terminal.store.journal import CHILD_ENV, Journal
from terminal.store.migrations import NAMES

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
modules = sorted(m for m in sys.modules if sys.modules[m] is not None)
print(json.dumps({"code": code, "modules": modules, "launched": globals().get("launched", [])}))
"""

#: Records each process the CLI starts (Python's audit event ``subprocess.Popen``): its argv and the names in its
#: environment.
LAUNCHES = """
import sys
launched = []
sys.addaudithook(
    lambda event, args: event == "subprocess.Popen" and launched.append([list(map(str, args[1])), sorted(args[3])])
)
"""

#: Stops the loop (as systemd does, with SIGTERM) once it has run a moment: the ready screen, the QR drawn at
#: start and the journal's check are behind it.
STOP_SOON = "import os, signal, threading; threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()\n"


def ran(*argv: str, before: str = "", env: dict[str, str] = ENV) -> dict:
    """The CLI run in a child with ``argv``: its exit code, the modules it imported and the processes it started."""
    child = subprocess.run(
        [sys.executable, "-c", before + CHILD, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    return {**json.loads(child.stdout.splitlines()[-1]), "stderr": child.stderr}


def imported(*argv: str, before: str = "") -> tuple[int, list[str]]:
    result = ran(*argv, before=before)
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
    # what run keeps out (UNUSED, pygame's parts it never uses, and the mixer with no [voice]), and the parts
    # this config does not fit
    assert under(modules, "numpy", "pandas", "charset_normalizer", "chardet", "pygame.mixer") == []
    assert under(modules, *PYGAME_UNUSED) == [] and "pygame.imageext" in PYGAME_UNUSED
    assert under(modules, "escpos", "terminal.devices.buttons", "terminal.devices.pole_link") == []


def test_run_keeps_pygame_parts_out_without_a_word_on_stderr(tmp_path):
    # pygame warns when it cannot import a part it imports for everyone ("import sprite: …"); run asked for that
    config = a_config(tmp_path)
    config.write_text(config.read_text().replace("fullscreen = false", "fullscreen = true"))  # hides the pointer
    result = ran("run", "--config", str(config), before=STOP_SOON, env={**ENV, "PYTHONWARNINGS": "error"})
    assert result["code"] == 0 and "terminal.app" in result["modules"]
    assert "pygame.display" in result["modules"] and under(result["modules"], *PYGAME_UNUSED) == []
    assert "Warning" not in result["stderr"] and "Traceback" not in result["stderr"]


#: What sqlite-utils brings with it (the schema tool: only for a migration).
SCHEMA_TOOL = ("sqlite_utils", "click", "dateutil", "pluggy", "tabulate", "sqlite_fts4")


def migration_children(result: dict) -> list[list]:
    return [launch for launch in result["launched"] if "terminal.store.migrations" in launch[0]]


def test_run_on_a_new_journal_has_a_child_migrate_it_and_never_imports_sqlite_utils(tmp_path):
    config = a_config(tmp_path)
    # A secret in run's environment (as systemd's EnvironmentFile may put it) stays with run.
    result = ran("run", "--config", str(config), before=LAUNCHES + STOP_SOON, env={**ENV, TOKEN_ENV: "device-token-1"})
    assert result["code"] == 0 and "terminal.app" in result["modules"]
    assert under(result["modules"], *SCHEMA_TOOL) == []
    [(argv, names)] = migration_children(result)
    assert argv[0] == sys.executable  # the same Python, and the same package (its sys.path, in PYTHONPATH)
    assert set(names) <= {*CHILD_ENV, "PYTHONPATH", "PYTHONIOENCODING"}  # no token or key
    with sqlite3.connect(tmp_path / "journal.db") as db:
        assert [name for (name,) in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")] == list(NAMES)


def test_run_on_an_up_to_date_journal_starts_no_migration_child(tmp_path):
    config = a_config(tmp_path)
    Journal(tmp_path / "journal.db").close()  # migrated here, as the run before this one did
    result = ran("run", "--config", str(config), before=LAUNCHES + STOP_SOON)
    assert result["code"] == 0 and "terminal.app" in result["modules"]
    assert migration_children(result) == []
    assert under(result["modules"], *SCHEMA_TOOL) == []
