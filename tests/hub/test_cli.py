"""The commands: 'qr-hub enroll|revoke|terminals|migrate' and 'qr-terminal enroll', as a shop owner runs them."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from hub.cli import main as qr_hub
from terminal.backends.base import BackendError
from terminal.backends.http import HttpBackend
from terminal.cli import main as qr_terminal
from tests.hub.running import RunningHub


def _code(capsys: pytest.CaptureFixture[str], db: str, terminal: str = "T1") -> str:
    assert qr_hub(["enroll", "--db", db, "--terminal", terminal, "--shop", "Chai Point"]) == 0
    return capsys.readouterr().out.splitlines()[0]


def test_enrolling_stores_the_secret_in_a_private_file_and_the_terminal_signs_with_it(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('manager_pin = "kept"\n')
    with RunningHub(sqlite_url) as hub:
        code = _code(capsys, sqlite_url)
        assert qr_terminal(["enroll", hub.url, code, "--secrets", str(secrets_file)]) == 0
        assert "Enrolled as terminal T1 (shop Chai Point)" in capsys.readouterr().out
        stored = tomllib.loads(secrets_file.read_text())
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600 and stored["manager_pin"] == "kept"
        backend = HttpBackend(hub.url, stored["device_token"], timeout=5)
        backend.probe()
        backend.close()


def test_a_code_used_twice_is_refused_and_the_secrets_file_is_untouched(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    with RunningHub(sqlite_url) as hub:
        code = _code(capsys, sqlite_url)
        assert qr_terminal(["enroll", hub.url, code, "--secrets", str(first)]) == 0
        capsys.readouterr()
        assert qr_terminal(["enroll", hub.url, code, "--secrets", str(second)]) == 1
        assert "this enrollment code was used already" in capsys.readouterr().err
        assert not second.exists()


def test_enroll_refuses_plain_http_to_another_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert qr_terminal(["enroll", "http://hub.example.com", "ABCD", "--secrets", str(tmp_path / "s")]) == 2
    assert "https" in capsys.readouterr().err


def test_revoke_and_terminals(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with RunningHub(sqlite_url) as hub:
        backend = HttpBackend(hub.url, hub.enroll("T1"), timeout=5)
        assert qr_hub(["revoke", "--db", sqlite_url, "T1"]) == 0
        assert qr_hub(["terminals", "--db", sqlite_url]) == 0
        assert "revoked" in capsys.readouterr().out.splitlines()[-1]
        with pytest.raises(BackendError):
            backend.probe()
        backend.close()
        assert qr_hub(["revoke", "--db", sqlite_url, "T9"]) == 1


def test_commands_on_a_database_without_schema_say_to_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert qr_hub(["terminals", "--db", url]) == 2
    assert f"run: qr-hub migrate --db {url}" in capsys.readouterr().err
    assert qr_hub(["migrate", "--db", url]) == 0
    assert qr_hub(["terminals", "--db", url]) == 0


def test_a_database_that_cannot_be_reached_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert qr_hub(["terminals", "--db", "postgresql://hub@/nothing?host=/nonexistent-dir"]) == 2
    assert "cannot be used" in capsys.readouterr().err


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    from hub.cli import load_secrets

    secrets_file = tmp_path / "hub-secrets.toml"
    secrets_file.write_text('admin_token = "fixture-not-real"\n')
    secrets_file.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        load_secrets(secrets_file)
    secrets_file.chmod(0o600)
    assert load_secrets(secrets_file)["admin_token"] == "fixture-not-real"


UNREACHABLE = "postgresql://hub@/nothing?host=/nonexistent-dir"


def test_serve_refuses_an_unknown_time_zone_before_touching_the_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert qr_hub(["serve", "--db", UNREACHABLE, "--timezone", "Mars/Olympus"]) == 2
    assert capsys.readouterr().err == (
        "qr-hub: unknown time zone 'Mars/Olympus': give an IANA name such as Asia/Kolkata, America/Sao_Paulo or UTC\n"
    )


def test_serve_reads_the_time_zone_from_qr_hub_timezone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QR_HUB_TIMEZONE", "Asia/Kolkatta")
    assert qr_hub(["serve", "--db", UNREACHABLE]) == 2
    assert "unknown time zone 'Asia/Kolkatta'" in capsys.readouterr().err
