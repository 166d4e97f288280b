"""'qr-terminal demo --hub': a hub with the simulated provider and an enrolled, signing terminal; the customer's
Pay on the hub's page becomes a signed webhook and the terminal shows paid (or failed on Decline)."""

import json
import os
import subprocess
import sys

import pytest

from tests.qr import decode

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


@pytest.mark.parametrize(("customer", "result"), [("pay", "paid"), ("decline", "failed")])
def test_the_headless_hub_demo_runs_one_sale(tmp_path, customer, result):
    frames = tmp_path / "frames"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal",
            "demo",
            "--hub",
            "--headless",
            "--frames",
            str(frames),
            "--customer",
            customer,
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    assert "terminal T1 enrolled (requests signed)" in run.stderr
    assert "Traceback" not in run.stderr  # the terminal's long-poll is answered when the hub stops, not cancelled
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines[-1] == {"result": result, "expected": result, "frames": str(frames)}
    [payload] = decode(frames / "02-qr.png")
    assert "/pay/qr_sim" in payload and "am=12.50" in payload


def test_the_hub_demo_refuses_options_it_cannot_honour(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "terminal", "demo", "--hub", "--headless", "--scheme", "upi"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert run.returncode == 2 and "--hub shows the hub's pay-page link only" in run.stderr
