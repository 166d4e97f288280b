"""The till's line: a serial device (pyserial: /dev/ttyUSB0, /dev/serial/by-id/…, with baud, parity, bits) or a
TCP port the terminal listens on. Lines in are parsed here (a bad one gets its ``ERR`` reply and changes nothing)
and posted to the loop as commands; lines out are written under a lock. A USB-serial adapter pulled out and put
back is reopened by itself; the link's state is posted so the screen can show it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from terminal.core.events import Event, TillCommanded, TillLinkChanged
from terminal.core.till import GREETING, MAX_LINE, VERSION, TillError, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """How the serial line is set: 9600 8N1 by default, as most tills are."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


class LineReader:
    """Bytes in, whole lines out; garbage and oversize lines never grow the buffer without bound."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[str | TillError]:
        """The complete lines in ``data`` (a line too long becomes one TillError, its rest is skipped)."""
        out: list[str | TillError] = []
        for byte in data:
            if byte in (10, 13):  # LF or CR ends a line (CRLF gives an empty line, ignored)
                if self._skipping:
                    self._skipping = False
                elif self._buffer:
                    out.append(self._buffer.decode("ascii", "replace"))
                self._buffer.clear()
            elif not self._skipping:
                self._buffer.append(byte)
                if len(self._buffer) > MAX_LINE:
                    out.append(TillError(413, f"line longer than {MAX_LINE} characters: ignored"))
                    self._buffer.clear()
                    self._skipping = True
        return out


class TillLink:
    """One till at ``target`` (a serial device path, or ``tcp:PORT``), speaking the native protocol."""

    def __init__(
        self,
        target: str,
        post: Callable[[Event], None],
        *,
        currency: str,
        settings: SerialSettings | None = None,
        host: str = "0.0.0.0",
        retry: float = 1.0,
    ) -> None:
        self.target = target
        self._post = post
        self._currency = currency
        self._settings = settings or SerialSettings()
        self._host = host
        self._retry = retry
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._write: Callable[[bytes], object] | None = None
        self._read: Callable[[int], bytes] = lambda size: b""
        self._reader = LineReader()
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

    def send(self, line: str) -> bool:
        """Write one line (CRLF); False when the till is not connected (it asks STATUS when it is back)."""
        with self._lock:
            write = self._write
            if write is None:
                log.info("till not connected; not sent: %s", line)
                return False
            try:
                write(line.encode("ascii", "replace") + b"\r\n")
            except (OSError, serial.SerialException) as exc:
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
            except (OSError, serial.SerialException, ValueError) as exc:
                self._state(f"till not connected ({self.target}): {_short(exc)}")
            self._stop.wait(self._retry)

    def _serve_serial(self) -> None:
        s = self._settings
        port = serial.serial_for_url(self.target, baudrate=s.baudrate, bytesize=s.bytesize, parity=s.parity,
                                     stopbits=s.stopbits, timeout=0.2)  # fmt: skip
        try:
            self._connected(port.write, port.read)
            while not self._stop.is_set():
                self._on_data(port.read(256))
                self._idle()
        finally:
            self._disconnected()
            port.close()

    def _serve_tcp(self, port_number: int) -> None:
        with socket.create_server((self._host, port_number), reuse_port=False) as server:
            server.settimeout(0.2)
            self._state(f"till not connected (waiting on {self.target})")
            while not self._stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                with client:
                    self._talk(client, server)
                self._state(f"till not connected (waiting on {self.target})")

    def _talk(self, client: socket.socket, server: socket.socket) -> None:
        client.settimeout(0.2)

        def receive(size: int) -> bytes:
            try:
                data = client.recv(size)
            except TimeoutError:
                return b""
            if not data:
                raise ConnectionResetError("the till hung up")
            return data

        self._connected(client.sendall, receive)
        try:
            while not self._stop.is_set():
                self._refuse_others(server)
                self._on_data(receive(256))
                self._idle()
        except OSError as exc:
            log.info("till connection dropped: %s", exc)
        finally:
            self._disconnected()

    def _refuse_others(self, server: socket.socket) -> None:
        server.settimeout(0)
        try:
            other, _ = server.accept()
        except (BlockingIOError, TimeoutError):
            return
        finally:
            server.settimeout(0.2)
        with other:
            other.sendall(b"ERR 409 another till is connected\r\n")

    def _connected(self, write: Callable[[bytes], object], read: Callable[[int], bytes]) -> None:
        with self._lock:
            self._write = write
        self._read = read
        self._reader = LineReader()
        self._state(None)
        self.send(GREETING)

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
                log.info("till connected on %s", self.target)
            self._post(TillLinkChanged(problem))

    def _handle(self, line: str | TillError) -> None:
        if isinstance(line, TillError):
            self.send(line.line)
            return
        try:
            command = parse(line.strip(), self._currency)
        except TillError as exc:
            self.send(exc.line)
            return
        if command is None:
            self.send(f"PONG {VERSION}")
            return
        self._post(TillCommanded(command))


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 120 else text[:120] + "…"


#: The till protocols, by ``[till] kind``.
KINDS = ("native", "concert", "pole")


def open_till(kind: str, device: str, post: Callable[[Event], None], *, currency: str, host: str = "0.0.0.0",
              baudrate: int = 9600, bytesize: int = 8, parity: str = "N", stopbits: int = 1,
              pole: dict[str, Any] | None = None) -> TillLink:  # fmt: skip
    """The running link for a till speaking ``kind`` on ``device`` (a serial device or ``tcp:PORT``); ``pole``
    holds the pole-display capture's options (command_set, pattern, on_total, passthrough, decimal, width)."""
    settings = SerialSettings(baudrate, bytesize, parity, stopbits)
    if kind == "pole":
        from terminal.devices.pole_link import PoleLink

        return PoleLink(device, post, currency=currency, settings=settings, host=host, **(pole or {})).start()
    if kind == "concert":
        from terminal.devices.concert_link import ConcertLink

        return ConcertLink(device, post, currency=currency, settings=settings, host=host).start()
    if kind != "native":
        raise ValueError(f"till kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return TillLink(device, post, currency=currency, settings=settings, host=host).start()
