"""How long the till's TCP line is deaf while a flood is dropped (issue #15 item 10): a till link on a loopback
port, a client that sends an N MB line then PING, and the seconds until ERR 413 and PONG are back.

    .venv/bin/python bench/till_line_bench.py            # 10 MB, 3 runs
    .venv/bin/python bench/till_line_bench.py --mb 50

Before the bulk reader it was about 40 s for 10 MB on a Pi-class machine (a step per byte); a figure, never a test.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.devices.till_link import TillLink


def flood_seconds(megabytes: int) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    link = TillLink(f"tcp:{port}", lambda event: None, currency="INR", auth="off").start()
    try:
        for _ in range(200):
            try:
                till = socket.create_connection(("127.0.0.1", port), timeout=120)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        lines = till.makefile("rb")
        lines.readline()  # HELLO
        start = time.perf_counter()
        flood = b"X" * megabytes * 1_000_000 + b"\r\nPING\r\n"
        threading.Thread(target=till.sendall, args=(flood,), daemon=True).start()
        answers = [lines.readline().strip() for _ in range(2)]
        seconds = time.perf_counter() - start
        assert answers[1] == b"PONG 2", answers
        till.close()
        return seconds
    finally:
        link.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = sorted(flood_seconds(args.mb) for _ in range(args.runs))
    print(
        f"till line: {args.mb} MB line dropped, PING answered after {figures[len(figures) // 2]:.3f} s "
        f"(median of {args.runs}; min {figures[0]:.3f} s, max {figures[-1]:.3f} s)"
    )


if __name__ == "__main__":
    main()
