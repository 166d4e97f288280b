"""Chaos test: sell N sales against the sandbox while killing the terminal with SIGKILL at random moments
(mid-create, mid-poll, mid-journal-write), restarting it each time; then compare the sandbox's orders with the
terminal's journal. Prints one line ``sales=N paid=P lost=L duplicate_orders=D unresolved=U`` and exits non-zero
unless L = D = U = 0.

    scripts/chaos --sales N [--seed S]

Each terminal run is a child process (this file with --child): a real App with SDL's dummy display, the real
journal file and HTTP to a sandbox process. A driver thread types each sale through the keypad path and plays
the customer (pay, decline, or the shopkeeper cancels), decided by the seed and the sale's number, so a sale
resumed after a kill gets the same customer.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

TOKEN = "sandbox-device-token"
FINAL = {"paid", "failed", "expired", "cancelled"}

#: The chaos terminal's config: long QR lifetimes and results (the driver, not the clock, ends each sale).
CONFIG = """
[terminal]
id = "C1"
currency = "INR"
max_amount = "10000000.00"
sale_ttl = 300
result_seconds = 600
journal = "{journal}"
[merchant]
name = "Chaos Shop"
[payee]
name = "Demo Shop"
ids = ["demo-shop@sandbox"]
url_hosts = ["{host}"]
[backend]
url = "{sandbox}"
sandbox = true
timeout = 3
long_poll = 2
[display]
driver = "dummy"
fullscreen = false
width = 320
height = 240
[secrets]
file = "secrets.toml"
"""


def action(seed: int, seq: int) -> str:
    """The customer's (or shopkeeper's) action for sale ``seq``."""
    return random.Random(seed * 1_000_003 + seq).choice(["pay", "pay", "pay", "decline", "cancel"])


def amount(seed: int, seq: int) -> str:
    rng = random.Random(seed * 7_919 + seq)
    return f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}"


# --- the child: one terminal run -----------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    import pygame

    from terminal.config import load
    from terminal.devices.keypad import CHAR_KEYS
    from terminal.manager_pin import write_secret
    from terminal.wiring import build_terminal

    # The chaos terminal is an ordinary one, built from its config as `qr-terminal run` builds it.
    folder = args.db.parent
    (folder / "terminal.toml").write_text(
        CONFIG.format(journal=args.db.absolute(), sandbox=args.sandbox, host=args.sandbox.split("//")[1])
    )
    write_secret(folder / "secrets.toml", "device_token", TOKEN)
    terminal = build_terminal(load(folder / "terminal.toml"))
    app = terminal.app
    done = threading.Event()
    failed: list[str] = []

    def press(key: int, char: str = "") -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=char, scancode=0))

    def screen() -> str:
        shown = app.display.shown
        return shown.name if shown is not None else ""

    def wait(names: set[str], timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if screen() in names:
                return screen()
            time.sleep(0.005)
        raise TimeoutError(f"waited for {names}, screen is {screen()}")

    def drive() -> None:
        try:
            while True:
                name = wait({"idle", "qr", "paid", "failed", "cancelled", "expired", "error"})
                if name == "qr":  # a sale (maybe resumed after a kill) waits for its customer
                    sale = app.state.sale
                    what = action(args.seed, sale.seq)
                    if what == "cancel":
                        press(pygame.K_ESCAPE)
                    else:
                        helper = "pay" if what == "pay" else "fail"
                        requests.post(f"{args.sandbox}/sandbox/orders/{sale.order.id}/{helper}", json={}, timeout=5)
                    wait({"paid", "failed", "cancelled", "expired"})
                    continue
                if name != "idle":
                    press(pygame.K_KP_ENTER)  # back to idle
                    wait({"idle"})
                    continue
                seq = app.state.next_seq
                if seq > args.sales:
                    return
                for char in amount(args.seed, seq):
                    press(CHAR_KEYS[char], char)
                press(pygame.K_KP_ENTER, "\r")
                wait({"qr", "error"})
        except Exception as exc:  # report, do not hang the parent
            failed.append(repr(exc))
        finally:
            done.set()

    threading.Thread(target=drive, daemon=True).start()
    app.run(until=lambda a: done.is_set())
    # Let open orders close (a resumed cancel, a late payment) before a clean exit.
    end = time.monotonic() + 10
    while time.monotonic() < end and any(s.order_open and s.status != "paid" for s in app.state.background):
        app.pump()
        time.sleep(0.01)
    terminal.close()
    if failed:
        print(failed[0], file=sys.stderr)
        return 3
    return 0


# --- the parent: kill, restart, compare -----------------------------------------------------------


def orders(sandbox: str) -> list[dict]:
    seen: dict[str, dict] = {}
    since = "2000-01-01T00:00:00Z"
    while True:
        page = requests.get(f"{sandbox}/v1/orders", params={"since": since, "limit": 500},
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()["orders"]  # fmt: skip
        new = [o for o in page if o["id"] not in seen]
        for order in page:
            seen[order["id"]] = order
        if len(page) < 500 or not new:
            return list(seen.values())
        since = page[-1]["created_at"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    rng = random.Random(args.seed)
    started = time.monotonic()
    sandbox = subprocess.Popen([sys.executable, "-m", "terminal", "sandbox", "--port", "0"], stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    kills = 0
    try:
        url = sandbox.stdout.readline().split(" at ")[1].split("/v1")[0]
        with tempfile.TemporaryDirectory(prefix="qr-terminal-chaos-") as tmp:
            db = Path(tmp) / "journal.db"
            runs = 0
            while True:
                runs += 1
                proc = subprocess.Popen([sys.executable, __file__, "--child", "--db", str(db), "--sandbox", url,
                                         "--sales", str(args.sales), "--seed", str(args.seed)])  # fmt: skip
                try:
                    code = proc.wait(timeout=rng.uniform(0.4, 1.4) if runs < args.sales else 600)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)  # the power cut
                    proc.wait()
                    kills += 1
                    continue
                if code != 0:
                    print(f"chaos: terminal run {runs} failed with exit code {code}", file=sys.stderr)
                    return 2
                break
            result = compare(db, orders(url))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    seconds = time.monotonic() - started
    print(f"chaos: {kills} kills, {seconds:.0f} s", file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0 if result["lost"] == result["duplicate_orders"] == result["unresolved"] == 0 else 1


def compare(db: Path, sandbox_orders: list[dict]) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as con:
        sales = {r[0]: r for r in con.execute("SELECT reference, status, order_id, order_open FROM sales")}
    by_reference: dict[str, list[dict]] = {}
    for order in sandbox_orders:
        by_reference.setdefault(order["reference"], []).append(order)
    duplicates = sum(len(v) - 1 for v in by_reference.values() if len(v) > 1)
    paid_at_backend = {o["reference"] for o in sandbox_orders if o["status"] == "paid"}
    paid_in_journal = {ref for ref, row in sales.items() if row[1] == "paid"}
    lost = len(paid_at_backend ^ paid_in_journal)  # money we forgot, or a sale we claim that nobody paid
    unresolved = sum(1 for row in sales.values() if row[1] not in FINAL or (row[3] and row[1] != "paid"))
    unresolved += sum(1 for o in sandbox_orders if o["status"] == "pending")
    return {"sales": len(sales), "paid": len(paid_in_journal), "lost": lost, "duplicate_orders": duplicates,
            "unresolved": unresolved}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
