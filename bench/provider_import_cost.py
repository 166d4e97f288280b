"""What talking to Razorpay or Stripe costs at start-up: our requests-based adapters vs. the providers' official
Python SDKs (the naive choice), measured as import time, peak RSS and modules loaded, each in a fresh process.

Run: .venv/bin/python bench/provider_import_cost.py [--sdk-python PATH]
PATH is a Python that has ``razorpay`` and ``stripe`` installed (they are not dependencies of the terminal), e.g.
``python3 -m venv /tmp/sdk && /tmp/sdk/bin/pip install razorpay stripe``. Without it only our side is measured.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import resource, sys, time
started = time.perf_counter()
{statement}
took = (time.perf_counter() - started) * 1000
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(sys.modules))
"""
OURS = {
    "baseline: python itself": "pass",
    "requests (what we use)": "import requests",
    "our Razorpay + Stripe adapters": "import terminal.backends.razorpay, terminal.backends.stripe",
}
SDKS = {
    "razorpay SDK": "import razorpay",
    "stripe SDK": "import stripe",
    "stripe SDK + StripeClient": "import stripe; stripe.StripeClient('sk_test_bench')",
}


def measure(python: str, statement: str, runs: int) -> tuple[float, float, int]:
    """Median import ms, median peak RSS MB, modules loaded — each run a fresh interpreter."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", PROBE.format(statement=statement)], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.split()
        samples.append((float(out[0]), float(out[1]), int(out[2])))
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), samples[0][2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk-python", default=None, help="a Python with the razorpay and stripe SDKs installed")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rows = [(name, measure(sys.executable, statement, args.runs)) for name, statement in OURS.items()]
    if args.sdk_python:
        rows.append(("baseline: the SDK's python", measure(args.sdk_python, "pass", args.runs)))
        rows += [(name, measure(args.sdk_python, statement, args.runs)) for name, statement in SDKS.items()]
    print(f"{'':34s}{'import ms':>10s}{'peak RSS MB':>13s}{'modules':>9s}")
    for name, (ms, rss, modules) in rows:
        print(f"{name:34s}{ms:10.1f}{rss:13.1f}{modules:9d}")


if __name__ == "__main__":
    main()
