"""The manager PIN: scrypt hashes, and ``qr-terminal set-pin`` writing the secrets file and clearing the lockout."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import stat
import subprocess
import sys
import termios
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from terminal.core.pin import PinLock
from terminal.manager_pin import PinChecker, PinError, check_new_pin, hash_pin, parse_hash, read_hash, verify_pin
from terminal.store.journal import Journal

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
CONFIG = """
[terminal]
id = "T1"
journal = "journal.db"
[merchant]
name = "Shop"
[payee]
ids = ["shop@bank"]
[backend]
url = "http://127.0.0.1:9"
[secrets]
file = "secrets.toml"
"""


def test_hash_is_salted_and_slow_and_verifies_only_the_right_pin():
    one, two = hash_pin("2580"), hash_pin("2580")
    assert one != two  # a fresh salt each time
    n, r, p, salt, digest = parse_hash(one)
    assert (n, r, p, len(salt), len(digest)) == (2**14, 8, 1, 16, 32)
    assert verify_pin("2580", one) and not verify_pin("2581", one) and "2580" not in one


@pytest.mark.parametrize("stored", ["", "2580", "scrypt$1$8$1$AAAA$BBBB", "pbkdf2$1$2$3$4$5", "scrypt$16384$8$1$!$!"])
def test_a_damaged_hash_is_refused_with_what_to_do(stored):
    with pytest.raises(PinError, match="set-pin"):
        parse_hash(stored)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "1111", "1234", "98765", "0000"])
def test_weak_or_malformed_pins_are_refused(pin):
    with pytest.raises(PinError):
        check_new_pin(pin)


def setup(tmp_path, secrets_text='device_token = "device-token-for-tests"\n# keep me\n'):
    (tmp_path / "terminal.toml").write_text(CONFIG)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(secrets_text)
    secrets.chmod(0o600)
    return secrets


def set_pin(tmp_path, typed):
    return subprocess.run(
        [sys.executable, "-m", "terminal", "set-pin", "--config", str(tmp_path / "terminal.toml"), "--stdin"],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )


def test_set_pin_writes_the_hash_keeps_the_rest_and_clears_the_lockout(tmp_path):
    secrets = setup(tmp_path)
    journal = Journal(tmp_path / "journal.db")
    journal.save_pin_lock(PinLock(0, datetime.now(UTC) + timedelta(minutes=5)), datetime.now(UTC))
    journal.close()
    run = set_pin(tmp_path, "2580\n2580\n")
    assert run.returncode == 0, run.stderr
    assert "Manager PIN set" in run.stdout and "2580" not in run.stdout + run.stderr
    data = tomllib.loads(secrets.read_text())
    assert data["device_token"] == "device-token-for-tests" and "# keep me" in secrets.read_text()
    assert verify_pin("2580", data["manager_pin"]) and stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert PinChecker(secrets)("2580") is True and PinChecker(secrets)("0852") is False
    journal = Journal(tmp_path / "journal.db")
    assert journal.pin_lock() == PinLock()
    journal.close()
    # Setting it again replaces the line rather than adding a second one (which TOML would refuse).
    assert set_pin(tmp_path, "7391\n7391\n").returncode == 0
    assert secrets.read_text().count("manager_pin") == 1 and PinChecker(secrets)("7391") is True


@pytest.mark.parametrize(
    ("typed", "said"), [("2580\n2581\n", "differ"), ("1234\n1234\n", "too easy"), ("12\n12\n", "4 to 8 digits")]
)
def test_set_pin_refuses_and_changes_nothing(tmp_path, typed, said):
    secrets = setup(tmp_path)
    before = secrets.read_text()
    run = set_pin(tmp_path, typed)
    assert run.returncode == 1 and said in run.stderr and secrets.read_text() == before


def test_no_pin_and_a_damaged_pin_in_the_secrets_file(tmp_path):
    secrets = setup(tmp_path)
    assert read_hash(secrets) is None and PinChecker(secrets)("2580") is None
    secrets.write_text('device_token = "device-token-for-tests"\nmanager_pin = "2580"\n')
    run = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(tmp_path / "terminal.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert run.returncode == 2 and "manager_pin" in run.stderr and "set-pin" in run.stderr
    assert "2580" not in run.stderr


# --- set-pin when there is nothing to read ----------------------------------------------------------


@pytest.mark.parametrize("flags", [["--stdin"], []])
def test_set_pin_with_stdin_closed_says_so_and_changes_nothing(tmp_path, flags):
    secrets = setup(tmp_path)
    before = secrets.read_text()
    command = [sys.executable, "-m", "terminal", "set-pin", "--config", str(tmp_path / "terminal.toml"), *flags]
    # `<&-`: started with stdin closed; a new session: no terminal for getpass to fall back to either.
    run = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
        start_new_session=True,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr == "qr-terminal set-pin: no PIN given (the input ended); nothing changed\n"
    assert secrets.read_text() == before


def as_a_shell_starts_a_foreground_job():
    """In the child: the pty is its controlling terminal and Ctrl-C / Ctrl-\\ act as they do by default, as a shell
    starts a foreground job. (Whole runs twice saw the child inherit SIGINT and SIGQUIT ignored from pytest's
    process — the pair C's system() ignores while it waits — and wait forever at the prompt.)"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def at_the_prompt(tmp_path, typed):
    """set-pin at a terminal (a pty it controls), ``typed`` once it asks; (exit code, what the terminal showed)."""
    master, slave = os.openpty()
    command = [sys.executable, "-m", "terminal", "set-pin", "--config", str(tmp_path / "terminal.toml")]
    proc = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=ENV,
        start_new_session=True,
        preexec_fn=as_a_shell_starts_a_foreground_job,
    )
    os.close(slave)
    shown = b""
    try:
        while b"New manager PIN" not in shown:
            assert select.select([master], [], [], 30)[0], shown
            shown += os.read(master, 1024)
        os.write(master, typed)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # say what the child was doing, not only that it did not end
            raise AssertionError(f"set-pin did not end after {typed!r}: {_process_state(proc.pid)}") from None
        while select.select([master], [], [], 0.2)[0]:
            shown += os.read(master, 1024)
    except OSError:  # EIO: the child closed the terminal
        pass
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    return code, shown.decode()


def _process_state(pid):
    """The lines of /proc/<pid>/status about signals and state, and where the process sleeps."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    wanted = [line for line in status if line.startswith(("State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"))]
    return "; ".join(wanted) + f"; wchan {Path(f'/proc/{pid}/wchan').read_text()}"


def test_ctrl_d_at_the_set_pin_prompt_changes_nothing(tmp_path):
    secrets = setup(tmp_path)
    before = secrets.read_text()
    code, shown = at_the_prompt(tmp_path, b"\x04")  # Ctrl-D: the terminal's end of input
    assert code == 1 and "Traceback" not in shown
    assert shown.endswith("qr-terminal set-pin: no PIN given (the input ended); nothing changed\r\n")
    assert secrets.read_text() == before


def test_ctrl_c_at_the_set_pin_prompt_exits_130(tmp_path):
    secrets = setup(tmp_path)
    before = secrets.read_text()
    code, shown = at_the_prompt(tmp_path, b"\x03")  # Ctrl-C: the terminal sends SIGINT
    assert code == 130 and "Traceback" not in shown and shown.endswith("qr-terminal: stopped (Ctrl-C)\r\n")
    assert secrets.read_text() == before
