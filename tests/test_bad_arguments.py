"""Every ``qr-terminal`` subcommand given bad arguments (issue #15, item 12): a clear sentence and a non-zero
exit, never a traceback. A subcommand added later without a case here fails the coverage test."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
CONFIG = """
[terminal]
id = "T1"
journal = "journal.db"
[merchant]
name = "Shop"
[payee]
ids = ["shop@okbank"]
[backend]
url = "http://127.0.0.1:9"
[secrets]
file = "secrets.toml"
"""

# {good}: a config that loads; {missing}: no such file; {file}: a plain file (not a folder, not a journal, not
# TOML); {under}: a path below that file; {badtoml}/{unknown}: a TOML syntax error / an unknown section;
# {cache}: a folder for the voice's clips.
CASES = [
    ("run", "--config", "{missing}"),
    ("run", "--config", "{badtoml}"),
    ("run", "--config", "{unknown}"),
    ("sandbox", "--port", "99999"),
    ("sandbox", "--port", "eighty"),
    ("doctor", "--config", "{missing}"),
    ("doctor", "--config", "{badtoml}"),
    ("report", "--db", "{missing}"),
    ("report", "--db", "{file}"),
    ("report", "--config", "{unknown}"),
    ("reconcile", "--config", "{missing}"),
    ("reconcile", "--config", "{good}", "--date", "2026-13-45"),
    ("reconcile", "--config", "{good}", "--db", "{file}"),
    ("set-pin", "--config", "{missing}"),
    ("set-pin", "--config", "{good}", "--stdin"),  # stdin closed
    ("set-pin", "--config", "{good}"),  # stdin closed, no terminal
    ("say", "--amount", "abc"),
    ("say", "--amount", "1.00", "--currency", "XYZ"),
    ("say", "--volume", "loud"),
    ("say", "--amount", "1.00", "--volume", "200"),
    ("say", "--amount", "1.00", "--cache", "{cache}", "--out", "{under}"),
    ("say", "--amount", "1.00", "--cache", "{under}", "--out", "{cache}/said.wav"),
    ("voice-cache", "--config", "{missing}"),
    ("payload", "parse", "garbage"),
    ("payload", "build", "--scheme", "upi", "--payee", "x@y", "--name", "Shop", "--amount", "1.234"),
    ("payload",),
    ("demo", "--headless", "--amount", "99999999"),
    ("demo", "--headless", "--amount", "0"),
    ("demo", "--headless", "--amount", "twelve"),
    ("demo", "--headless", "--frames", "{file}"),
    ("demo", "--headless", "--receipts", "{file}"),
    ("demo", "--headless", "--db", "{under}"),
    ("demo", "--headless", "--db", "{file}"),
    ("demo", "--headless", "--gpio-log", "{under}"),
    ("demo", "--headless", "--size", "10x10"),
    ("demo", "--headless", "--ttl", "0"),
    ("demo", "--headless", "--till", "native:tcp:99999"),
    ("demo", "--headless", "--till", "fax:/dev/ttyUSB0"),
    ("demo", "--headless", "--till", "native:tcp:9100", "--sales", "0"),
    ("demo", "--headless", "--voice", "klingon"),
    ("demo", "--headless", "--currency", "XYZ"),
    ("demo", "--headless", "--hub", "--scheme", "upi"),
    ("enroll", "http://hub.example.com", "ABCD-EFGH-JKLM", "--secrets", "{cache}"),  # plain http off loopback
    ("enroll", "http://127.0.0.1:9", "ABCD-EFGH-JKLM", "--config", "{missing}"),
    ("enroll", "http://127.0.0.1:9", "ABCD-EFGH-JKLM", "--config", "{good}"),  # no hub answers
    ("enroll", "http://127.0.0.1:9"),
    ("archive", "--db", "{missing}"),  # no --before
    ("archive", "--before", "7 Nov", "--db", "{missing}"),
    ("archive", "--before", "2026-11-07", "--db", "{missing}"),
    ("archive", "--before", "2026-11-07", "--db", "{file}"),
    ("archive", "--before", "2026-11-07", "--config", "{unknown}"),
    ("no-such-command",),
    (),
]


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "terminal.toml").write_text(CONFIG)
    (tmp_path / "secrets.toml").write_text('device_token = "device-token-for-tests"\n')
    (tmp_path / "secrets.toml").chmod(0o600)
    (tmp_path / "bad.toml").write_text(CONFIG.replace('name = "Shop"', "name = Shop"))
    (tmp_path / "unknown.toml").write_text(CONFIG.replace("[terminal]", "[terminl]"))
    (tmp_path / "plain").write_text("a plain file\n" * 100)
    return {
        "good": tmp_path / "terminal.toml",
        "missing": tmp_path / "nowhere.toml",
        "file": tmp_path / "plain",
        "under": tmp_path / "plain" / "x",
        "badtoml": tmp_path / "bad.toml",
        "unknown": tmp_path / "unknown.toml",
        "cache": tmp_path / "cache",
    }


@pytest.mark.parametrize("args", CASES, ids=lambda args: " ".join(args) or "(nothing)")
def test_bad_arguments_get_a_sentence_and_a_non_zero_exit_never_a_traceback(tmp_path, paths, args):
    argv = [arg.format(**paths) for arg in args]
    command = [sys.executable, "-m", "terminal", *argv]
    # stdin closed and no terminal (a new session): nothing to prompt on, as under a service manager.
    run = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
        cwd=tmp_path,
        start_new_session=True,
    )
    output = run.stdout + run.stderr
    assert run.returncode not in (0, -2) and "Traceback" not in output, output
    said = run.stderr.strip().splitlines() or run.stdout.strip().splitlines()  # doctor reports on stdout
    assert said and said[-1].startswith(("qr-terminal", "FAIL", "ok")), output
    assert (tmp_path / "plain").read_text() == "a plain file\n" * 100  # a bad argument changes nothing


def test_every_subcommand_has_a_bad_arguments_case():
    usage = subprocess.run([sys.executable, "-m", "terminal", "--help"], capture_output=True, text=True, env=ENV)
    commands = set(re.search(r"\{([a-z,-]+)\}", usage.stdout).group(1).split(","))
    assert commands and commands <= {args[0] for args in CASES if args}
