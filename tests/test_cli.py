"""The command line as integrators and docs use it: the demo's automation form and the sandbox."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .qr import decode

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def qr_terminal(*args, timeout=90):
    return subprocess.run(
        [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


@pytest.mark.parametrize(
    ("customer", "result", "screens", "extra"),
    [
        ("pay", "paid", ["idle", "entry", "qr", "paid"], []),
        ("decline", "failed", ["idle", "entry", "qr", "failed"], []),
        ("ignore", "expired", ["idle", "entry", "qr", "expired"], ["--ttl", "2"]),
    ],
)
def test_the_headless_demo_runs_one_sale_as_the_customer_acts(tmp_path, customer, result, screens, extra):
    frames = tmp_path / "frames"
    db = tmp_path / "demo.db"
    run = qr_terminal(
        "demo",
        "--headless",
        "--frames",
        str(frames),
        "--amount",
        "12.50",
        "--customer",
        customer,
        "--db",
        str(db),
        *extra,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    transitions = [(line["from"], line["to"]) for line in lines if "to" in line]
    assert transitions == [(None, "creating"), ("creating", "awaiting_payment"), ("awaiting_payment", result)]
    assert lines[-1] == {"result": result, "expected": result, "frames": str(frames)}
    written = sorted(p.name for p in frames.glob("*.png"))
    assert written == [f"{i:02d}-{name}.png" for i, name in enumerate(screens)]
    [payload] = decode(frames / "02-qr.png")
    assert "am=12.50" in payload and "tr=T1-000001" in payload
    assert db.exists()


def test_the_demo_refuses_a_bad_amount_with_exit_2(tmp_path):
    run = qr_terminal("demo", "--headless", "--frames", str(tmp_path), "--amount", "12.505")
    assert run.returncode == 2 and "2 decimal places" in run.stderr and "Traceback" not in run.stderr


def test_the_demo_says_when_it_falls_back_to_headless(tmp_path):
    env = {k: v for k, v in ENV.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    run = subprocess.run(
        [sys.executable, "-m", "terminal", "demo", "--frames", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    assert "No display found: running headless" in run.stderr


def test_qr_terminal_sandbox_serves_the_contract_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        banner = proc.stdout.readline()
        url = banner.split(" at ")[1].split("/v1")[0]
        reply = requests.get(f"{url}/v1/orders", headers={"Authorization": "Bearer sandbox-device-token"}, timeout=5)
        assert reply.status_code == 200 and reply.json() == {"orders": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_the_demo_is_interactive_when_there_is_a_display_and_stops_cleanly_on_sigterm():
    env = {**ENV, "SDL_VIDEODRIVER": "offscreen"}  # a real (offscreen) window: the demo takes it as a display
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal", "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        banner = proc.stderr.readline()
        assert banner.startswith("Demo: type an amount and press Enter.")
        page = banner.split("Customer pages: ")[1].split("/pay/")[0]
        assert (
            requests.get(
                f"{page}/v1/orders", headers={"Authorization": "Bearer sandbox-device-token"}, timeout=5
            ).status_code
            == 200
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_the_demo_logs_the_paid_pattern_on_the_mock_pins(tmp_path):
    log = tmp_path / "gpio.log"
    run = qr_terminal(
        "demo",
        "--headless",
        "--frames",
        str(tmp_path / "f"),
        "--amount",
        "12.50",
        "--customer",
        "pay",
        "--gpio-log",
        str(log),
    )
    assert run.returncode == 0, run.stderr
    changes = [line.split() for line in log.read_text().splitlines()]
    green_on = next(float(t) for t, pin, value in changes if pin == "GPIO5" and value == "1")
    amber = [(float(t), v) for t, pin, v in changes if pin == "GPIO26"]
    assert amber[0][1] == "1" and amber[0][0] < green_on  # amber while the QR waited, then green
    beeps_after_paid = [v for t, pin, v in changes if pin == "GPIO12" and float(t) >= green_on]
    assert beeps_after_paid == ["1", "0", "1", "0"]  # the double short beep
    assert not any(pin == "GPIO6" and v == "1" for _, pin, v in changes)  # red never lit


def test_the_demo_prints_a_receipt_carrying_the_amount_and_reference(tmp_path):
    receipts = tmp_path / "receipts"
    run = qr_terminal(
        "demo",
        "--headless",
        "--frames",
        str(tmp_path / "f"),
        "--amount",
        "12.50",
        "--customer",
        "pay",
        "--receipts",
        str(receipts),
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in receipts.iterdir()) == ["00-T1-000001.bin", "00-T1-000001.txt"]
    data = (receipts / "00-T1-000001.bin").read_bytes()
    assert data.startswith(b"\x1b@") and b"INR 12.50" in data and b"T1-000001" in data
    assert "PAID" in (receipts / "00-T1-000001.txt").read_text()


# --- arguments the demo cannot honour: refused at once, one sentence, nothing sold --------------------


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        ("99999999", "--amount 99999999: the keypad refuses it (Maximum is ₹10,000,000.00)"),  # one digit too many
        ("0", "--amount 0: the keypad refuses it (Type an amount above zero)"),
        ("0.00", "--amount 0.00: the keypad refuses it (Type an amount above zero)"),
    ],
)
def test_the_demo_refuses_an_amount_the_keypad_cannot_take_and_sells_nothing(tmp_path, amount, said):
    run = qr_terminal("demo", "--headless", "--frames", str(tmp_path / "f"), "--amount", amount, timeout=30)
    assert run.returncode == 2 and run.stderr == f"qr-terminal demo: {said}\n"
    assert run.stdout == ""  # no sale was started


def test_the_demo_types_the_largest_amount_its_keypad_takes(tmp_path):
    run = qr_terminal("demo", "--headless", "--frames", str(tmp_path / "f"), "--amount", "10000000", timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[0])["amount"] == "10000000.00"


def unusable(tmp_path, option):
    """A path the demo cannot use for ``option``: under a file (for files), or a file (for folders)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return str(blocker / "x") if option in ("--db", "--gpio-log") else str(blocker)


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("--frames", "that is a file, not a folder"),
        ("--receipts", "that is a file, not a folder"),
        ("--db", "cannot write it (Not a directory)"),
        ("--gpio-log", "cannot write it (Not a directory)"),
    ],
)
def test_the_demo_refuses_a_path_it_cannot_write_before_the_sale(tmp_path, option, said):
    path = unusable(tmp_path, option)
    args = ["--frames", str(tmp_path / "f")] if option != "--frames" else []
    run = qr_terminal("demo", "--headless", *args, option, path, timeout=30)
    assert run.returncode == 2 and run.stderr == f"qr-terminal demo: {option} {path}: {said}\n"
    assert run.stdout == ""  # refused before the sale, not after it


def test_the_demo_refuses_a_db_that_is_not_a_journal(tmp_path):
    db = tmp_path / "notes.txt"
    db.write_text("shopping list\n" * 100)
    run = qr_terminal("demo", "--headless", "--frames", str(tmp_path / "f"), "--db", str(db), timeout=30)
    assert run.returncode == 2 and run.stderr.startswith(f"qr-terminal demo: --db: cannot open the journal {db}")
    assert "Traceback" not in run.stderr and db.read_text() == "shopping list\n" * 100


def test_the_sandbox_refuses_a_port_out_of_range():
    run = qr_terminal("sandbox", "--port", "99999", timeout=30)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert (
        run.stderr.splitlines()[-1]
        == "qr-terminal sandbox: error: argument --port: '99999' is not a port from 0 to 65535"
    )


# --- Ctrl-C in scripts/demo: the clean stop, exit 130, no traceback --------------------------------------

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo"


def ctrl_c_once_ready(args, env, ready, stream):
    """Run scripts/demo, wait for the line ``ready`` on ``stream``, press Ctrl-C (SIGINT); (code, stdout, stderr)."""
    proc = subprocess.Popen([str(DEMO), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        seen = []
        for line in getattr(proc, stream):
            seen.append(line)
            if ready in line:
                break
        else:
            raise AssertionError(f"never ready: {seen}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, "".join(seen) + out if stream == "stdout" else out, err


def test_ctrl_c_in_the_windowed_demo_stops_it_cleanly_with_130():
    env = {**ENV, "SDL_VIDEODRIVER": "offscreen"}  # a real (offscreen) window: the demo takes it as a display
    code, _, err = ctrl_c_once_ready([], env, "Manager menu", "stderr")
    assert code == 130 and "Traceback" not in err and err.endswith("qr-terminal: stopped (Ctrl-C)\n")


def test_ctrl_c_in_the_headless_demo_stops_it_cleanly_with_130(tmp_path):
    args = ["--headless", "--frames", str(tmp_path / "f"), "--customer", "ignore"]
    code, out, err = ctrl_c_once_ready(args, ENV, '"to": "awaiting_payment"', "stdout")
    assert code == 130 and "Traceback" not in err and err.endswith("qr-terminal: stopped (Ctrl-C)\n")
    assert json.loads(out.splitlines()[-1]) == {
        "result": "stopped",
        "expected": "expired",
        "frames": str(tmp_path / "f"),
    }
