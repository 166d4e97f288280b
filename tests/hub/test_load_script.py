"""The hub's load script runs end to end (a smoke run) and prints its figures; lost and duplicated payments are 0
(those are correctness, not speed: the latency figures themselves are not asserted)."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "hub_load.py"


def test_the_quick_load_run_prints_latencies_and_loses_nothing() -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if "webhook→terminal-notified" in line]
    assert len(lines) == 2, run.stdout  # steady, and with a replica SIGKILLed
    for line in lines:
        assert re.search(r"p50 \d+\.\d ms, p95 \d+\.\d ms, lost 0, duplicated 0$", line), line
