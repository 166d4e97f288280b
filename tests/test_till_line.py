"""The till's TCP line (issue #15, items 7, 8, 10 and 14): one idle connection must not lock the real till out,
protocol v2's AUTH guards every command but PING and STATUS, a 10 MB line is dropped in bulk, and a till that hangs
up normally is not a fault. Real sockets on 127.0.0.1 and real pty pairs; the link's ``post`` is a list the tests
read (what the loop would get)."""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import sys
import threading
import time

import pytest

from terminal.core.events import TillCommanded, TillLinkChanged
from terminal.core.money import Amount
from terminal.core.till import TillSale, TillStatus, auth_digest
from terminal.devices.till_link import LineReader, TillLink

from .servers import closed_port

SECRET = "fixture-till-secret-not-real"
HELLO = re.compile(r"HELLO QRTERM 2 ([0-9a-f]{32})")


def until(check, what: str, timeout: float = 10.0):
    """Wait for ``check()`` to be truthy (a bounded wait: fails naming ``what``)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return result


class Till:
    """A till (or a stranger) on a TCP connection to the terminal."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def line(self) -> str:
        while b"\n" not in self.buffer:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"no line from the terminal within 10 s; got {self.buffer[:200]!r}") from None
            if not data:
                raise AssertionError(f"the terminal closed the connection; got {self.buffer[:200]!r}")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().rstrip("\r")

    def hello(self) -> str:
        """The greeting's nonce."""
        line = self.line()
        hello = HELLO.fullmatch(line)
        assert hello, line
        return hello.group(1)

    def ask(self, text: str) -> str:
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def authenticate(self) -> None:
        assert self.ask(f"AUTH {auth_digest(SECRET, self.hello())}") == "OK AUTH"

    def closed(self) -> bool:
        """True once the terminal closed its end (after any lines it sent last)."""
        try:
            return self.sock.recv(65536) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def line():
    """A native till link listening on a loopback port: ``line(**options)`` → (link, port, posted events)."""
    links = []

    def make(**options):
        port, posted = closed_port(), []
        link = TillLink(f"tcp:{port}", posted.append, currency="INR", secret=SECRET, **options).start()
        links.append(link)
        until(lambda: any(isinstance(e, TillLinkChanged) for e in posted), "the link to listen")
        return link, port, posted

    yield make
    for link in links:
        link.stop()
        assert not link._thread.is_alive(), "the till link's thread did not stop"


def commands(posted):
    return [e.command for e in posted if isinstance(e, TillCommanded)]


# --- item 7: nobody holds the line against the real till --------------------------------------------------------


def test_a_till_reconnecting_right_after_it_hung_up_gets_the_line_every_time(line):
    _, port, _ = line()
    for attempt in range(20):
        till = Till(port)
        greeting = till.line()
        assert HELLO.fullmatch(greeting), f"connection {attempt + 1} of 20 was refused: {greeting}"
        assert till.ask("PING") == "PONG 2", f"connection {attempt + 1} of 20 did not get the line"
        till.close()  # and at once the next connection


def test_a_silent_stranger_is_replaced_by_the_till_that_authenticates(line):
    _, port, posted = line()
    stranger = Till(port)
    stranger.hello()  # connects first, then says nothing: before, the till got ERR 409 for as long as it stayed
    till = Till(port)
    till.authenticate()
    assert stranger.line() == "ERR 409 replaced by another till"
    assert until(stranger.closed, "the stranger's connection to be closed")
    till.sock.sendall(b"SALE 5\r\n")
    until(lambda: commands(posted), "the till's SALE to reach the loop")
    assert commands(posted) == [TillSale(Amount(500, "INR"))]


def test_a_newcomer_cannot_take_the_line_from_an_authenticated_till_that_is_talking(line):
    _, port, _ = line()
    till = Till(port)
    till.authenticate()
    other = Till(port)
    assert other.ask(f"AUTH {auth_digest(SECRET, other.hello())}") == "ERR 409 another till is connected"
    assert until(other.closed, "the newcomer's connection to be closed")
    assert till.ask("PING") == "PONG 2"


def test_an_authenticated_till_that_went_silent_is_replaced_by_one_that_authenticates(line):
    _, port, _ = line(silent_after=0.0)  # silent from the first moment: the till that rebooted comes back
    before = Till(port)
    before.authenticate()
    after = Till(port)
    after.authenticate()
    assert before.line() == "ERR 409 replaced by another till"
    assert after.ask("PING") == "PONG 2"


def test_a_connection_with_no_traffic_for_the_idle_timeout_is_closed_and_frees_the_line(line):
    _, port, _ = line(idle_timeout=0.3)
    idle = Till(port)
    idle.hello()
    assert idle.line() == "ERR 408 idle for 0.3 s: closing"
    assert until(idle.closed, "the idle connection to be closed")
    till = Till(port)
    till.authenticate()


def _keepalive_timer(local_port: int, remote_port: int) -> int:
    """The ``tr`` (timer) field of the kernel's entry for the terminal's end of a loopback connection; 2 means the
    keepalive timer is armed (Documentation/networking/proc_net_tcp.rst)."""
    with open("/proc/net/tcp") as table:
        rows = table.read().splitlines()[1:]
    for row in rows:
        fields = row.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == local_port and int(remote, 16) == remote_port:
            return int(fields[5].split(":")[0], 16)
    raise AssertionError(f"no connection {local_port} → {remote_port} in /proc/net/tcp")


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc/net/tcp")
def test_tcp_keepalive_watches_the_tills_connection(line):
    _, port, _ = line()
    till = Till(port)
    till.authenticate()
    # Once the last reply is acknowledged (no retransmit timer, 1), the keepalive timer (2) is what stays armed.
    until(lambda: _keepalive_timer(port, till.sock.getsockname()[1]) == 2, "the keepalive timer (tr 2)")


# --- item 8: protocol v2's AUTH -----------------------------------------------------------------------------------


def test_over_tcp_only_ping_and_status_work_before_auth(line):
    _, port, posted = line()
    till = Till(port)
    till.hello()
    assert till.ask("SALE 5").startswith("ERR 401 authenticate first")
    assert till.ask("CANCEL").startswith("ERR 401 authenticate first")
    assert till.ask("PING") == "PONG 2"
    till.sock.sendall(b"STATUS\r\n")
    until(lambda: commands(posted), "STATUS to reach the loop")
    assert commands(posted) == [TillStatus()]


def test_a_wrong_auth_is_refused_and_answered_with_a_new_nonce(line):
    _, port, posted = line()
    till = Till(port)
    first = till.hello()
    assert till.ask(f"AUTH {auth_digest('not-the-secret-at-all', first)}") == "ERR 401 wrong AUTH: a new nonce follows"
    second = till.hello()
    assert second != first
    assert till.ask(f"AUTH {auth_digest(SECRET, first)}").startswith("ERR 401")  # a spent nonce
    assert till.ask(f"AUTH {auth_digest(SECRET, till.hello())}") == "OK AUTH"
    till.sock.sendall(b"SALE 5\r\n")
    until(lambda: commands(posted), "the SALE to reach the loop")
    assert commands(posted) == [TillSale(Amount(500, "INR"))]


def test_every_connection_gets_a_fresh_nonce_and_a_digest_seen_before_does_not_replay(line):
    _, port, _ = line()
    first = Till(port)
    nonce = first.hello()
    recorded = auth_digest(SECRET, nonce)
    assert first.ask(f"AUTH {recorded}") == "OK AUTH"
    first.close()
    replay = Till(port)
    assert replay.hello() != nonce
    assert replay.ask(f"AUTH {recorded}").startswith("ERR 401")
    replay.hello()
    assert replay.ask("SALE 5").startswith("ERR 401")


class PtyTill:
    """The till's end of a serial line (a pty pair; the terminal opens the slave)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.buffer = b""

    def line(self) -> str:
        deadline = time.monotonic() + 10
        while b"\n" not in self.buffer:
            assert time.monotonic() < deadline, f"no line from the terminal; got {self.buffer!r}"
            if select.select([self.master], [], [], 0.05)[0]:
                self.buffer += os.read(self.master, 65536)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().rstrip("\r")

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.mark.parametrize(("auth", "answer"), [("tcp", None), ("all", "ERR 401"), ("off", None)])
def test_a_serial_line_is_open_unless_auth_all(auth, answer):
    pty, posted = PtyTill(), []
    link = TillLink(pty.path, posted.append, currency="INR", secret=SECRET, auth=auth, retry=0.1).start()
    try:
        assert HELLO.fullmatch(pty.line())
        os.write(pty.master, b"SALE 5\r\n")
        if answer is None:
            until(lambda: commands(posted), "the SALE to reach the loop")
            assert commands(posted) == [TillSale(Amount(500, "INR"))]
        else:
            assert pty.line().startswith(answer) and commands(posted) == []
    finally:
        link.stop()
        pty.close()


def test_auth_off_lets_a_v1_till_sell_over_tcp(line):
    _, port, posted = line(auth="off")
    till = Till(port)
    till.hello()  # a v1 till reads the greeting and ignores it
    till.sock.sendall(b"SALE 5\r\n")
    until(lambda: commands(posted), "the SALE to reach the loop")
    assert commands(posted) == [TillSale(Amount(500, "INR"))]


# --- item 10: an oversize line is dropped in bulk -----------------------------------------------------------------


def test_after_a_10_mb_line_the_till_gets_one_413_and_the_answer_to_its_next_line(line):
    _, port, _ = line()
    till = Till(port)
    till.hello()
    flood = threading.Thread(target=till.sock.sendall, args=(b"X" * 10_000_000 + b"\r\nPING\r\n",), daemon=True)
    flood.start()
    assert till.line() == "ERR 413 line longer than 200 characters: ignored"
    assert till.line() == "PONG 2"
    flood.join(10)


def python_steps(reader: LineReader, data: bytes) -> tuple[int, list]:
    """The lines of Python the reader executes to take ``data`` (sys.settrace's line events), and its output."""
    steps = 0
    ours = {LineReader.feed.__code__, LineReader._too_long.__code__}

    def count(frame, event, arg):
        nonlocal steps
        steps += event == "line"
        return count

    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: count if frame.f_code in ours else None)
    try:
        out = reader.feed(data)
    finally:
        sys.settrace(previous)
    return steps, out


def test_an_oversize_line_is_dropped_in_bulk_not_byte_by_byte():
    """Issue #15 item 10: a 10 MB line kept the till thread busy for 40 s on a Pi, a Python step per byte. The work
    to drop a line must not grow with its length."""
    small_steps, small = python_steps(LineReader(), b"X" * 20_000 + b"\nPING\n")
    large_steps, large = python_steps(LineReader(), b"X" * 2_000_000 + b"\nPING\n")
    assert [getattr(x, "code", x) for x in small] == [getattr(x, "code", x) for x in large] == [413, "PING"]
    assert large_steps == small_steps < 100, (small_steps, large_steps)


def test_the_line_reader_cuts_a_huge_chunk_once_and_keeps_reading():
    reader = LineReader()
    out = reader.feed(b"Y" * 10_000_000)
    assert [e.code for e in out] == [413]
    assert reader.feed(b"Y" * 5000 + b"\rPING\r\nSTA") == ["PING"]  # the rest of the long line is skipped
    assert reader.feed(b"TUS\n\n\r\n") == ["STATUS"]


# --- item 14: a till that hung up normally is not a fault ----------------------------------------------------------


def test_a_tcp_line_waiting_for_its_till_is_not_a_fault(line):
    _, _, posted = line()
    assert [e for e in posted if isinstance(e, TillLinkChanged)] == [TillLinkChanged(None)]


def test_a_till_that_hung_up_normally_is_not_a_fault(line):
    link, port, posted = line()
    till = Till(port)
    till.authenticate()
    till.close()
    until(lambda: not link.connected, "the link to notice the hang-up")
    link.stop()  # joined: everything the link had to say is posted
    assert all(e.problem is None for e in posted if isinstance(e, TillLinkChanged))


def test_a_connection_that_breaks_is_shown_until_a_till_connects_again(line):
    _, port, posted = line()
    till = Till(port)
    till.authenticate()
    till.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    till.close()  # a reset, not a goodbye
    problem = until(
        lambda: [e.problem for e in posted if isinstance(e, TillLinkChanged) and e.problem],
        "the broken connection to be shown",
    )
    assert problem[0].startswith("till connection lost")
    Till(port).authenticate()
    until(lambda: posted[-1] == TillLinkChanged(None), "a new connection to clear it")
