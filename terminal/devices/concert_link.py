"""Concert E+ on the till's line: the QR terminal plays the payment terminal the till already knows how to drive.

The till sends ENQ, we ACK; it sends ``STX request ETX LRC`` (a wrong LRC gets NAK); we ACK; it ends with EOT and
the sale starts (as ``SALE`` would on the native protocol). When the sale ends we send ENQ, wait for the till's ACK,
send ``STX response ETX LRC`` (resent on NAK, at most 3 times) and end with EOT. The till waits up to 120 s for our
ENQ, so a Concert sale still unpaid after ``answer_within`` seconds is cancelled and answered "rejected": the till
is never left hanging. All of it runs in the link's thread; the loop only hands it the sale's events.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

from terminal.core.concert import (
    ACK,
    ENQ,
    EOT,
    ETX,
    NAK,
    NOT_VERIFIED,
    REJECTED,
    STX,
    SUCCESS,
    ConcertError,
    Request,
    parse_request,
    response,
    unframe,
)
from terminal.core.events import Event, TillCommanded
from terminal.core.money import NUMERIC, Amount, MoneyError
from terminal.core.till import TillCancel, TillSale
from terminal.devices.till_link import SerialSettings, TillLink

log = logging.getLogger(__name__)

#: The till gives up waiting for our answer after 120 s; we answer before that.
ANSWER_WITHIN = 110.0
RESENDS = 3


class ConcertLink(TillLink):
    """A till speaking Concert E+ at ``target`` (serial device or ``tcp:PORT``)."""

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
        answer_within: float = ANSWER_WITHIN,
        ack_timeout: float = 3.0,
    ) -> None:
        super().__init__(target, post, currency=currency, settings=settings, host=host, retry=retry)
        self._numeric = NUMERIC.get(currency, "")
        self._answer_within = answer_within
        self._ack_timeout = ack_timeout
        self._outbox: queue.Queue[str] = queue.Queue()
        self._undelivered = 0
        self._state_name = "idle"
        self._frame = bytearray()
        self._since = 0.0
        self._pending: Request | None = None
        self._pending_ref: str | None = None
        self._pending_at = 0.0
        self._cancel_asked = False
        self._request: Request | None = None

    def send(self, line: str) -> bool:
        """The loop's answers and events, turned into Concert responses in the link's thread."""
        with self._lock:
            self._undelivered += 1
        self._outbox.put(line)
        return True

    @property
    def delivering(self) -> bool:
        """True until every line sent has been turned into its answer and that answer's exchange is over."""
        return self._undelivered > 0

    def _connected(self, write: Callable[[bytes], object], read: Callable[[int], bytes]) -> None:
        with self._lock:
            self._write = write
        self._read = read
        self._state_name = "idle"
        self._state(None)  # no greeting: a Concert till speaks first

    # --- bytes from the till ------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        for byte in data:
            self._byte(byte)

    def _byte(self, byte: int) -> None:
        collecting = self._state_name == "frame" and bool(self._frame)  # inside a frame, 0x05 may be its LRC
        if byte == ENQ and not collecting and self._state_name in ("idle", "frame"):
            self._raw(bytes([ACK]))
            self._state_name, self._frame, self._since = "frame", bytearray(), time.monotonic()
        elif self._state_name == "frame":
            if not self._frame and byte != STX:
                return  # noise before the frame
            self._frame.append(byte)
            if len(self._frame) >= 2 and self._frame[-2] == ETX:
                self._frame_done(bytes(self._frame))
            elif len(self._frame) > 120:
                self._raw(bytes([NAK]))
                self._frame.clear()
        elif self._state_name == "eot" and byte == EOT:
            self._state_name = "idle"
            if self._request is not None:
                self._start(self._request)
        # anything else while idle: line noise, ignored

    def _frame_done(self, raw: bytes) -> None:
        try:
            self._request = parse_request(unframe(raw))
        except ConcertError as exc:
            log.warning("concert: %s: NAK", exc)
            self._raw(bytes([NAK]))  # the till may send it again
            self._frame.clear()
            return
        self._raw(bytes([ACK]))
        self._state_name, self._since = "eot", time.monotonic()

    def _start(self, request: Request) -> None:
        if self._pending is not None:
            self._answer(request, REJECTED, 0)  # one sale at a time
            return
        reason = None
        if request.currency != self._numeric:
            reason = f"currency {request.currency} is not this terminal's ({self._numeric})"
        elif request.mode == "2":
            reason = "refunds are made from the terminal's manager menu"
        if reason is not None:
            log.warning("concert: request refused: %s", reason)
            self._answer(request, REJECTED, request.cents)
            return
        try:
            amount = Amount(request.cents, self._currency)
        except MoneyError:
            self._answer(request, REJECTED, request.cents)
            return
        self._pending, self._pending_ref, self._pending_at = request, None, time.monotonic()
        self._cancel_asked = False
        self._post(TillCommanded(TillSale(amount, f"POS{request.pos}")))

    # --- the loop's words, and timers ---------------------------------------------------------

    def _idle(self) -> None:
        if self._state_name != "idle" and time.monotonic() - self._since > 5.0:
            self._state_name = "idle"  # a till that stopped half-way: start over
        while True:
            try:
                line = self._outbox.get_nowait()
            except queue.Empty:
                break
            try:
                self._line(line)
            finally:
                with self._lock:
                    self._undelivered -= 1
        waiting = self._pending is not None and self._pending_ref is not None
        if waiting and not self._cancel_asked and time.monotonic() - self._pending_at > self._answer_within:
            self._cancel_asked = True
            log.warning(
                "concert: sale %s unpaid after %.0f s: cancelled so the till gets its answer in time",
                self._pending_ref,
                self._answer_within,
            )
            self._post(TillCommanded(TillCancel()))

    def _line(self, line: str) -> None:
        words = line.split()
        request = self._pending
        if request is None or not words:
            return
        if words[0] == "OK" and words[1:2] == ["SALE"]:
            self._pending_ref = words[2]
        elif words[0] == "ERR" and self._pending_ref is None:
            self._finish(REJECTED, request.cents)  # busy, above the maximum, offline caps
        elif words[0] == "RESULT" and words[1] == self._pending_ref:
            outcome = next((w for w in words[2:] if not w.startswith("REF=")), "")
            if outcome == "PAID":
                at = words.index("PAID")
                paid = Amount.parse(words[at + 1], words[at + 2]).minor
                self._finish(SUCCESS, paid, report=" ".join(words[at + 3 : at + 4]))
            elif outcome == "OVERPAID":
                # The till's sale is paid; the extra is the shopkeeper's to refund: answer the amount the till asked.
                at = words.index("OVERPAID")
                self._finish(SUCCESS, request.cents, report=" ".join(words[at + 3 : at + 4]))
            elif outcome == "UNCONFIRMED":
                self._finish(NOT_VERIFIED, request.cents)
            else:  # failed, expired, cancelled, and money not as asked (underpaid, mismatch): 7, rejected
                self._finish(REJECTED, request.cents)

    def _finish(self, status: str, cents: int, report: str = "") -> None:
        request, ref = self._pending, self._pending_ref
        self._pending = self._pending_ref = None
        assert request is not None
        self._answer(request, status, cents, report, ref or "")

    # --- our answer ---------------------------------------------------------------------------

    def _answer(self, request: Request, status: str, cents: int, report: str = "", private: str = "") -> None:
        frame = response(request, status, cents, report, private.replace("-", ""))
        for _ in range(RESENDS):
            self._raw(bytes([ENQ]))
            if self._wait_for(ACK):
                break
        else:
            log.error(
                "concert: the till did not answer our ENQ: result %s for POS %s not delivered", status, request.pos
            )
            return
        for attempt in range(1, RESENDS + 1):
            self._raw(frame)
            got = self._wait_for(ACK, NAK)
            if got == ACK:
                self._raw(bytes([EOT]))
                return
            log.warning(
                "concert: the till answered %s to our response (try %d)", "NAK" if got == NAK else "nothing", attempt
            )
        self._raw(bytes([EOT]))
        log.error("concert: response for POS %s not acknowledged after %d tries", request.pos, RESENDS)

    def _wait_for(self, *wanted: int) -> int | None:
        deadline = time.monotonic() + self._ack_timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            for byte in self._read(1):
                if byte in wanted:
                    return byte
        return None

    def _raw(self, data: bytes) -> None:
        with self._lock:
            if self._write is not None:
                self._write(data)
