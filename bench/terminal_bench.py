"""Key→QR and paid→screen latency, idle CPU on the QR screen, peak RSS: ours vs. a naive peer.

Run: .venv/bin/python bench/terminal_bench.py [--quick] [--sales N] [--rounds R] [--kinds url,upi,pix,paynow]
     .venv/bin/python bench/terminal_bench.py --journal-sales 100000   (start, reports, menu, reconcile at scale)

Each terminal runs in its own process (so its CPU and RSS are its own) against a sandbox process per payload kind
(a pay-page URL, UPI, PIX and PayNow EMV); ours and the naive peer take turns, round after round and kind after
kind, so both see the same machine load. A driver thread inside each types keys the way a USB keypad does (events
into SDL's queue) and pays through the sandbox's helper, as the customer's bank would; paid→screen is timed from
the moment the sandbox recorded the payment (its monotonic clock, shared by every process on the machine), not
from the helper's reply. Peak RSS is read from outside, from /proc/<pid>/status (VmHWM), while the child runs;
our terminal opens a journal the bench made (and migrated) beforehand, as `qr-terminal run` opens its journal on
every start but the first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parent's tools: our terminal's child process must hold what `qr-terminal run` holds
    import subprocess

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
if "--peer" in sys.argv and sys.argv[sys.argv.index("--peer") + 1 :][:1] == ["ours"]:
    # Our terminal's process as `qr-terminal run` makes it: without the libraries run keeps out (numpy, which
    # sqlite-utils imports when installed, charset_normalizer; pygame's parts it never uses, and its mixer, for
    # no voice is configured).
    from terminal.commands.run import PYGAME_UNUSED, SOUND, UNUSED, keep_out

    keep_out(UNUSED + PYGAME_UNUSED + SOUND)

import pygame
from service_env import compile_bytecode, service_environment

HERE = Path(__file__).resolve().parent
#: How a terminal's child starts: a line that imports this module and calls it, as the console script `qr-terminal`
#: (eight lines) starts the terminal. Not this file run as a script: CPython keeps a script's syntax tree until the
#: script ends, and this one's (with what it leaves the allocator) would count 1.2 MB against each terminal's RSS.
CHILD = (
    sys.executable,
    "-c",
    f"import sys; sys.path.insert(0, {str(HERE)!r}); import terminal_bench; terminal_bench.main()",
)
TOKEN = "sandbox-device-token"


class Screens:
    """Frames as they are flipped: a name and a perf_counter time; waiters block until a name shows."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.log: list[tuple[str, float]] = []

    def shown(self, name: str) -> None:
        with self.cond:
            if not self.log or self.log[-1][0] != name:
                self.log.append((name, time.monotonic()))
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
        t0 = time.monotonic()
        press(pygame.K_KP_ENTER, "\r")
        key_to_qr.append(screens.wait_for("qr", mark) - t0)
        if i < paid_sales:
            time.sleep(0.2)
            mark = screens.mark()
            recorded = pay(sandbox, order_id())
            paid_to_screen.append(screens.wait_for("paid", mark) - recorded)
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


def pay(sandbox: str, order_id: str) -> float:
    """Pay the order through the sandbox's helper, as the customer's bank would; when the sandbox recorded it.
    Through http.client, not requests: our terminal's process must hold what ``qr-terminal run`` holds."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(sandbox)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("POST", f"/sandbox/orders/{order_id}/pay", b"{}", {"Content-Type": "application/json"})
        reply = connection.getresponse()
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"the sandbox refused to pay {order_id}: HTTP {reply.status}")
        return float(reply.getheader("X-Sandbox-Recorded-Monotonic") or "nan")
    finally:
        connection.close()


#: Payload kinds the bench sells with: the sandbox's --scheme, the currency it pays in, and the payee id it issues.
KINDS = {
    "url": ("INR", "demo-shop@sandbox"),
    "upi": ("INR", "demo-shop@sandbox"),
    "pix": ("BRL", "demo-shop@sandbox"),
    "paynow": ("SGD", "201403121W"),
}


def bench_terminal(folder: Path, sandbox: str, kind: str, observer: object, **build: object):
    """Our terminal as `qr-terminal run` builds it (terminal.wiring), from a config written in ``folder``: shop
    B1 selling in ``kind``'s currency to the sandbox at ``sandbox``, on an 800×480 dummy display."""
    from urllib.parse import urlsplit

    from terminal.config import load
    from terminal.manager_pin import write_secret
    from terminal.wiring import build_terminal

    currency, payee_id = KINDS[kind]
    (folder / "terminal.toml").write_text(
        "\n".join(
            [
                "[terminal]",
                'id = "B1"',
                f'currency = "{currency}"',
                'max_amount = "10000000"',
                f'journal = "{folder / "j.db"}"',
                "[merchant]",
                'name = "Bench Shop"',
                "[payee]",
                'name = "Demo Shop"',
                f'ids = ["{payee_id}"]',
                f'url_hosts = ["{urlsplit(sandbox).netloc}"]',
                "[backend]",
                f'url = "{sandbox}"',
                "sandbox = true",
                "[display]",
                'driver = "dummy"',
                "fullscreen = false",
                "width = 800",
                "height = 480",
                "[secrets]",
                'file = "secrets.toml"',
                "",
            ]
        )
    )
    write_secret(folder / "secrets.toml", "device_token", TOKEN)
    return build_terminal(load(folder / "terminal.toml"), observer=observer, **build)


def run_ours(
    sandbox: str, kind: str, sales: int, paid_sales: int, idle: float, journal_made: str | None = None
) -> dict:
    from terminal.app import Observer

    screens = Screens()
    with tempfile.TemporaryDirectory() as tmp:
        if journal_made:  # migrated already: the migration's tools are not what `run` holds on a working terminal
            shutil.copyfile(journal_made, Path(tmp) / "j.db")
        terminal = bench_terminal(Path(tmp), sandbox, kind, Observer(frame=lambda m, d: screens.shown(m.name)))
        app = terminal.app

        def order_id() -> str:
            return app.state.sale.order.id

        result: dict = {}
        driver = threading.Thread(
            target=lambda: result.update(drive(screens, sandbox, sales, paid_sales, idle, order_id)), daemon=True
        )
        driver.start()
        import gc

        gc.freeze()  # as qr-terminal run does before its loop
        terminal.run(until=lambda a: not driver.is_alive())
        terminal.close()
    return result


def breakdown(sandbox: str, sales: int, profile: bool) -> None:
    """The in-app mode: where key→QR goes, step by step, in this process (timestamps taken by wrapping the
    app's parts from outside; p50/p95 of each stage). ``profile``: cProfile of the loop thread too."""
    import contextlib

    from terminal.app import Observer
    from terminal.backends.http import HttpBackend
    from terminal.core.events import KeyPressed, OrderCreated

    marks: dict[str, float] = {}
    rows: list[dict[str, float]] = []
    screens = Screens()
    ahead = [0, 0]  # frames the display had flipped as painted ahead at the last frame; QR frames among them

    def frame(model, display) -> None:
        screens.shown(model.name)
        if model.name == "qr" or (model.name == "entry" and "press" in marks):  # after Enter: "Preparing QR…"
            marks.setdefault("frame:qr" if model.name == "qr" else "frame:creating", time.monotonic())
        if model.name == "qr" and display.drawn_ahead > ahead[0]:
            ahead[1] += 1
        ahead[0] = display.drawn_ahead

    with tempfile.TemporaryDirectory() as tmp:
        backend = HttpBackend(sandbox, TOKEN, sandbox=True)
        terminal = bench_terminal(Path(tmp), sandbox, "url", Observer(frame=frame), backend=backend)
        app, journal = terminal.app, terminal.journal
        step, create, handle = journal.step, backend.create_order, app.handle

        @contextlib.contextmanager
        def timed_step(**how):
            outer = not journal._in_step
            with step(**how):
                yield
            if outer:  # committed: the first is the "creating" step's, the one after the order came its step's
                marks.setdefault("commit2" if "created" in marks else "commit", time.monotonic())

        def timed_create(request):
            marks["create:start"] = time.monotonic()
            order = create(request)
            marks["create:end"] = time.monotonic()
            return order

        def timed_handle(event, now=None):
            if isinstance(event, KeyPressed) and event.key.name == "ENTER":
                marks["press"] = time.monotonic()
            if isinstance(event, OrderCreated):
                marks["created"] = time.monotonic()
            return handle(event, now)

        journal.step, backend.create_order, app.handle = timed_step, timed_create, timed_handle
        app.worker.backend = backend

        def driver() -> None:
            time.sleep(0.5)
            for _ in range(sales):
                for char in "12.50":
                    press(pygame.K_KP_PERIOD if char == "." else getattr(pygame, f"K_KP{char}"), char)
                    time.sleep(0.02)
                mark = screens.mark()
                marks.clear()
                marks["key"] = time.monotonic()
                press(pygame.K_KP_ENTER, "\r")
                screens.wait_for("qr", mark)
                time.sleep(0.05)
                rows.append(dict(marks))
                press(pygame.K_ESCAPE)
                time.sleep(0.2)
                press(pygame.K_ESCAPE)
                time.sleep(0.1)

        thread = threading.Thread(target=driver, daemon=True)
        thread.start()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        app.run(until=lambda a: not thread.is_alive())
        if profiler is not None:
            profiler.disable()
        terminal.close()
    stages = [
        ("key in SDL's queue → press", "key", "press"),
        ("press → creating step committed", "press", "commit"),
        ("committed → create thread runs", "commit", "create:start"),
        ("HTTP create (client + sandbox)", "create:start", "create:end"),
        ("create returned → loop handles it", "create:end", "created"),
        ("created → its step committed", "created", "commit2"),
        ("committed → QR frame flipped", "commit2", "frame:qr"),
        ("key → QR (total)", "key", "frame:qr"),
    ]
    print(f"{'stage (ms)':40} {'p50':>6} {'p95':>6} {'max':>6}   n={len(rows)}")
    for label, a, b in stages:
        values = [r[b] - r[a] for r in rows if a in r and b in r]
        print(f"{label:40} {pct(values, 0.5):6.2f} {pct(values, 0.95):6.2f} {pct(values, 1.0):6.2f}")
    drawn = [r for r in rows if "frame:creating" in r]
    print(f"'Preparing QR…' frame drawn in {len(drawn)} of {len(rows)} sales")
    print(f"QR frames painted ahead on the display thread during the commit: {ahead[1]} of {len(rows)} sales")
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def run_naive(sandbox: str, kind: str, sales: int, paid_sales: int, idle: float) -> dict:
    sys.path.insert(0, str(HERE))
    from naive_peer import NaiveTerminal

    screens = Screens()
    peer = NaiveTerminal(sandbox, TOKEN, screens.shown, currency=KINDS[kind][0])
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
    if args.peer == "ours":
        figures = run_ours(args.sandbox, args.kind, args.sales, args.paid, args.idle, args.journal)
    else:
        figures = run_naive(args.sandbox, args.kind, args.sales, args.paid, args.idle)
    print(json.dumps(figures))


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), read from outside; None once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run one child; its figures, and its peak RSS as the kernel saw it (polled every 20 ms while it ran)."""
    import subprocess

    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
        time.sleep(0.02)
    out, err = proc.communicate(timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[len(CHILD) :][:2])} failed: {err[-2000:]}")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_rss_mb"] = peak
    return figures


def encode_cost(count: int) -> tuple[list[float], list[float]]:
    """What the encoders alone take for payloads like the sandbox's: the screen's (zxing-cpp) and segno's."""
    import segno

    from terminal.devices.qr_encoder import _with_zxing, _zxing

    fast, reference = [], []
    zxing = _zxing()
    for i in range(max(count, 5)):
        payload = f"http://127.0.0.1:40000/pay/ord_{i:016x}?am=12.50&cu=INR&tr=B1-{i:06d}"
        started = time.perf_counter()
        segno.make_qr(payload, error="m")
        reference.append(time.perf_counter() - started)
        if zxing is not None:
            started = time.perf_counter()
            _with_zxing(zxing, payload)
            fast.append(time.perf_counter() - started)
    return fast, reference


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def start_sandbox(kind: str) -> tuple[subprocess.Popen, str]:
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal", "sandbox", "--port", "0", "--scheme", kind],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    return proc, line.split(" at ")[1].split("/v1")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few samples, 1 s idle (a smoke run)")
    parser.add_argument("--peer", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="url", help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    parser.add_argument("--kinds", default=",".join(KINDS), help="payload kinds, comma-separated (%(default)s)")
    parser.add_argument("--sales", type=int, default=8, help="sales per peer, kind and round (%(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each peer takes per kind (%(default)s)")
    parser.add_argument("--paid", type=int, default=None)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument(
        "--journal-sales",
        type=int,
        default=0,
        help="instead: time start, reports, menu, reconcile on a journal of this many sales",
    )
    parser.add_argument("--breakdown", type=int, default=0, help="instead: where key→QR goes, in-app, N sales")
    parser.add_argument("--profile", action="store_true", help="with --breakdown: cProfile the loop too")
    args = parser.parse_args()
    if args.breakdown:
        proc, url = start_sandbox(args.kind)
        try:
            breakdown(url, args.breakdown, args.profile)
        finally:
            proc.terminate()
            proc.wait(10)
        return
    if args.peer:
        child(args)
        return
    compile_bytecode()
    if args.journal_sales:
        from journal_bench import main as journal_main

        journal_main(args.journal_sales)
        return
    if args.quick:
        args.sales, args.rounds, args.idle = 2, 1, 1.0
    kinds = [k for k in args.kinds.split(",") if k]
    rows: dict[str, dict] = {"ours": {}, "naive": {}}
    sandboxes = {kind: start_sandbox(kind) for kind in kinds}
    made = tempfile.TemporaryDirectory()
    journal_made = made_journal(Path(made.name))
    try:
        for _ in range(args.rounds):
            for kind in kinds:
                for peer in ("ours", "naive"):  # interleaved: the same load for both
                    paid = (
                        args.paid
                        if args.paid is not None
                        else (args.sales if peer == "ours" else max(1, args.sales // 4))
                    )
                    argv = [
                        *CHILD,
                        "--peer",
                        peer,
                        "--sandbox",
                        sandboxes[kind][1],
                        "--kind",
                        kind,
                        "--sales",
                        str(args.sales),
                        "--paid",
                        str(paid),
                        "--idle",
                        str(args.idle),
                        *(["--journal", str(journal_made)] if peer == "ours" else []),
                    ]
                    # ours in the environment its systemd unit gives it (e.g. its malloc arenas); the peer in ours
                    figures = measure(argv, service_environment() if peer == "ours" else None)
                    row = rows[peer]
                    for key in ("key_to_qr", "paid_to_screen"):
                        row.setdefault(key, []).extend(figures[key])
                        row.setdefault(f"{key}:{kind}", []).extend(figures[key])
                    row.setdefault("idle_cpu_percent", []).append(figures["idle_cpu_percent"])
                    row["peak_rss_mb"] = max(row.get("peak_rss_mb", 0.0), figures["peak_rss_mb"])
    finally:
        for proc, _ in sandboxes.values():
            proc.terminate()
            proc.wait(10)
        made.cleanup()
    report(rows, kinds, args)


def made_journal(folder: Path) -> Path:
    """An empty journal, made and migrated by the journal itself, for our terminal's runs to start from."""
    from terminal.store.journal import Journal

    path = folder / "journal.db"
    Journal(path).close()
    return path


def report(rows: dict[str, dict], kinds: list[str], args: argparse.Namespace) -> None:
    import statistics

    ours, naive = rows["ours"], rows["naive"]
    print(f"{'figure':42} {'ours':>10} {'naive peer':>11}  target")
    lines = [
        ("key→QR p50 (ms)", lambda r: pct(r["key_to_qr"], 0.5), ""),
        ("key→QR p95 (ms)", lambda r: pct(r["key_to_qr"], 0.95), "≤ 8"),
        *[(f"  key→QR p95, {kind} (ms)", lambda r, k=kind: pct(r[f"key_to_qr:{k}"], 0.95), "") for kind in kinds],
        ("backend paid→paid screen p50 (ms)", lambda r: pct(r["paid_to_screen"], 0.5), ""),
        ("backend paid→paid screen p95 (ms)", lambda r: pct(r["paid_to_screen"], 0.95), "≤ 100"),
        (f"idle CPU on the QR screen, {args.idle:g} s (%)", lambda r: max(r["idle_cpu_percent"]), "≤ 1"),
        ("peak RSS, from /proc (MB)", lambda r: r["peak_rss_mb"], "≤ 45"),
    ]
    for label, get, target in lines:
        print(f"{label:42} {get(ours):10.1f} {get(naive):11.1f}  {target}")
    ratio = pct(naive["key_to_qr"], 0.5) / pct(ours["key_to_qr"], 0.5)
    print(f"{'naive ÷ ours, key→QR p50':42} {ratio:10.1f} {'':>11}  ≥ 5")
    fast, reference = encode_cost(args.sales)
    print(f"{'  of key→QR: encode p50 / p95, zxing-cpp (ms)':42} {pct(fast, 0.5):5.2f} / {pct(fast, 0.95):.2f}")
    print(f"{'  the same payloads with segno (ms)':42} {pct(reference, 0.5):5.2f} / {pct(reference, 0.95):.2f}")
    samples = {p: (len(r["key_to_qr"]), len(r["paid_to_screen"])) for p, r in rows.items()}
    print(
        f"samples (key→QR, paid→screen): ours {samples['ours']}, naive {samples['naive']}; kinds {', '.join(kinds)}; "
        f"{args.rounds} rounds interleaved; mean key→QR ours {statistics.mean(ours['key_to_qr']) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
