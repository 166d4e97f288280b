"""The chaos test at a small N (scripts/chaos --sales 1000 is the full run; its figures are in the README)."""

import re
import subprocess
import sys
from pathlib import Path

CHAOS = Path(__file__).resolve().parents[1] / "scripts" / "chaos.py"


def test_killing_the_terminal_at_random_loses_nothing_and_doubles_nothing():
    run = subprocess.run(
        [sys.executable, str(CHAOS), "--sales", "40", "--seed", "7"], capture_output=True, text=True, timeout=600
    )
    last = run.stdout.strip().splitlines()[-1]
    figures = dict(pair.split("=") for pair in last.split())
    assert figures["sales"] == "40", last
    assert (figures["lost"], figures["duplicate_orders"], figures["unresolved"]) == ("0", "0", "0"), last
    assert run.returncode == 0, run.stderr
    assert int(re.search(r"chaos: (\d+) kills", run.stderr).group(1)) >= 1  # it did pull the plug
