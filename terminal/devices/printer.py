"""Receipts on an ESC/POS thermal printer, with python-escpos.

One render path: a receipt (plain data from :mod:`terminal.core.receipt`) becomes ESC/POS bytes on escpos's
``Dummy`` printer with the configured profile (columns, native QR, cutter); the connection (USB, serial,
network, file, or a directory of files for the demo) only carries those bytes. A connection is opened per job,
so an unplugged printer that comes back simply works again.

python-escpos 3.1 is imported lazily: at import it calls ``logging.basicConfig()`` and, unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set, makes a temporary directory and re-reads its capabilities (~200 ms).
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.core.receipt import Receipt, as_text

log = logging.getLogger(__name__)

CONNECTIONS = ("none", "usb", "serial", "network", "file", "directory")


class PrinterError(Exception):
    """The printer cannot print now; the message is for the shopkeeper ("out of paper", "unplugged")."""


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """[printer]: how the printer is connected and what it is."""

    connection: str = "none"
    profile: str = "TM-T20II"
    usb_vendor: int = 0
    usb_product: int = 0
    device: str = ""
    baudrate: int = 9600
    host: str = ""
    port: int = 9100
    timeout: float = 2.0
    auto_print: str = "ask"
    footer: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrintJobDone:
    """A print job reached the printer (posted by the print queue)."""

    job_id: int


@dataclass(frozen=True, slots=True)
class PrintJobFailed:
    """A print job could not be printed this time; it stays queued."""

    job_id: int
    error: str


def escpos_modules(cache_dir: Path | None = None) -> Any:
    """Import python-escpos the safe way (see the module docstring); returns ``escpos.printer``."""
    preset = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")  # the systemd unit sets it (CacheDirectory=)
    home_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qr-terminal" / "escpos"
    folder = Path(preset) if preset else (cache_dir or home_cache)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import escpos.printer

    root.handlers[:], root.level = handlers, level  # undo escpos's logging.basicConfig() when ours came first
    return escpos.printer


class ReceiptPrinter:
    """Renders receipts for one printer profile and sends them over the configured connection."""

    def __init__(self, config: PrinterConfig, *, cache_dir: Path | None = None) -> None:
        self.config = config
        self._escpos = escpos_modules(cache_dir)
        from escpos.capabilities import get_profile

        try:
            profile = get_profile(config.profile)
        except Exception as exc:  # escpos raises a bare KeyError-like NotSupported for unknown names
            raise PrinterError(f"unknown printer profile {config.profile!r}") from exc
        data = profile.profile_data
        self.columns = int(data["fonts"]["0"]["columns"])
        features = data["features"]
        self.native_qr = bool(features.get("qrCode"))
        self.can_cut = bool(features.get("paperFullCut") or features.get("paperPartCut"))
        pixels = data["media"]["width"].get("pixels")
        self.pixels = pixels if isinstance(pixels, int) else 384
        self._count = 0
        from escpos.magicencode import Encoder

        self._encoder = Encoder(profile.get_code_pages())

    def can_print(self, text: str) -> bool:
        """Whether every character of ``text`` is in one of the profile's code pages: what is not would be
        printed as ``?``."""
        return all(ord(c) < 128 or self._encoder.find_suitable_encoding(c) for c in set(text))

    def render(self, receipt: Receipt) -> bytes:
        """The receipt's ESC/POS bytes for this profile."""
        p = self._escpos.Dummy(profile=self.config.profile)
        p.hw("INIT")
        for line in receipt.lines:
            if line.large:
                p.set(align=line.align, bold=line.bold, double_width=True, double_height=True)
            else:
                p.set(align=line.align, bold=line.bold, normal_textsize=True)
            p.textln(line.text)
        p.set(align="center", bold=False, normal_textsize=True)
        if receipt.qr:
            if self.native_qr:
                p.qr(receipt.qr, size=6, native=True)  # GS ( k: the printer draws it (centred by ESC a 1)
            else:
                p.image(self._qr_image(receipt.qr), center=True)
            p.textln(receipt.qr_label)
        p.ln(2)
        if self.can_cut:
            p.cut()
        else:
            p.ln(3)  # no cutter: feed past the tear bar
        return bytes(p.output)

    def feed_bytes(self) -> bytes:
        """A few blank lines."""
        return b"\n" * 4

    def _qr_image(self, url: str) -> Any:
        import segno  # only here: the terminal without a printer never loads it
        from PIL import Image

        qr = segno.make_qr(url, error="m")
        modules = qr.symbol_size(scale=1, border=4)[0]
        scale = max(2, min(8, int(self.pixels * 0.6) // modules))
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=scale, border=4)  # the 4-module quiet zone scanners need
        buffer.seek(0)
        return Image.open(buffer).convert("1")

    def send(self, data: bytes, receipt: Receipt | None = None) -> None:
        """Deliver bytes to the printer. Raises PrinterError with a reason a shopkeeper understands."""
        if self.config.connection == "directory":
            self._to_directory(data, receipt)
            return
        with self._ready() as printer:
            try:
                printer._raw(data)
            except Exception as exc:  # escpos and the OS raise many kinds; all mean the same to a shopkeeper
                raise PrinterError(f"stopped answering ({_short(exc)})") from exc

    def check(self) -> str:
        """Open the connection and ask for the paper where it can; what was found. Raises PrinterError."""
        c = self.config
        if c.connection == "directory":
            if not Path(c.device).is_dir():
                raise PrinterError(f"not found — the folder {c.device} is missing")
            return f"receipts go to {c.device}"
        with self._ready():
            pass
        return f"{c.connection} printer, profile {c.profile}, {self.columns} columns"

    @contextmanager
    def _ready(self) -> Iterator[Any]:
        """The connection, open, with paper (asked where the connection can read); closed afterwards."""
        printer = self._connection()
        try:
            printer.open()
        except Exception as exc:  # escpos raises DeviceNotFoundError, USBNotFoundError, OSError…
            raise PrinterError(f"not found — is it plugged in and switched on? ({_short(exc)})") from exc
        try:
            if self.config.connection in ("usb", "serial", "network"):
                try:
                    status = printer.paper_status()
                except Exception as exc:
                    raise PrinterError(f"stopped answering ({_short(exc)})") from exc
                if status == 0:
                    raise PrinterError("out of paper")
            yield printer
        finally:
            try:
                printer.close()
            except Exception as exc:  # a pulled cable fails on close too; the job's outcome is already known
                log.debug("closing the printer failed: %s", exc)

    def _connection(self) -> Any:
        c, escpos = self.config, self._escpos
        profile = {"profile": c.profile}
        if c.connection == "usb":
            return escpos.Usb(c.usb_vendor, c.usb_product, timeout=int(c.timeout * 1000), **profile)
        if c.connection == "serial":
            return escpos.Serial(devfile=c.device, baudrate=c.baudrate, timeout=c.timeout, dsrdtr=False, **profile)
        if c.connection == "network":
            return escpos.Network(c.host, port=c.port, timeout=c.timeout, **profile)
        if c.connection == "file":
            if not Path(c.device).parent.is_dir() or (c.device.startswith("/dev/") and not Path(c.device).exists()):
                raise PrinterError(f"not found — {c.device} is missing (is it plugged in?)")
            return escpos.File(devfile=c.device, **profile)
        raise PrinterError(f"no printer connection {c.connection!r}")

    def _to_directory(self, data: bytes, receipt: Receipt | None) -> None:
        folder = Path(self.config.device)
        if not folder.is_dir():
            raise PrinterError(f"not found — the folder {folder} is missing")
        name = f"{self._count:02d}-{receipt.reference if receipt else 'feed'}"
        self._count += 1
        (folder / f"{name}.bin").write_bytes(data)
        if receipt is not None:
            (folder / f"{name}.txt").write_text(as_text(receipt, self.columns))


class PrintQueue:
    """Prints jobs in order from a background thread; a failing job stays first and is retried every
    ``retry`` seconds, while the counter keeps selling. Posts PrintJobDone / PrintJobFailed and, when the
    printer's state changes, ``on_problem(message or None)``."""

    def __init__(
        self,
        printer: ReceiptPrinter,
        post: Callable[[PrintJobDone | PrintJobFailed], None],
        on_problem: Callable[[str | None], None],
        *,
        retry: float = 5.0,
    ) -> None:
        self.printer = printer
        self._post, self._on_problem, self._retry = post, on_problem, retry
        self._jobs: deque[tuple[int, Receipt | None]] = deque()
        self._wake = threading.Condition()
        self._stop = False
        self._problem: str | None = None
        self._thread = threading.Thread(target=self._run, name="printer", daemon=True)
        self._thread.start()

    def submit(self, job_id: int, receipt: Receipt) -> None:
        """Queue a journaled job."""
        with self._wake:
            self._jobs.append((job_id, receipt))
            self._wake.notify_all()

    def feed(self) -> None:
        """Feed paper (not journaled: nothing is lost if it does not happen)."""
        with self._wake:
            self._jobs.append((0, None))
            self._wake.notify_all()

    def pending(self) -> int:
        """Jobs not printed yet."""
        with self._wake:
            return len(self._jobs)

    def stop(self) -> None:
        """End the thread (queued jobs stay in the journal and print at the next start)."""
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        self._thread.join(2)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._jobs or self._stop)
                if self._stop:
                    return
                job_id, receipt = self._jobs[0]
            try:
                if receipt is None:
                    self.printer.send(self.printer.feed_bytes())
                else:
                    self.printer.send(self.printer.render(receipt), receipt)
            except PrinterError as exc:
                if job_id:
                    self._post(PrintJobFailed(job_id, str(exc)))
                self._set_problem(str(exc))
                with self._wake:
                    if receipt is None:
                        self._jobs.popleft()  # a feed is not worth keeping
                    self._wake.wait_for(lambda: self._stop, self._retry)
                continue
            with self._wake:
                self._jobs.popleft()
            if job_id:
                self._post(PrintJobDone(job_id))
            self._set_problem(None)

    def _set_problem(self, problem: str | None) -> None:
        if problem != self._problem:
            self._problem = problem
            self._on_problem(problem)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) < 120 else text[:120] + "…"
