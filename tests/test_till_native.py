"""The native till protocol end to end: a real terminal, the till on the other end of a pty pair (pyserial on the
terminal's side) or of a TCP connection, the real sandbox paying."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from terminal.config import TillSection
from terminal.core.till import auth_digest
from terminal.devices.till_link import TillLink

from .servers import closed_port
from .terminal_app import make_terminal


class PtyTill:
    """The till's end of a serial line: the master of a pty whose slave the terminal opens by a stable path (a
    symlink, as /dev/serial/by-id/… is), so unplugging and plugging back in can be played."""

    def __init__(self, path):
        self.path = path
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()  # the slave stays open, as a device node does
        if self.path.is_symlink():
            self.path.unlink()
        self.path.symlink_to(os.ttyname(self.slave))
        self.buffer = b""

    def unplug(self):
        os.close(self.master)
        os.close(self.slave)

    def write(self, data: bytes):
        os.write(self.master, data)

    def line(self, terminal, timeout=10.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line from the terminal; got {self.buffer!r}")
            terminal.app.pump()
            ready, _, _ = select.select([self.master], [], [], 0.01)
            if ready:
                self.buffer += os.read(self.master, 1024)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().rstrip("\r")

    def ask(self, terminal, text: str) -> str:
        self.write(text.encode() + b"\r\n")
        return self.line(terminal)


#: An obviously fake secret shared by the tests' tills and terminals.
SECRET = "fixture-till-secret-not-real"
HELLO = re.compile(r"HELLO QRTERM 2 ([0-9a-f]{32})")


def greeted(till, terminal) -> str:
    """The nonce of the terminal's greeting."""
    line = till.line(terminal)
    hello = HELLO.fullmatch(line)
    assert hello, line
    return hello.group(1)


def on_pty(till: PtyTill, *, manager_commands: bool = False) -> TillSection:
    """The config's [till] for a native till on ``till``'s pty."""
    return TillSection(
        kind="native",
        device=str(till.path),
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits=1,
        host="127.0.0.1",
        pole={},
        manager_commands=manager_commands,
        auth="tcp",
        idle_timeout=600,
    )


def quick_link(device: str, **options):
    """Opens the till's link with a reconnect every 0.1 s (a config's is slower), given the loop's ``post``."""
    return lambda post: TillLink(device, post, currency="INR", retry=0.1, **options).start()


def wired(tmp_path, sandbox, *, manager_commands=False, **config):
    till = PtyTill(tmp_path / "ttyTILL")
    section = on_pty(till, manager_commands=manager_commands)
    terminal = make_terminal(tmp_path, sandbox.url, till=section, till_link=quick_link(str(till.path)), **config)
    greeted(till, terminal)  # a serial line needs no AUTH by default ([till] auth = "tcp")
    return terminal, till


def pay(terminal):
    requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)


def test_a_sale_from_the_till_is_answered_shown_paid_and_reported(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    assert till.ask(terminal, "PING") == "PONG 2"
    assert till.ask(terminal, "SALE 12.50 REF=INV-7") == "OK SALE T1-000001"
    assert till.line(terminal) == "QR T1-000001 REF=INV-7 12.50 INR"
    assert terminal.screen.name == "qr" and terminal.screen.amount == "₹12.50"
    assert till.ask(terminal, "SALE 3") == "ERR 409 busy: sale T1-000001 is waiting for payment"
    assert till.ask(terminal, "STATUS") == "STATUS SALE T1-000001 AWAITING_PAYMENT 12.50 INR"
    pay(terminal)
    result = till.line(terminal)
    assert result.startswith("RESULT T1-000001 REF=INV-7 PAID 12.50 INR SBX"), result
    assert terminal.until_screen("paid")
    assert terminal.journal.sale(terminal.app.state.sale.id)["till_ref"] == "INV-7"
    terminal.app.till.stop()


def test_bad_lines_get_errors_and_change_nothing(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    till.write(b"\x00\xff\xfe\x1b[2J garbage\r\n")
    assert till.line(terminal).startswith("ERR 400 only printable ASCII")
    assert till.ask(terminal, "SALE 12,50").startswith("ERR 422 bad amount")
    till.write(b"X" * 5000 + b"\r\n")  # an oversize line: one error, the rest skipped, the reader still works
    assert till.line(terminal) == "ERR 413 line longer than 200 characters: ignored"
    assert till.ask(terminal, "STATUS") == "STATUS IDLE"
    assert terminal.screen.name == "idle" and terminal.journal.sales() == []
    terminal.app.till.stop()


def test_a_sale_the_journal_cannot_record_is_answered_with_an_err(tmp_path, sandbox):
    """Issue #15 item 9: the step is undone, and the till hears so (it used to get no answer at all)."""
    terminal, till = wired(tmp_path, sandbox)
    terminal.journal.db.execute("PRAGMA query_only = ON")  # every write now fails, as on a full or broken disk
    assert till.ask(terminal, "SALE 5") == "ERR 500 the terminal could not write its journal: nothing was done"
    assert terminal.app.state.sale is None and "Cannot write the journal" in terminal.app.state.notice
    terminal.journal.db.execute("PRAGMA query_only = OFF")
    assert till.ask(terminal, "SALE 5") == "OK SALE T1-000001"
    terminal.app.till.stop()


def test_the_keypad_cancels_a_till_sale_and_the_till_is_told(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    assert till.ask(terminal, "SALE 5") == "OK SALE T1-000001"
    assert till.line(terminal).startswith("QR T1-000001")
    terminal.press("C")
    assert till.line(terminal) == "RESULT T1-000001 CANCELLED"
    assert till.ask(terminal, "SALE 6") == "OK SALE T1-000002"
    till.line(terminal)
    assert till.ask(terminal, "CANCEL") == "OK CANCEL T1-000002"  # the answer first, then the event
    assert till.line(terminal) == "RESULT T1-000002 CANCELLED"
    terminal.app.till.stop()


def test_unplugged_and_plugged_back_in_the_link_comes_back_by_itself(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    till.unplug()
    terminal.until(lambda: "Till not connected" in terminal.screen.warning)
    till.plug()  # the adapter is back, at the same /dev/serial/by-id/… path
    greeted(till, terminal)
    terminal.until(lambda: "Till" not in terminal.screen.warning)
    assert till.ask(terminal, "SALE 2") == "OK SALE T1-000001"
    terminal.app.till.stop()


class TcpTill(PtyTill):
    """The till's end of a TCP connection to the terminal."""

    def __init__(self, port):
        deadline = time.monotonic() + 10
        while True:  # the link's thread may not be listening yet
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, f"nothing listens on 127.0.0.1:{port}"
                time.sleep(0.05)
        self.master = self.sock.fileno()
        self.buffer = b""

    def write(self, data: bytes):
        self.sock.sendall(data)


def test_over_tcp_one_till_at_a_time(tmp_path, sandbox):
    port = closed_port()
    terminal = make_terminal(tmp_path, sandbox.url, till_link=quick_link(f"tcp:{port}", secret=SECRET))
    till = TcpTill(port)
    nonce = greeted(till, terminal)
    assert till.ask(terminal, f"AUTH {auth_digest(SECRET, nonce)}") == "OK AUTH"
    other = TcpTill(port)
    greeted(other, terminal)
    assert other.ask(terminal, "SALE 1") == "ERR 409 another till is connected"
    assert till.ask(terminal, "SALE 7.25") == "OK SALE T1-000001"
    assert till.line(terminal).startswith("QR T1-000001 7.25 INR")
    pay(terminal)
    assert till.line(terminal).startswith("RESULT T1-000001 PAID 7.25 INR")
    till.sock.close()
    other.sock.close()
    terminal.app.till.stop()


def test_a_till_that_connects_per_sale_leaves_no_warning_on_the_paid_screen(tmp_path, sandbox):
    """Issue #15 item 14: a TCP till that hung up normally (or has not connected yet) is not a fault."""
    port = closed_port()
    terminal = make_terminal(tmp_path, sandbox.url, till_link=quick_link(f"tcp:{port}", secret=SECRET))
    link = terminal.app.till
    till = TcpTill(port)
    assert till.ask(terminal, f"AUTH {auth_digest(SECRET, greeted(till, terminal))}") == "OK AUTH"
    assert till.ask(terminal, "SALE 3") == "OK SALE T1-000001"
    assert till.line(terminal).startswith("QR T1-000001")
    pay(terminal)
    assert till.line(terminal).startswith("RESULT T1-000001 PAID")
    till.sock.close()  # the sale is done: the till hangs up, as it does after every sale
    terminal.until(lambda: not link.connected)
    link.stop()  # joined: all the link had to say is posted
    terminal.app.pump()  # the loop takes what the link posted
    assert terminal.screen.name == "paid" and "Till" not in terminal.screen.warning


def till_demo(tmp_path, *, sales, customer, secret=None):
    """``qr-terminal demo --headless --till native:tcp:PORT`` in its own process (its till must AUTH with
    ``secret`` when one is given)."""
    port = closed_port()
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("QR_TERMINAL_TILL_SECRET", None)
    env |= {"QR_TERMINAL_TILL_SECRET": secret} if secret else {}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "terminal",
            "demo",
            "--headless",
            "--frames",
            str(tmp_path / "f"),
            "--till",
            f"native:tcp:{port}",
            "--sales",
            str(sales),
            "--customer",
            customer,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return port, demo


def test_the_demo_serves_sales_from_a_v1_till_and_exits_after_n(tmp_path):
    """With no till secret (auth off), a protocol v1 till that never sends AUTH still sells."""
    port, demo = till_demo(tmp_path, sales=2, customer="decline")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                till = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo never listened"
                time.sleep(0.1)
        lines = till.makefile("r", newline="\r\n")
        assert HELLO.fullmatch(lines.readline().strip())
        results = []
        for amount in ("12.50", "3"):
            till.sendall(f"SALE {amount} REF=R{amount}\r\n".encode())
            while not (line := lines.readline().strip()).startswith("RESULT"):
                assert not line.startswith("ERR"), line
            results.append(line)
        assert results == [
            "RESULT T1-000001 REF=R12.50 FAILED The customer declined.",
            "RESULT T1-000002 REF=R3 FAILED The customer declined.",
        ]
        out, _ = demo.communicate(timeout=30)
        assert demo.returncode == 0 and '{"sales": 2' in out
        till.close()
    finally:
        demo.kill()


def test_the_documented_example_client_works(tmp_path):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "till-protocol.md").read_text()
    client = re.search(r"## Example.*?```python\n(.*?)```", doc, re.S).group(1)
    assert len(client.strip().splitlines()) <= 20
    (tmp_path / "client.py").write_text(client)
    port, demo = till_demo(tmp_path, sales=1, customer="pay", secret=SECRET)
    try:
        for _ in range(300):
            run = subprocess.run(
                [sys.executable, str(tmp_path / "client.py"), "127.0.0.1", str(port), "12.50"],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "QR_TERMINAL_TILL_SECRET": SECRET},
            )
            if "HELLO" in run.stdout:
                break
            time.sleep(0.1)
        assert run.returncode == 0, run.stdout + run.stderr
        hello, *answers = run.stdout.splitlines()[:3]
        assert HELLO.fullmatch(hello) and answers == ["OK AUTH", "OK SALE T1-000001"], run.stdout
        assert "RESULT T1-000001 REF=INV-1 PAID 12.50 INR" in run.stdout
        demo.communicate(timeout=30)
    finally:
        demo.kill()


def paid_from_the_till(terminal, till):
    assert till.ask(terminal, "SALE 10") == "OK SALE T1-000001"
    till.line(terminal)
    pay(terminal)
    assert till.line(terminal).startswith("RESULT T1-000001 PAID 10.00 INR")


def test_refund_and_report_from_the_till_are_refused_unless_the_manager_allowed_them(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    paid_from_the_till(terminal, till)
    assert till.ask(terminal, "REFUND T1-000001") == (
        "ERR 403 the manager's commands are off: [till] manager_commands = true"
    )
    assert till.ask(terminal, "REPORT").startswith("ERR 403")
    terminal.app.till.stop()


def test_refund_and_report_from_the_till_when_the_manager_allowed_them(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox, manager_commands=True)
    paid_from_the_till(terminal, till)
    assert till.ask(terminal, "REFUND T1-000001 4.00") == "OK REFUND T1-000001-R1 4.00 INR"
    assert till.line(terminal) == "REFUND T1-000001-R1 SUCCEEDED 4.00 INR"
    assert till.ask(terminal, "REFUND T1-000001 7.00") == "ERR 422 at most INR 6.00 is left to refund"
    assert till.ask(terminal, "REFUND T1-000404") == "ERR 404 no sale T1-000404"
    till.write(b"REPORT\r\n")
    report = [till.line(terminal) for _ in range(8)]
    assert report[0] == "REPORT X report" and "REPORT paid            1  INR 10.00" in report
    assert "REPORT refunds         1  INR 4.00" in report and "REPORT net                INR 6.00" in report
    assert report[-1] == "OK REPORT"
    terminal.app.till.stop()
