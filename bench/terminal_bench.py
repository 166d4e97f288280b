"""Key→QR and paid→screen latency, idle CPU on the QR screen, peak RSS: ours vs. a naive peer.

Run: .venv/bin/python bench/terminal_bench.py [--quick]. Each terminal runs in its own process (so its CPU and
RSS are its own) against one sandbox process; a driver thread inside each types keys the way a USB keypad
does (events into SDL's queue) and pays through the sandbox's HTTP helper, as the customer's bank would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
import requests

HERE = Path(__file__).resolve().parent
TOKEN = "sandbox-device-token"


class Screens:
    """Frames as they are flipped: a name and a perf_counter time; waiters block until a name shows."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.log: list[tuple[str, float]] = []

    def shown(self, name: str) -> None:
        with self.cond:
            if not self.log or self.log[-1][0] != name:
                self.log.append((name, time.perf_counter()))
                self.cond.notify_all()

    def wait_for(self, name: str, after: int, timeout: float = 30) -> float:
        with self.cond:
            ok = self.cond.wait_for(lambda: any(n == name for n, _ in self.log[after:]), timeout)
            if not ok:
                raise RuntimeError(f"{name} never shown")
            return next(t for n, t in self.log[after:] if n == name)

    def mark(self) -> int:
        with self.cond:
            return len(self.log)


def press(key: int, char: str = "") -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=char, scancode=0))


def drive(screens: Screens, sandbox: str, sales: int, paid_sales: int, idle_seconds: float, order_id) -> dict:
    """Runs in a thread: types sales, pays some, measures; returns the figures."""
    time.sleep(0.5)
    key_to_qr, paid_to_screen = [], []
    for i in range(sales):
        for char in "12.50":
            press(pygame.K_KP_PERIOD if char == "." else getattr(pygame, f"K_KP{char}"), char)
            time.sleep(0.02)
        mark = screens.mark()
        t0 = time.perf_counter()
        press(pygame.K_KP_ENTER, "\r")
        key_to_qr.append(screens.wait_for("qr", mark) - t0)
        if i < paid_sales:
            time.sleep(0.2)
            mark = screens.mark()
            requests.post(f"{sandbox}/sandbox/orders/{order_id()}/pay", json={}, timeout=10).raise_for_status()
            t1 = time.perf_counter()
            paid_to_screen.append(screens.wait_for("paid", mark) - t1)
        else:
            press(pygame.K_ESCAPE)
        time.sleep(0.3)
        press(pygame.K_ESCAPE)  # back to idle
        time.sleep(0.1)
    for char in "9":
        press(getattr(pygame, f"K_KP{char}"), char)
    mark = screens.mark()
    press(pygame.K_KP_ENTER, "\r")
    screens.wait_for("qr", mark)
    time.sleep(3.5)  # let the typing burst end: measure the screen as it sits on the counter
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(idle_seconds)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    return {"key_to_qr": key_to_qr, "paid_to_screen": paid_to_screen, "idle_cpu_percent": cpu}


def run_ours(sandbox: str, sales: int, paid_sales: int, idle: float) -> dict:
    from terminal.app import App, Observer
    from terminal.backends.http import HttpBackend
    from terminal.core import guard
    from terminal.core.machine import Settings
    from terminal.core.money import Amount
    from terminal.devices.display import Display
    from terminal.store.journal import Journal

    screens = Screens()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            "B1",
            "Bench Shop",
            "INR",
            Amount(10**9, "INR"),
            guard.PayeeRules("Demo Shop", ("demo-shop@sandbox",), ("127.0.0.1",)),
            id_prefix=os.urandom(4).hex(),
        )
        journal = Journal(Path(tmp) / "j.db")
        app = App(
            settings=settings,
            backend=HttpBackend(sandbox, TOKEN, sandbox=True),
            journal=journal,
            display=Display(size=(800, 480)),
            observer=Observer(frame=lambda m, d: screens.shown(m.name)),
        )

        def order_id() -> str:
            return app.state.sale.order.id

        result: dict = {}
        driver = threading.Thread(
            target=lambda: result.update(drive(screens, sandbox, sales, paid_sales, idle, order_id)), daemon=True
        )
        driver.start()
        app.run(until=lambda a: not driver.is_alive())
        journal.close()
    return result


def run_naive(sandbox: str, sales: int, paid_sales: int, idle: float) -> dict:
    sys.path.insert(0, str(HERE))
    from naive_peer import NaiveTerminal

    screens = Screens()
    peer = NaiveTerminal(sandbox, TOKEN, screens.shown)
    result: dict = {}
    driver = threading.Thread(
        target=lambda: result.update(drive(screens, sandbox, sales, paid_sales, idle, lambda: peer.order["id"])),
        daemon=True,
    )
    driver.start()

    def stop_when_done() -> None:
        driver.join()
        peer.running = False

    threading.Thread(target=stop_when_done, daemon=True).start()
    peer.run()
    return result


def child(args: argparse.Namespace) -> None:
    run = run_ours if args.peer == "ours" else run_naive
    figures = run(args.sandbox, args.sales, args.paid, args.idle)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def segno_cost(count: int) -> list[float]:
    """What segno alone takes to encode payloads like the sandbox's (part of every key→QR)."""
    import segno

    times = []
    for i in range(max(count, 5)):
        payload = f"http://127.0.0.1:40000/pay/ord_{i:016x}?am=12.50&cu=INR&tr=B1-{i:06d}"
        started = time.perf_counter()
        segno.make_qr(payload, error="m")
        times.append(time.perf_counter() - started)
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few samples, 1 s idle (a smoke run)")
    parser.add_argument("--peer", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--sales", type=int, default=40)
    parser.add_argument("--paid", type=int, default=None)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    if args.peer:
        child(args)
        return
    if args.quick:
        args.sales, args.idle = 3, 1.0
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "terminal", "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = sandbox.stdout.readline().split(" at ")[1].split("/v1")[0]
        rows = {}
        for peer, paid in (("ours", args.paid or args.sales), ("naive", args.paid or max(2, args.sales // 4))):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--peer",
                    peer,
                    "--sandbox",
                    url,
                    "--sales",
                    str(args.sales),
                    "--paid",
                    str(paid),
                    "--idle",
                    str(args.idle),
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=900,
            )
            rows[peer] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    print(f"{'figure':38} {'ours':>12} {'naive peer':>12}  target")
    lines = [
        ("key→QR p50 (ms)", lambda r: pct(r["key_to_qr"], 0.5), ""),
        ("key→QR p95 (ms)", lambda r: pct(r["key_to_qr"], 0.95), "≤ 16"),
        ("backend paid→paid screen p50 (ms)", lambda r: pct(r["paid_to_screen"], 0.5), ""),
        ("backend paid→paid screen p95 (ms)", lambda r: pct(r["paid_to_screen"], 0.95), "≤ 100"),
        (f"idle CPU on the QR screen, {args.idle:g} s (%)", lambda r: r["idle_cpu_percent"], "≤ 1"),
        ("peak RSS (MB)", lambda r: r["peak_rss_mb"], "≤ 60"),
    ]
    for label, get, target in lines:
        print(f"{label:38} {get(rows['ours']):12.1f} {get(rows['naive']):12.1f}  {target}")
    encode = segno_cost(args.sales)
    print(f"{'  of key→QR: segno encode p50 / p95 (ms)':38} {pct(encode, 0.5):6.1f} /{pct(encode, 0.95):5.1f}")
    samples = {p: (len(r["key_to_qr"]), len(r["paid_to_screen"])) for p, r in rows.items()}
    print(
        f"samples (key→QR, paid→screen): ours {samples['ours']}, naive {samples['naive']}; "
        f"mean key→QR ours {statistics.mean(rows['ours']['key_to_qr']) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
