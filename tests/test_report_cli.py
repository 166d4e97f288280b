"""``qr-terminal report`` on a journal written by real sales."""

import os
import subprocess
import sys

import pytest

ENV_CMD = [sys.executable, "-m", "terminal"]


ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def qr_terminal(*args):
    return subprocess.run([*ENV_CMD, *args], capture_output=True, text=True, timeout=90, env=ENV)


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = folder / "journal.db"
    for customer, amount in (("pay", "12.50"), ("decline", "3.00"), ("pay", "7.25")):
        assert (
            qr_terminal(
                "demo",
                "--headless",
                "--frames",
                str(folder / "f"),
                "--amount",
                amount,
                "--customer",
                customer,
                "--db",
                str(db),
            ).returncode
            == 0
        )
    return db


def test_x_then_z_then_an_empty_x(journal):
    x = qr_terminal("report", "--db", str(journal))
    assert x.returncode == 0, x.stderr
    assert "paid            2  INR 19.75" in x.stdout and "failed          1  INR 3.00" in x.stdout
    z = qr_terminal("report", "--db", str(journal), "--z", "--csv")
    assert z.stdout.splitlines() == [
        "currency,status,count,total",
        "INR,paid,2,19.75",
        "INR,failed,1,3.00",
        "INR,net,,19.75",
    ]
    after = qr_terminal("report", "--db", str(journal), "--x")
    assert "no sales" in after.stdout


def test_no_journal_is_a_clear_error(tmp_path):
    run = qr_terminal("report", "--db", str(tmp_path / "missing.db"))
    assert run.returncode == 2 and "no journal at" in run.stderr
