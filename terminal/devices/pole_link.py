"""Pole-display capture: the terminal sits on the serial line from a till to its customer pole display, passes
every byte on to the real display (on a second port, when there is one), reads what the till shows, and when a total
line appears starts a sale for it — or types it in for the shopkeeper to confirm with Enter.

For tills that cannot be changed: nothing in the till is configured, it goes on driving "its" display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import serial

from terminal.core.events import AmountOffered, Event, TillCommanded
from terminal.core.pole import DEFAULT_PATTERN, PoleDisplay, total_in
from terminal.core.till import TillSale
from terminal.devices.till_link import SerialSettings, TillLink

log = logging.getLogger(__name__)


class PoleLink(TillLink):
    """The till's pole-display line at ``target``; ``passthrough`` is the real display's port (or None)."""

    greets = False

    def __init__(
        self,
        target: str,
        post: Callable[[Event], None],
        *,
        currency: str,
        settings: SerialSettings | None = None,
        host: str = "0.0.0.0",
        retry: float = 1.0,
        command_set: str = "epson",
        pattern: str = DEFAULT_PATTERN,
        on_total: str = "sale",
        passthrough: str | None = None,
        decimal: str = ".",
        width: int = 20,
    ) -> None:
        super().__init__(target, post, currency=currency, settings=settings, host=host, retry=retry)
        if on_total not in ("sale", "prefill"):
            raise ValueError("on_total must be sale or prefill")
        self.display = PoleDisplay(command_set, width)
        self._pattern = pattern
        self._on_total = on_total
        self._decimal = decimal
        self._passthrough_path = passthrough
        self._passthrough: serial.Serial | None = None
        self._fired: str | None = None

    def send(self, line: str) -> bool:
        """A pole display cannot be answered: the terminal's words are only logged (a refused total: busy)."""
        if line.startswith("ERR"):
            log.warning("pole display total not used: %s", line)
        return True

    def _connected(self, write: Callable[[bytes], object], read: Callable[[int], bytes]) -> None:
        with self._lock:
            self._write = write
        self._read = read
        self._state(None)  # no greeting: the line is the till's, we only listen

    def _on_data(self, data: bytes) -> None:
        if not data:
            return
        self._pass_on(data)
        for line in self.display.feed(data):
            amount = total_in(line, self._pattern, self._currency, self._decimal)
            if amount is None:
                if line.strip():
                    self._fired = None  # the till moved on: the next total is a new sale
                continue
            if line == self._fired:
                continue  # the same total drawn again
            self._fired = line
            log.info("pole display shows %r: %s", line, amount.format_code())
            if self._on_total == "sale":
                self._post(TillCommanded(TillSale(amount, "POLE")))
            else:
                self._post(AmountOffered(amount))

    def _pass_on(self, data: bytes) -> None:
        if self._passthrough_path is None:
            return
        try:
            if self._passthrough is None:
                s = self._settings
                self._passthrough = serial.serial_for_url(
                    self._passthrough_path,
                    baudrate=s.baudrate,
                    bytesize=s.bytesize,
                    parity=s.parity,
                    stopbits=s.stopbits,
                    timeout=0.2,
                    write_timeout=1,
                )
            self._passthrough.write(data)
        except (serial.SerialException, OSError) as exc:
            log.warning("the real pole display on %s is not reachable: %s", self._passthrough_path, exc)
            if self._passthrough is not None:
                self._passthrough.close()
            self._passthrough = None
