"""The till's line: a serial device (pyserial: /dev/ttyUSB0, /dev/serial/by-id/…, with baud, parity, bits) or a
TCP port the terminal listens on. Lines in are parsed here (a bad one gets its ``ERR`` reply and changes nothing)
and posted to the loop as commands; lines out are written under a lock. A USB-serial adapter pulled out and put
back is reopened by itself; the link's state is posted so the screen can show it.

Over TCP one till at a time holds the line, and nobody can keep it from the real one: a connection that is silent
for ``idle_timeout`` is closed, TCP keepalive notices a peer that vanished, a new connection that authenticates
replaces one that never did or has been silent for ``silent_after`` seconds, and one that arrives while the line is
busy waits a few seconds for it instead of being refused at once (a till that connects per sale reconnects right
after it hung up). A till that hangs up normally is not a fault: nothing is shown on the screen for it.
"""

from __future__ import annotations

import logging
import re
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from terminal.core.events import Event, TillCommanded, TillLinkChanged
from terminal.core.till import MAX_LINE, VERSION, TillAuth, TillError, admit, authenticates, hello, parse_line

log = logging.getLogger(__name__)

#: ``[till] auth``: which lines must ``AUTH`` before SALE, CANCEL, REFUND or REPORT — TCP connections only (a
#: serial cable reaches nobody but the till), every line, or none (protocol v1 tills that cannot authenticate).
AUTH_MODES = ("tcp", "all", "off")
#: A TCP connection with no traffic either way for this long is closed (0: never).
IDLE_TIMEOUT = 600.0
#: An authenticated newcomer replaces a connection the terminal has not heard from for this long.
SILENT_AFTER = 10.0
#: How long a newcomer waits for a busy line before it is refused, and how many may wait.
WAIT_FOR_LINE = 5.0
MAX_WAITING = 4
#: TCP keepalive: first probe after this many idle seconds, then every so many seconds, this many probes.
KEEPALIVE = (30, 10, 3)
_REFUSED = b"ERR 409 another till is connected\r\n"


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """How the serial line is set: 9600 8N1 by default, as most tills are."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


_LINE_END = re.compile(rb"[\r\n]")


class LineReader:
    """Bytes in, whole lines out; garbage and oversize lines never grow the buffer without bound, and are cut and
    dropped in bulk (a 10 MB line costs a few scans of it, not a step per byte)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[str | TillError]:
        """The complete lines in ``data`` (a line too long becomes one TillError, its rest is skipped)."""
        out: list[str | TillError] = []
        *complete, rest = _LINE_END.split(data)  # LF or CR ends a line (CRLF gives an empty line, ignored)
        for piece in complete:
            if self._skipping:
                self._skipping = False  # the end of a line already reported too long
            elif self._buffer or piece:
                self._buffer += piece
                too_long = len(self._buffer) > MAX_LINE
                out.append(self._too_long() if too_long else self._buffer.decode("ascii", "replace"))
            self._buffer.clear()
        if not self._skipping:
            self._buffer += rest[: MAX_LINE + 1 - len(self._buffer)]
            if len(self._buffer) > MAX_LINE:
                out.append(self._too_long())
                self._buffer.clear()
                self._skipping = True
        return out

    @staticmethod
    def _too_long() -> TillError:
        return TillError(413, f"line longer than {MAX_LINE} characters: ignored")


class _HungUp(ConnectionError):
    """The till closed its end of the connection: a normal end, not a fault."""


class _Connection:
    """One TCP connection: its socket, its reader, the nonce it was greeted with, whether it proved the secret, and
    when it was last heard from (and last used either way)."""

    def __init__(self, sock: socket.socket, nonce: str) -> None:
        self.sock, self.nonce = sock, nonce
        self.reader = LineReader()
        self.authenticated = False
        self.opened = self.heard = self.used = time.monotonic()

    def receive(self, size: int = 65536) -> bytes:
        """Bytes from the till (empty when none came within 0.2 s); raises _HungUp when it closed its end."""
        try:
            data = self.sock.recv(size)
        except TimeoutError as exc:
            if exc.errno is not None:
                raise  # ETIMEDOUT from the kernel: keepalive found the till gone
            return b""  # our own 0.2 s read timeout
        if not data:
            raise _HungUp("the till hung up")
        self.heard = self.used = time.monotonic()
        return data

    def write(self, data: bytes) -> None:
        """Bytes to the till."""
        self.sock.sendall(data)
        self.used = time.monotonic()

    def close(self, last_words: bytes = b"") -> None:
        """Close, after ``last_words`` when they can be sent."""
        try:
            if last_words:
                self.sock.sendall(last_words)
        except OSError:
            pass  # it is being closed anyway
        self.sock.close()


class TillLink:
    """One till at ``target`` (a serial device path, or ``tcp:PORT``), speaking the native protocol.

    ``secret`` is shared with the till (``till_secret`` in the secrets file); ``auth`` (one of AUTH_MODES) says which
    lines must prove it before anything but PING and STATUS.
    """

    #: The native protocol greets every line (and a newcomer waiting for a busy TCP line) with ``HELLO``; the
    #: protocols of other tills do not.
    greets: ClassVar[bool] = True

    def __init__(
        self,
        target: str,
        post: Callable[[Event], None],
        *,
        currency: str,
        settings: SerialSettings | None = None,
        host: str = "127.0.0.1",
        retry: float = 1.0,
        secret: str | None = None,
        auth: str = "tcp",
        idle_timeout: float = IDLE_TIMEOUT,
        silent_after: float = SILENT_AFTER,
    ) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {auth!r}")
        self.target = target
        self._post = post
        self._currency = currency
        self._settings = settings or SerialSettings()
        self._host = host
        self._retry = retry
        self._secret = secret or None
        self._auth_required = auth == "all" or (auth == "tcp" and target.startswith("tcp:"))
        self._idle_timeout = idle_timeout
        self._silent_after = silent_after
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._write: Callable[[bytes], object] | None = None
        self._read: Callable[[int], bytes] = lambda size: b""
        self._reader = LineReader()
        self._nonce = ""
        self._authenticated = False
        self._active: _Connection | None = None
        self._waiting: list[_Connection] = []
        self._problem: str | bool | None = False  # False: nothing posted yet
        self._thread = threading.Thread(target=self._run, name=f"till-{target}", daemon=True)

    def start(self) -> TillLink:
        """Open (and keep reopening) the line in a thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Close the line and end the thread."""
        self._stop.set()
        self._thread.join(timeout)

    @property
    def connected(self) -> bool:
        """True while the line is open (a serial device opened, a TCP till connected)."""
        return self._write is not None

    @property
    def delivering(self) -> bool:
        """True while something sent is still on its way to the till (lines here are written at once)."""
        return False

    def send(self, line: str) -> bool:
        """Write one line (CRLF); False when the till is not connected (it asks STATUS when it is back)."""
        with self._lock:
            write = self._write
            if write is None:
                log.info("till not connected; not sent: %s", line)
                return False
            try:
                write(line.encode("ascii", "replace") + b"\r\n")
            except OSError as exc:  # pyserial's SerialException is an OSError
                log.warning("till: could not send %r: %s", line, exc)
                return False
        return True

    # --- the line ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.target.startswith("tcp:"):
                    self._serve_tcp(int(self.target[4:]))
                else:
                    self._serve_serial()
            except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
                self._state(f"till not connected ({self.target}): {_short(exc)}")
            self._stop.wait(self._retry)

    def _serve_serial(self) -> None:
        import serial  # only a serial till needs pyserial (not imported by a terminal without one)

        s = self._settings
        port = serial.serial_for_url(
            self.target, baudrate=s.baudrate, bytesize=s.bytesize, parity=s.parity, stopbits=s.stopbits, timeout=0.2
        )
        try:
            self._connected(port.write, port.read)
            self._greet()
            while not self._stop.is_set():
                data = port.read(1)  # waits up to 0.2 s; then all that is there, at once
                if data and (more := port.in_waiting):
                    data += port.read(min(more, 65536))
                self._on_data(data)
                self._idle()
        finally:
            self._disconnected()
            port.close()

    def _serve_tcp(self, port_number: int) -> None:
        with socket.create_server((self._host, port_number), reuse_port=False) as server:
            server.setblocking(False)
            # Listening is this line's normal state: a till that connects per sale is away between sales.
            self._state(None)
            log.info("till: listening on %s:%d", self._host, port_number)
            try:
                while not self._stop.is_set():
                    self._tcp_pass(server)
            finally:
                if self._active is not None:
                    self._hang_up(None)
                while self._waiting:
                    self._waiting.pop().close()

    def _tcp_pass(self, server: socket.socket) -> None:
        """One wait for anything on the line (at most 0.2 s), and what follows from it."""
        active = self._active
        watched = [server, *([active.sock] if active else []), *(c.sock for c in self._waiting)]
        readable, _, _ = select.select(watched, [], [], 0.2)
        if active is not None:
            try:
                if active.sock in readable:
                    self._on_data(active.receive())
                self._idle()
            except _HungUp:
                self._hang_up(None)  # first, so the till reconnecting right after it finds the line free
            except OSError as exc:
                self._hang_up(f"till connection lost: {_short(exc)}")
        self._next_in_line()
        for conn in list(self._waiting):
            if conn.sock in readable:
                self._from_waiting(conn)
        if server in readable:
            self._accept(server)
            self._next_in_line()
        self._time_out()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                sock, address = server.accept()
            except (BlockingIOError, InterruptedError):
                return
            _keepalive(sock)
            sock.settimeout(0.2)
            conn = _Connection(sock, _nonce())
            if len(self._waiting) >= MAX_WAITING:
                conn.close(_REFUSED)
                continue
            try:
                if self.greets:
                    conn.write(hello(conn.nonce).encode() + b"\r\n")
            except OSError:
                conn.close()
                continue
            log.info("till: connection from %s", address[0])
            self._waiting.append(conn)

    def _next_in_line(self) -> None:
        """The line is free: the longest-waiting newcomer takes it."""
        if self._active is None and self._waiting:
            self._take(self._waiting.pop(0))

    def _take(self, conn: _Connection) -> None:
        self._active = conn
        self._connected(conn.write, conn.receive)
        self._reader = conn.reader
        self._nonce, self._authenticated = conn.nonce, conn.authenticated

    def _hang_up(self, problem: str | None, last_words: bytes = b"") -> None:
        """The connection holding the line is gone (or closed by us, after ``last_words``); ``problem`` when that
        is a fault."""
        conn, self._active = self._active, None
        self._disconnected()
        if conn is not None:
            conn.close(last_words)
        if problem:
            self._state(problem)
        else:
            log.info("till connection closed (%s)", self.target)

    def _from_waiting(self, conn: _Connection) -> None:
        try:
            data = conn.receive()
        except OSError:
            self._waiting.remove(conn)
            conn.close()
            return
        for line in conn.reader.feed(data):
            if conn is self._active:
                self._handle(line)  # it took the line with an earlier line of the same read
            elif conn in self._waiting:
                self._waiting_line(conn, line)

    def _waiting_line(self, conn: _Connection, line: str | TillError) -> None:
        """A line from a newcomer while another till holds the line: it replaces a silent one by proving the
        secret (or, where the line needs no AUTH, by a well-formed command); anything else is refused."""
        try:
            command = parse_line(line.strip(), self._currency) if isinstance(line, str) else line
        except TillError as exc:
            command = exc
        if isinstance(command, TillAuth):
            if not authenticates(command, self._secret, conn.nonce):
                self._waiting.remove(conn)
                conn.close(TillError(401, "wrong AUTH").line.encode() + b"\r\n")
                return
            conn.authenticated = True
            if self._replaceable():
                self._replace(conn)
                self.send("OK AUTH")
                return
        elif not isinstance(command, TillError) and not self._auth_required and self._replaceable():
            self._replace(conn)
            self._handle(line)
            return
        self._waiting.remove(conn)
        conn.close(_REFUSED)

    def _replaceable(self) -> bool:
        active = self._active
        if active is None or (self._auth_required and not self._authenticated):
            return True
        return time.monotonic() - active.heard >= self._silent_after

    def _replace(self, conn: _Connection) -> None:
        if self._active is not None:
            log.warning(
                "till: a silent connection was replaced by a new one that %s",
                "authenticated" if conn.authenticated else "sent a command",
            )
            self._hang_up(None, b"ERR 409 replaced by another till\r\n" if self.greets else b"")
        self._waiting.remove(conn)
        self._take(conn)

    def _time_out(self) -> None:
        now = time.monotonic()
        active = self._active
        if active is not None and self._idle_timeout and now - active.used >= self._idle_timeout:
            log.info("till: no traffic for %.0f s: connection closed", self._idle_timeout)
            words = f"ERR 408 idle for {self._idle_timeout:g} s: closing\r\n".encode()
            self._hang_up(None, words if self.greets else b"")
        for conn in list(self._waiting):
            if now - conn.opened >= WAIT_FOR_LINE:
                self._waiting.remove(conn)
                conn.close(_REFUSED)

    def _connected(self, write: Callable[[bytes], object], read: Callable[[int], bytes]) -> None:
        with self._lock:
            self._write = write
        self._read = read
        self._reader = LineReader()
        self._state(None)

    def _greet(self) -> None:
        """A fresh nonce for the line, and ``HELLO QRTERM 2 <nonce>``."""
        self._nonce, self._authenticated = _nonce(), False
        if self.greets:
            self.send(hello(self._nonce))

    def _on_data(self, data: bytes) -> None:
        """Bytes from the till (empty when nothing came within the read timeout)."""
        for line in self._reader.feed(data):
            self._handle(line)

    def _idle(self) -> None:
        """Called between reads (about five times a second): a subclass's timers."""

    def _disconnected(self) -> None:
        with self._lock:
            self._write = None

    def _state(self, problem: str | None) -> None:
        if problem != self._problem:
            self._problem = problem
            if problem:
                log.warning("%s", problem)
            else:
                log.info("till line ready on %s", self.target)
            self._post(TillLinkChanged(problem))

    def _handle(self, line: str | TillError) -> None:
        if isinstance(line, TillError):
            self.send(line.line)
            return
        try:
            command = parse_line(line.strip(), self._currency)
            if isinstance(command, TillAuth):
                self._authenticate(command)
                return
            admit(command, self._authenticated or not self._auth_required)
        except TillError as exc:
            self.send(exc.line)
            return
        if command is None:
            self.send(f"PONG {VERSION}")
            return
        self._post(TillCommanded(command))

    def _authenticate(self, auth: TillAuth) -> None:
        if self._secret is None:
            raise TillError(400, "no till secret is set on this terminal: AUTH is not used here")
        if authenticates(auth, self._secret, self._nonce):
            self._authenticated = True
            self.send("OK AUTH")
            return
        log.warning("till: wrong AUTH on %s", self.target)
        self.send(TillError(401, "wrong AUTH: a new nonce follows").line)
        self._greet()  # a nonce answers one AUTH: the next try is against a new one


def _nonce() -> str:
    """A fresh random nonce for one greeting (128 bits, hex)."""
    return secrets.token_hex(16)


def _keepalive(sock: socket.socket) -> None:
    """TCP keepalive, so a till that vanished (power cut, cable pulled) frees the line within about a minute."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in zip(("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT"), KEEPALIVE, strict=True):
        if hasattr(socket, name):  # Linux; other systems keep their own timings
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 120 else text[:120] + "…"


#: The till protocols, by ``[till] kind``.
KINDS = ("native", "concert", "pole")


def open_till(
    kind: str,
    device: str,
    post: Callable[[Event], None],
    *,
    currency: str,
    host: str = "127.0.0.1",
    baudrate: int = 9600,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: int = 1,
    pole: dict[str, Any] | None = None,
    secret: str | None = None,
    auth: str = "tcp",
    idle_timeout: float = IDLE_TIMEOUT,
) -> TillLink:
    """The running link for a till speaking ``kind`` on ``device`` (a serial device or ``tcp:PORT``); ``pole``
    holds the pole-display capture's options (command_set, pattern, on_total, passthrough, decimal, width);
    ``secret`` and ``auth`` are the native protocol's authentication."""
    settings = SerialSettings(baudrate, bytesize, parity, stopbits)
    if kind == "pole":
        from terminal.devices.pole_link import PoleLink

        return PoleLink(device, post, currency=currency, settings=settings, host=host, **(pole or {})).start()
    if kind == "concert":
        from terminal.devices.concert_link import ConcertLink

        return ConcertLink(device, post, currency=currency, settings=settings, host=host).start()
    if kind != "native":
        raise ValueError(f"till kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return TillLink(
        device,
        post,
        currency=currency,
        settings=settings,
        host=host,
        secret=secret,
        auth=auth,
        idle_timeout=idle_timeout,
    ).start()
