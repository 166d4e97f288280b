"""The bench runs end to end and prints every figure for both terminals (the figures themselves are not
asserted: speed is measured in bench/, never in timed tests)."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "terminal_bench.py"


def test_the_quick_bench_prints_every_figure_for_ours_and_the_naive_peer():
    run = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for label in ("key→QR p95", "paid→paid screen p95", "idle CPU on the QR screen", "peak RSS"):
        line = next(line for line in run.stdout.splitlines() if label in line)
        assert len(re.findall(r"\d+\.\d", line)) >= 2, line  # ours and the naive peer


def test_the_in_app_breakdown_times_every_stage_of_key_to_qr():
    run = subprocess.run([sys.executable, str(BENCH), "--breakdown", "2"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for stage in ("SDL's queue", "creating step committed", "HTTP create", "its step committed", "QR frame flipped"):
        line = next(line for line in run.stdout.splitlines() if stage in line)
        assert len(re.findall(r"-?\d+\.\d\d", line)) == 3, line  # p50, p95 and max, all measured (not nan)
