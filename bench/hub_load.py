"""Load on the hub, bounded and on loopback only: simulated terminals long-polling two ``qr-hub serve`` replicas on
one throwaway PostgreSQL, sales created by the terminals (signed) and paid by signed Razorpay-shaped webhooks at a
steady rate. Prints p50/p95 webhook-sent → terminal-notified latency and lost / duplicated payments, and does it
again with one replica SIGKILLed mid-run and restarted.

    .venv/bin/python bench/hub_load.py                 # 200 terminals, 20 s per run (about a minute)
    .venv/bin/python bench/hub_load.py --quick         # a smoke run (what the test suite runs)

Each simulated terminal is the terminal's own contract client (HttpBackend, signing every request) in a thread:
create a sale on its replica, long-poll it until paid, next sale. A terminal whose replica is down retries it
every half second (its base URL is fixed, as on a real counter). The webhook sender plays the provider: it signs
each event, and when a replica does not answer it delivers the same event to the other (a provider retries until
it gets a 2xx; the event id makes the second delivery harmless).
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.db import Database  # noqa: E402
from hub.fleet import Fleet  # noqa: E402
from hub.pgcluster import Cluster  # noqa: E402
from hub.providers import credited_event  # noqa: E402
from hub.webhooks import razorpay_signature  # noqa: E402
from terminal.backends import signing  # noqa: E402
from terminal.backends.base import BackendError  # noqa: E402
from terminal.backends.http import HttpBackend  # noqa: E402
from terminal.core.money import Amount  # noqa: E402
from terminal.core.orders import OrderRequest, OrderStatus  # noqa: E402

WEBHOOK_SECRET = "whsec_load_script_not_real"


@dataclass
class Run:
    """What one run saw."""

    sent: dict[str, float] = field(default_factory=dict)  # order id → webhook sent (monotonic)
    notified: dict[str, float] = field(default_factory=dict)  # order id → terminal saw paid
    created: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Replica:
    """One ``qr-hub serve`` process."""

    def __init__(self, db_url: str, secrets_file: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "hub",
            "serve",
            "--db",
            db_url,
            "--port",
            str(self.port),
            "--secrets",
            str(secrets_file),
            "--rate",
            "100",
            "--burst",
            "200",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"replica on {self.url} did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def terminal_loop(backend: HttpBackend, name: str, run: Run, due: queue.Queue, stop: threading.Event) -> None:
    """Sell, wait for paid, sell again — until told to stop (a sale in progress is finished first)."""
    sale = 0
    while not stop.is_set():
        sale += 1
        request = OrderRequest(f"{name}-{sale}", f"{name}-{sale:06d}", Amount(1000 + sale, "INR"), 300, "Chai")
        order = _retry(lambda r=request: backend.create_order(r), stop)
        if order is None:
            return
        with run.lock:
            run.created += 1
        due.put((order.id, order.qr.payload.split("/pay/", 1)[1].split("?", 1)[0], order.amount))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            update = _retry(lambda o=order: backend.get_order(o.id, wait=25, known=OrderStatus.PENDING), stop, 60)
            if update is not None and update.status is OrderStatus.PAID:
                with run.lock:
                    run.notified.setdefault(order.id, time.monotonic())
                break


def _retry(call, stop: threading.Event, patience: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            return call()
        except BackendError:
            time.sleep(0.5)  # the replica is down (or restarting): try it again
    return None


def webhook_sender(replicas: list[Replica], run: Run, due: queue.Queue, rate: float, stop: threading.Event) -> None:
    """Pay the queued orders at ``rate`` per second with signed events, failing over between replicas."""
    session = requests.Session()
    n = 0
    next_at = time.monotonic()
    while not stop.is_set() or not due.empty():
        try:
            order_id, qr_id, amount = due.get(timeout=0.2)
        except queue.Empty:
            continue
        next_at = max(next_at + 1 / rate, time.monotonic())
        time.sleep(max(0.0, next_at - time.monotonic()))
        event_id, body = credited_event(qr_id, amount)
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Event-Id": event_id,
            "X-Razorpay-Signature": razorpay_signature(WEBHOOK_SECRET, body),
        }
        with run.lock:
            run.sent[order_id] = time.monotonic()
        for attempt in range(40):
            replica = replicas[(n + attempt) % len(replicas)]
            try:
                answer = session.post(f"{replica.url}/webhooks/razorpay", data=body, headers=headers, timeout=5)
                if answer.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            run.errors.append(f"webhook for {order_id} never accepted")
        n += 1


def one_run(cluster: Cluster, terminals: int, seconds: float, rate: float, kill: bool, workdir: Path) -> Run:
    db_url = cluster.database()
    Database(db_url).migrate()
    secrets_file = workdir / "hub-secrets.toml"
    secrets_file.write_text(f'razorpay_webhook_secret = "{WEBHOOK_SECRET}"\n')
    os.chmod(secrets_file, 0o600)
    fleet = Fleet(Database(db_url))
    replicas = [Replica(db_url, secrets_file), Replica(db_url, secrets_file)]
    try:
        return _drive(replicas, fleet, db_url, terminals, seconds, rate, kill)
    finally:
        for replica in replicas:
            replica.stop()


def _drive(
    replicas: list[Replica], fleet: Fleet, db_url: str, terminals: int, seconds: float, rate: float, kill: bool
) -> Run:
    for replica in replicas:
        replica.start()
    backends = []
    for i in range(terminals):
        enrolled = fleet.enroll(fleet.new_code(f"L{i:03d}", "Load Shop"))  # not over HTTP: its rate limit is per IP
        token = signing.token(enrolled["terminal_id"], enrolled["secret"])
        backends.append(HttpBackend(replicas[i % 2].url, token, timeout=10))
    run, due, stop = Run(), queue.Queue(), threading.Event()
    threads = [
        threading.Thread(target=terminal_loop, args=(b, f"L{i:03d}", run, due, stop), daemon=True)
        for i, b in enumerate(backends)
    ]
    sender = threading.Thread(target=webhook_sender, args=(replicas, run, due, rate, stop), daemon=True)
    for thread in [*threads, sender]:
        thread.start()
    time.sleep(seconds / 2)
    if kill:
        replicas[1].kill()
        print(f"  replica 2 SIGKILLed at {seconds / 2:.0f} s; restarting it", flush=True)
        replicas[1].start()
    time.sleep(seconds / 2)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    sender.join(timeout=90)
    for backend in backends:
        backend.close()
    run.errors.extend(_duplicates(db_url))
    return run


def _duplicates(db_url: str) -> list[str]:
    from sqlalchemy import func, select

    from hub import db as t

    with Database(db_url).transaction() as conn:
        rows = conn.execute(
            select(t.payments.c.order_id, func.count()).group_by(t.payments.c.order_id).having(func.count() > 1)
        ).all()
    return [f"order {order_id} has {count} payments" for order_id, count in rows]


def report(label: str, run: Run) -> None:
    latencies = sorted((run.notified[o] - run.sent[o]) * 1000 for o in run.sent if o in run.notified)
    lost = [o for o in run.sent if o not in run.notified]
    duplicated = [e for e in run.errors if "payments" in e]
    if latencies:
        p50 = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    else:
        p50 = p95 = float("nan")
    print(
        f"{label}: {len(run.sent)} sales paid by webhook, webhook→terminal-notified p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, lost {len(lost)}, duplicated {len(duplicated)}",
        flush=True,
    )
    for error in run.errors[:5]:
        print(f"  {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks per second")
    parser.add_argument("--quick", action="store_true", help="20 terminals, 4 s runs (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.terminals, args.seconds, args.rate = 20, 4.0, 10.0
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(
                f"{args.terminals} terminals, 2 replicas, 1 PostgreSQL, {args.rate:.0f} webhooks/s, "
                f"{args.seconds:.0f} s per run",
                flush=True,
            )
            report("steady", one_run(cluster, args.terminals, args.seconds, args.rate, False, Path(tmp)))
            report(
                "one replica SIGKILLed and restarted",
                one_run(cluster, args.terminals, args.seconds, args.rate, True, Path(tmp)),
            )
    finally:
        cluster.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
