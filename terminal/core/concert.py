"""Concert E+ frames (the French protocol between tills and payment terminals), the QR terminal playing the payment
terminal. Pure: framing, checksums and field layout; the line discipline (ENQ/ACK/EOT, timings) is in
``terminal.devices.concert_link``.

Request, 34 characters: POS number (2), amount in cents (8), answer flag (1), payment mode (1), type (1), currency
(ISO 4217 numeric, 3), private data (10), delay (4: A010 answer after the transaction, A011 at once), authorisation
(4). Response: POS number (2), status (1: 0 success, 7 rejected, 9 not verified), amount (8), payment mode (1),
[report (55) when the answer flag is 1], currency (3), private data (10). Each framed ``STX data ETX LRC`` where
LRC is the XOR of the data bytes and ETX.
"""

from __future__ import annotations

from dataclasses import dataclass

STX, ETX, EOT, ENQ, ACK, NAK = 0x02, 0x03, 0x04, 0x05, 0x06, 0x15
REQUEST_SIZE = 34
SUCCESS, REJECTED, NOT_VERIFIED = "0", "7", "9"


class ConcertError(ValueError):
    """A frame that is not a Concert E+ request; the till gets a NAK."""


@dataclass(frozen=True, slots=True)
class Request:
    """One payment request from the till."""

    pos: str
    cents: int
    answer_flag: str
    mode: str
    kind: str
    currency: str
    private: str
    delay: str
    authorisation: str


def lrc(data: bytes) -> int:
    """XOR of ``data`` (the frame's data bytes and its ETX)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(packet: str) -> bytes:
    """``STX packet ETX LRC``."""
    body = packet.encode("ascii") + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


def unframe(raw: bytes) -> str:
    """The packet of a complete frame; ConcertError for a wrong LRC or shape."""
    if len(raw) < 3 or raw[0] != STX or raw[-2] != ETX:
        raise ConcertError("not an STX … ETX LRC frame")
    if lrc(raw[1:-1]) != raw[-1]:
        raise ConcertError("wrong LRC")
    try:
        return raw[1:-2].decode("ascii")
    except UnicodeDecodeError:
        raise ConcertError("a frame that is not ASCII") from None


def parse_request(packet: str) -> Request:
    """The 34-character request."""
    if len(packet) != REQUEST_SIZE:
        raise ConcertError(f"a request has {REQUEST_SIZE} characters, not {len(packet)}")
    cents = packet[2:10]
    if not packet[:2].isdigit() or not cents.isdigit() or not packet[13:16].isdigit():
        raise ConcertError("POS number, amount and currency must be digits")
    return Request(
        pos=packet[0:2],
        cents=int(cents),
        answer_flag=packet[10],
        mode=packet[11],
        kind=packet[12],
        currency=packet[13:16],
        private=packet[16:26],
        delay=packet[26:30],
        authorisation=packet[30:34],
    )


def response(request: Request, status: str, cents: int, report: str = "", private: str = "") -> bytes:
    """The framed response to ``request``: the 55-character report only when its answer flag asks for it."""
    body = f"{request.pos}{status}{cents:08d}{request.mode}"
    if request.answer_flag == "1":
        body += _ascii(report)[:55].ljust(55)
    body += request.currency + (_ascii(private)[:10].ljust(10) if private else request.private)
    return frame(body)


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)
