"""Issue 15, items 3 and 4: stopping hands over the till's answer, and one terminal per journal.

What broke: ``demo --till concert:DEV --sales N`` (and SIGTERM, as systemd stops the service) exited as soon as
the sale was paid: the Concert answer was never sent ("the till did not answer our ENQ") and the till waited 120 s
for nothing. Two terminals started on one journal corrupted each other (UNIQUE constraint failed).

``qr-terminal run`` and ``demo`` run here in their own processes, the Concert till on the master of a pty pair
(the terminal opens the slave as a serial device), systemd's notify socket a real datagram socket, the backend a
real sandbox on 127.0.0.1.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest
import requests

from terminal.core.concert import ACK, ENQ, EOT, ETX, STX, frame, unframe
from terminal.devices.printer import PrinterConfig
from terminal.sandbox.server import DEFAULT_TOKEN
from terminal.store.journal import Journal

from .terminal_app import make_terminal
from .test_till_native import wired

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
#: Concert E+: POS 01 asks for 7.00 EUR, short answer, card payment.
REQUEST = frame("0100000700" + "0" + "0" + "1" + "978" + " " * 10 + "A010" + "B010")


class ConcertTill:
    """The till's end of the serial line (a pty master), speaking Concert E+ byte by byte."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # a serial line: no echo, no line editing, from the first byte
        self.device = os.ttyname(self.slave)

    def read(self, timeout: float = 10.0) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        return os.read(self.master, 1) if ready else b""

    def expect(self, byte: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.read(max(0.0, deadline - time.monotonic()))) != bytes([byte]):
            assert got, f"no {byte:#04x} from the terminal within {timeout} s"

    def send(self, byte: int) -> None:
        os.write(self.master, bytes([byte]))

    def ask(self) -> None:
        """ENQ (again, until the terminal has the line open and ACKs), the request, EOT."""
        for _ in range(60):
            self.send(ENQ)
            if self.read(0.5) == bytes([ACK]):
                break
        else:
            raise AssertionError("the terminal never answered our ENQ")
        os.write(self.master, REQUEST)
        self.expect(ACK)
        self.send(EOT)

    def answer(self, before_ack=lambda: None) -> str:
        """Take the terminal's answer: its ENQ, (``before_ack``), our ACK, its frame, our ACK, its EOT."""
        self.expect(ENQ, timeout=30)
        before_ack()
        self.send(ACK)
        raw = b""
        while not (len(raw) >= 2 and raw[-2] == ETX):
            byte = self.read(5)
            assert byte, f"the answer stopped after {raw!r}"
            if raw or byte == bytes([STX]):  # an ENQ sent again before our ACK arrived is not the frame
                raw += byte
        self.send(ACK)
        self.expect(EOT)
        return unframe(raw)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def concert_till():
    till = ConcertTill()
    yield till
    till.close()


class Notify:
    """systemd's side of sd_notify: a datagram socket the service writes READY=1 / STOPPING=1 to."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)

    def wait_for(self, word: str, timeout: float = 60.0) -> None:
        self.socket.settimeout(timeout)
        while word not in self.socket.recv(4096).decode():
            pass


def start_run(tmp_path: Path, sandbox_url: str, till: str, notify: Notify) -> subprocess.Popen:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'device_token = "{DEFAULT_TOKEN}"\n')
    secrets.chmod(0o600)
    config = tmp_path / "terminal.toml"
    config.write_text(f"""
[terminal]
id = "T1"
currency = "EUR"
journal = "{tmp_path / "journal.db"}"
[merchant]
name = "Shop"
[payee]
ids = ["demo-shop@sandbox"]
url_hosts = ["127.0.0.1"]
[backend]
url = "{sandbox_url}"
[display]
driver = "dummy"
[gpio]
mock = true
[secrets]
file = "{secrets}"
[till]
kind = "concert"
device = "{till}"
""")
    env = {**ENV, "NOTIFY_SOCKET": notify.path}
    return subprocess.Popen(
        [sys.executable, "-m", "terminal", "run", "--config", str(config)],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def pay_when_ordered(sandbox) -> None:
    deadline = time.monotonic() + 30
    while not sandbox.book._orders:
        assert time.monotonic() < deadline, "no order was made"
        time.sleep(0.05)
    order_id = next(iter(sandbox.book._orders))
    requests.post(f"{sandbox.url}/sandbox/orders/{order_id}/pay", json={}, timeout=5).raise_for_status()


def test_sigterm_while_the_till_is_being_answered_delivers_the_answer_then_exits(tmp_path, sandbox, concert_till):
    notify = Notify(tmp_path / "notify")
    service = start_run(tmp_path, sandbox.url, concert_till.device, notify)
    try:
        notify.wait_for("READY=1")
        concert_till.ask()
        pay_when_ordered(sandbox)

        def stopped_by_systemd():
            service.send_signal(signal.SIGTERM)
            notify.wait_for("STOPPING=1")
            time.sleep(0.5)  # the old loop had closed the line by now

        answer = concert_till.answer(before_ack=stopped_by_systemd)
        _, err = service.communicate(timeout=15)
    finally:
        service.kill()
    assert answer.startswith("01" + "0" + "00000700"), answer  # POS 01, success, 7.00
    assert service.returncode == 0, err
    assert "did not answer" not in err


def test_the_demo_answers_the_last_of_n_sales_before_it_exits(tmp_path, concert_till):
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "terminal",
            "demo",
            "--headless",
            "--frames",
            str(tmp_path / "f"),
            "--currency",
            "EUR",
            "--till",
            f"concert:{concert_till.device}",
            "--sales",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        concert_till.ask()
        answer = concert_till.answer()
        out, err = demo.communicate(timeout=30)
    finally:
        demo.kill()
    assert answer.startswith("01" + "0" + "00000700"), answer
    assert demo.returncode == 0 and '{"sales": 1' in out, err
    assert "did not answer" not in err


def test_a_second_terminal_on_the_same_journal_is_refused_and_readers_run_beside(tmp_path, sandbox, concert_till):
    notify = Notify(tmp_path / "notify")
    first = start_run(tmp_path, sandbox.url, concert_till.device, notify)
    try:
        notify.wait_for("READY=1")
        second = subprocess.run(
            [sys.executable, "-m", "terminal", "run", "--config", str(tmp_path / "terminal.toml")],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
        )
        report = subprocess.run(
            [sys.executable, "-m", "terminal", "report", "--db", str(tmp_path / "journal.db")],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
        )
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=15)
    finally:
        first.kill()
    assert second.returncode == 2
    assert f"is in use by another qr-terminal (pid {first.pid})" in second.stderr, second.stderr
    assert report.returncode == 0 and "no sales" in report.stdout, report.stderr
    assert first.returncode == 0


def test_a_demo_on_a_journal_in_use_names_the_holder(tmp_path):
    holder = Journal(tmp_path / "journal.db")
    command = ["demo", "--headless", "--db", str(tmp_path / "journal.db"), "--frames", str(tmp_path / "f")]
    demo = subprocess.run(
        [sys.executable, "-m", "terminal", *command], capture_output=True, text=True, timeout=60, env=ENV
    )
    holder.close()
    assert demo.returncode == 2 and f"in use by another qr-terminal (pid {os.getpid()})" in demo.stderr
    assert "Traceback" not in demo.stderr


# --- the same rules inside one process ------------------------------------------------------------


def test_while_stopping_a_till_sale_is_refused_and_status_still_answered(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    terminal.app.stop()
    assert till.ask(terminal, "SALE 5") == "ERR 503 the terminal is stopping: send the sale again in a moment"
    assert till.ask(terminal, "STATUS") == "STATUS IDLE"
    assert terminal.journal.sales() == []
    terminal.app.till.stop()


def test_a_receipt_printing_when_the_loop_ends_is_journaled_as_printed(tmp_path, sandbox):
    paper = PrinterConfig(connection="file", device=str(tmp_path / "lp0"), profile="TM-T88III", auto_print="always")
    terminal = make_terminal(tmp_path, sandbox.url, printer=paper)
    terminal.press("12.5E")
    requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)
    sale = terminal.app.state.sale
    terminal.app.run(until=lambda app: app.state.sale.status == "paid")  # ends in the pass that printed
    assert [row["status"] for row in terminal.journal.db["print_jobs"].rows] == ["printed"]
    assert sale is not None
