"""The journal at scale (issue #17): a journal of N sales made through the journal's own API, then timed: opening
it, start → ready screen, the X and Z reports, the recent-sales menu and the reconciliation's read of a day — ours
and a naive reader (every row read and summed in Python) taking turns, so both see the same machine load.

Run: .venv/bin/python bench/terminal_bench.py --journal-sales 100000
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service_env import service_environment

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPEATS = 5
#: The newest generated sale's time: an hour ago, so every order in the journal has expired by the wall clock (a
#: start then resumes nothing, as on a shop's morning) whatever the time of day the bench runs.
NOW = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
YESTERDAY = (NOW - timedelta(days=1)).astimezone().date().isoformat()


def generate(path: Path, count: int) -> float:
    """``count`` sales over 100 days (paid, expired, cancelled, failed; every 50th refunded), each through
    ``Journal.record_sale`` as the terminal writes them (creating → awaiting payment → final). Seconds taken."""
    from terminal.core.money import Amount
    from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
    from terminal.core.refund import Refund, RefundStatus
    from terminal.core.sale import Sale, SaleStatus
    from terminal.store.journal import Journal

    started = time.perf_counter()
    journal = Journal(path)
    journal.conn.execute("PRAGMA synchronous=OFF")  # making the file, not keeping it: no fsync per commit
    first = NOW - timedelta(days=100)
    finals = (SaleStatus.PAID,) * 7 + (SaleStatus.EXPIRED, SaleStatus.CANCELLED, SaleStatus.FAILED)
    for seq in range(1, count + 1):
        at = first + timedelta(seconds=seq * 100 * 86400 // count)
        amount = Amount(100 + seq % 5000, "INR")
        sale = Sale(f"B1-x-{seq:07d}", seq, f"B1-{seq:07d}", amount, SaleStatus.CREATING, at)
        journal.record_sale(sale, None, "amount entered", at)
        order = Order(
            f"ord_{seq:012d}",
            OrderStatus.PENDING,
            sale.reference,
            amount,
            QrCode("upi", f"upi://pay?pa=shop@bank&am={amount.decimal()}&tr={sale.reference}"),
            Payee("Shop", "shop@bank"),
            at + timedelta(minutes=5),
        )
        shown = Sale(sale.id, seq, sale.reference, amount, SaleStatus.AWAITING_PAYMENT, at, order=order)
        journal.record_sale(shown, "creating", "QR shown", at)
        final = finals[seq % len(finals)]
        payments = (Payment(amount, at + timedelta(seconds=20), "payer@bank", f"UTR{seq}"),) if final == "paid" else ()
        ended = Sale(sale.id, seq, sale.reference, amount, final, at, order=order, payments=payments, order_open=False)
        journal.record_sale(ended, "awaiting_payment", str(final), at + timedelta(seconds=20))
        if final == "paid" and seq % 50 == 0:
            refund = Refund(
                f"{sale.id}-R1",
                sale.id,
                sale.reference,
                order.id,
                Amount(50, "INR"),
                RefundStatus.SUCCEEDED,
                at + timedelta(minutes=1),
            )
            journal.record_refund(refund, "bench", at + timedelta(minutes=1))
    journal.close()
    return time.perf_counter() - started


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def ours(path: Path) -> dict[str, Callable[[], object]]:
    """What the terminal does, each as one call."""
    from terminal.reconciliation import local_day, ours_for
    from terminal.reports import build_report, recount
    from terminal.store.journal import Journal

    def start(journal_path: Path) -> Callable[[], None]:
        def run() -> None:
            terminal = start_app(journal_path)
            terminal.app.worker.stop()
            terminal.close()

        return run

    # Read as the report worker and the tools read it (the terminal's journal stays free for the starts timed below).
    journal = Journal.reader(path)

    def open_and_close() -> None:
        Journal(path, check=False).close()  # as run opens it: checked after the ready screen

    return {
        "open the journal": open_and_close,
        "its check, after the ready screen (a thread)": journal.damage,
        "X report, no Z yet (every sale)": lambda: build_report(journal, "x", NOW),
        # The alternative to kept totals, measured beside them: the same period summed over the ended_at index.
        "  the same summed from the rows (recount)": lambda: recount(journal, "x", "", "~"),
        "journal in a fresh process: import, open, X": fresh_process(path),
        "recent-sales menu (20)": lambda: journal.recent_sales(20),
        "reconciliation's read of a day": lambda: ours_for(journal, local_day(YESTERDAY, NOW), "B1"),
        "start → ready screen (empty journal)": start(path.parent / "empty.db"),
        f"start → ready screen ({path.stem})": start(path),
    }


FRESH = """
import re, sys, time
started = time.perf_counter()
from datetime import UTC, datetime
from terminal.reports import build_report
from terminal.store.journal import Journal
build_report(Journal(sys.argv[1], check=False), "x", datetime.now(UTC))
took = (time.perf_counter() - started) * 1000
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(took, peak, "sqlite_utils" in sys.modules)
"""


def fresh_process(path: Path) -> Callable[[], tuple[float, float, bool]]:
    """A new interpreter importing the journal and the reports, opening the journal (as ``run``: unchecked) and
    making an X report: what that costs it in ms and peak RSS (MB), and whether sqlite_utils got imported. The
    figure timed around it includes the interpreter's own start."""

    def run() -> tuple[float, float, bool]:
        done = subprocess.run([sys.executable, "-c", FRESH, str(path)], capture_output=True, text=True, check=True)
        took, peak, imported = done.stdout.split()
        FRESH_FIGURES.append((float(took), float(peak), imported == "True"))
        return FRESH_FIGURES[-1]

    return run


FRESH_FIGURES: list[tuple[float, float, bool]] = []


def start_app(journal_path: Path) -> Any:
    """A terminal built from its config and started to its ready screen, as ``run`` does (the backend, on a closed
    port, is not asked at start)."""
    from terminal.config import load
    from terminal.wiring import build_terminal

    config = write_config(journal_path)
    terminal = build_terminal(load(config))
    terminal.app.resume()
    terminal.app.render()
    return terminal


CONFIG = """
[terminal]
id = "B1"
journal = "{journal}"
[merchant]
name = "Bench Shop"
[payee]
ids = ["shop@bank"]
[backend]
url = "http://127.0.0.1:{port}"
[display]
driver = "dummy"
[secrets]
file = "{secrets}"
"""


def write_config(journal: Path) -> Path:
    """The bench terminal's config (and its secrets file) beside ``journal``, its backend on a closed port."""
    folder = journal.parent
    secrets = folder / "secrets.toml"
    secrets.write_text('device_token = "bench-device-token"\n')
    secrets.chmod(0o600)
    config = folder / "bench.toml"
    config.write_text(CONFIG.format(journal=journal, port=closed_port(), secrets=secrets))
    return config


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_from_outside(journal: Path) -> tuple[float, float]:
    """``qr-terminal run`` launched as systemd does (``NOTIFY_SOCKET`` on a datagram socket bound here) against a
    closed backend port: milliseconds from the process start to READY=1 (its ready screen is drawn), and its
    peak RSS in MB read from /proc half a second after that (the first ticks and redraws included)."""
    folder = journal.parent
    config = write_config(journal)
    address = str(folder / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(30)
        env = service_environment(NOTIFY_SOCKET=address)
        script = Path(sys.executable).with_name("qr-terminal")
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "terminal"]
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*argv, "run", "--config", str(config)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            while not listener.recv(4096).startswith(b"READY=1"):
                pass
            ready = (time.perf_counter() - started) * 1000
            time.sleep(0.5)
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = next(int(ln.split()[1]) / 1024 for ln in status.splitlines() if ln.startswith("VmHWM:"))
        except (OSError, StopIteration) as exc:
            proc.kill()
            raise RuntimeError(f"qr-terminal run never got ready: {proc.communicate()[1][-2000:]!r}") from exc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    os.unlink(address)
    return ready, peak


def naive(path: Path) -> dict[str, Callable[[], object]]:
    """What a weekend project does: every row into Python, filtered and summed there."""
    import sqlite3

    db = sqlite3.connect(path)

    def every_row(where: Callable[[tuple], bool]) -> Callable[[], object]:
        def run() -> object:
            rows = db.execute("SELECT status, amount_minor, paid_minor, started_at FROM sales").fetchall()
            return sum(r[2] or 0 for r in rows if where(r))

        return run

    return {
        "open the journal": lambda: sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone(),
        "X report, no Z yet (every sale)": every_row(lambda r: r[0] == "paid"),
        "recent-sales menu (20)": every_row(lambda r: True),
        "reconciliation's read of a day": every_row(lambda r: r[3].startswith("2026-11-30")),
    }


def main(count: int) -> None:
    import logging

    logging.disable(logging.WARNING)  # the backend is deliberately absent: its warnings are not the bench's
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{count} sales"
        made = generate(path, count)
        size = path.stat().st_size / 2**20
        print(f"journal: {count} sales through Journal.record_sale in {made:.1f} s, {size:.1f} MB")
        ours_calls, naive_calls = ours(path), naive(path)
        figures: dict[str, dict[str, list[float]]] = {}
        for _ in range(REPEATS):  # interleaved: ours, then the naive reader, then ours again…
            for name, action in ours_calls.items():
                figures.setdefault(name, {}).setdefault("ours", []).append(timed(action))
                if name in naive_calls:
                    figures[name].setdefault("naive", []).append(timed(naive_calls[name]))
        from terminal.reports import build_report
        from terminal.store.journal import Journal

        empty = Path(tmp) / "empty" / "journal.db"
        empty.parent.mkdir()
        outside: dict[str, list[tuple[float, float]]] = {"empty journal": [], path.stem: []}
        for _ in range(REPEATS):
            outside["empty journal"].append(start_from_outside(empty))
            outside[path.stem].append(start_from_outside(path))
        journal = Journal(path)
        z_ms = timed(lambda: build_report(journal, "z", NOW))
        x_after_z = timed(lambda: build_report(journal, "x", NOW + timedelta(minutes=1)))
        journal.close()
    print(f"{'at ' + str(count) + ' sales (median of ' + str(REPEATS) + ', ms)':42} {'ours':>10} {'naive':>10}")
    for name, by_peer in figures.items():
        naive_ms = f"{statistics.median(by_peer['naive']):10.1f}" if "naive" in by_peer else f"{'-':>10}"
        print(f"{name:42} {statistics.median(by_peer['ours']):10.1f} {naive_ms}")
    took = statistics.median(t for t, _, _ in FRESH_FIGURES)
    peak = max(p for _, p, _ in FRESH_FIGURES)
    imported = "imported" if any(i for _, _, i in FRESH_FIGURES) else "not imported"
    in_process = "  of which import + open + X in-process"
    print(f"{in_process:42} {took:10.1f}   (peak RSS {peak:.1f} MB, sqlite_utils {imported})")
    print(f"{'Z report (closes every sale), once':42} {z_ms:10.1f}")
    print(f"{'X report right after that Z':42} {x_after_z:10.1f}")
    for name, runs in outside.items():
        ready = statistics.median(r for r, _ in runs)
        peak = max(p for _, p in runs)
        print(f"{'qr-terminal run: start → READY=1, ' + name:42} {ready:10.1f}   (peak RSS {peak:.1f} MB)")


if __name__ == "__main__":
    import sys

    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
