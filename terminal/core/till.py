"""The native till protocol, v2: line-based ASCII a person can type in a serial terminal (see docs/till-protocol.md).

Till → terminal: ``SALE <amount> [<currency>] [REF=<till reference>]``, ``CANCEL``, ``STATUS``, ``PING``, and when
``[till] manager_commands = true``: ``REFUND <sale reference> [<amount>]``, ``REPORT``. v2 adds authentication: the
terminal greets with ``HELLO QRTERM 2 <nonce>`` and the till answers ``AUTH <hex HMAC-SHA256(secret, nonce)>``;
where the line requires it, only ``PING`` and ``STATUS`` work before that.
Terminal → till: ``OK …`` or ``ERR <code> <message>`` for each command, and events as the sale moves on:
``QR <sale ref> <amount> <currency>``, ``RESULT <sale ref> PAID|FAILED|EXPIRED|CANCELLED|UNCONFIRMED …``.
Pure: parsing and wording only; the rules (busy, cancel) are in the machine.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from terminal.core.matching import Verdict
from terminal.core.money import Amount, MoneyError
from terminal.core.refund import Refund, RefundStatus
from terminal.core.sale import Sale, SaleStatus

VERSION = 2
MAX_LINE = 200
#: The longest amount a RESULT line carries (a real one is far shorter; longer ones are absurd and written "-").
MONEY_CHARS = 40
_REF = re.compile(r"[A-Za-z0-9_./-]{1,32}")


@dataclass(frozen=True, slots=True)
class TillSale:
    """Start a sale for ``amount``; ``till_ref`` is the till's own reference, echoed in every event."""

    amount: Amount
    till_ref: str | None = None


@dataclass(frozen=True, slots=True)
class TillCancel:
    """Cancel the sale running now."""


@dataclass(frozen=True, slots=True)
class TillStatus:
    """Say what the terminal is doing."""


@dataclass(frozen=True, slots=True)
class TillRefund:
    """Refund a paid sale by its reference: all that is left of it, or ``amount``."""

    reference: str
    amount: Amount | None = None


@dataclass(frozen=True, slots=True)
class TillReport:
    """Send the X report (running totals since the last Z), one ``REPORT`` line each."""


Command = TillSale | TillCancel | TillStatus | TillRefund | TillReport


class TillError(ValueError):
    """A line that is not a command: ``ERR <code> <message>``, and nothing changes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def line(self) -> str:
        """The reply."""
        return f"ERR {self.code} {self}"


def parse(line: str, currency: str) -> Command | None:
    """The command on ``line`` (None for PING, answered at once). Raises TillError."""
    if len(line) > MAX_LINE:
        raise TillError(413, f"line longer than {MAX_LINE} characters")
    if not line.isascii() or not line.isprintable():
        raise TillError(400, "only printable ASCII, one command per line")
    words = line.split()
    if not words:
        raise TillError(400, "empty line: SALE, CANCEL, STATUS or PING")
    verb, args = words[0].upper(), words[1:]
    if verb == "PING" and not args:
        return None
    if verb == "CANCEL" and not args:
        return TillCancel()
    if verb == "STATUS" and not args:
        return TillStatus()
    if verb == "REPORT" and (not args or [a.upper() for a in args] == ["X"]):
        return TillReport()
    if verb == "REFUND":
        return _refund(args, currency)
    if verb == "SALE":
        return _sale(args, currency)
    if verb in ("PING", "CANCEL", "STATUS", "REPORT"):
        raise TillError(400, f"{verb} takes no arguments" if verb != "REPORT" else "REPORT takes no argument or X")
    raise TillError(400, f"unknown command {words[0][:20]!r}: SALE, CANCEL, STATUS, REFUND, REPORT or PING")


@dataclass(frozen=True, slots=True)
class TillAuth:
    """``AUTH <digest>``: the till proves it knows the shared secret (protocol v2). Answered by the link, never a
    command of the sale."""

    digest: str


_DIGEST = re.compile(r"[0-9A-Fa-f]{64}")


def parse_line(line: str, currency: str) -> Command | TillAuth | None:
    """:func:`parse`, plus v2's ``AUTH <64 hex digits>``. Raises TillError."""
    words = line.split()
    if words and words[0].upper() == "AUTH" and len(line) <= MAX_LINE:
        if len(words) != 2 or not _DIGEST.fullmatch(words[1]):
            raise TillError(400, "AUTH <64 hex digits: HMAC-SHA256 of the HELLO nonce with the till secret>")
        return TillAuth(words[1].lower())
    return parse(line, currency)


def hello(nonce: str) -> str:
    """The greeting of every new connection (and of a serial line when it opens): version and a fresh nonce."""
    return f"HELLO QRTERM {VERSION} {nonce}"


def auth_digest(secret: str, nonce: str) -> str:
    """What the till answers to ``HELLO QRTERM 2 <nonce>``: HMAC-SHA256, keyed with the secret's UTF-8 bytes, of the
    nonce's ASCII bytes, in lowercase hex."""
    return hmac.new(secret.encode(), nonce.encode("ascii"), hashlib.sha256).hexdigest()


def authenticates(auth: TillAuth, secret: str | None, nonce: str) -> bool:
    """True when ``auth`` carries the digest of ``nonce`` under ``secret`` (compared in constant time)."""
    if not secret:
        return False
    return hmac.compare_digest(auth.digest.lower(), auth_digest(secret, nonce))


def admit(command: Command | None, authenticated: bool) -> None:
    """Raise ``ERR 401`` for a command that needs ``AUTH`` first (``PING`` is None; it and ``STATUS`` never do)."""
    if not authenticated and command is not None and not isinstance(command, TillStatus):
        raise TillError(401, "authenticate first: AUTH <HMAC-SHA256 of the HELLO nonce> (PING and STATUS work without)")


def undone(what: str) -> str:
    """The answer to a command whose step the terminal had to undo (nothing of it was done)."""
    return f"ERR 500 {_ascii(what)}: nothing was done"


def _refund(args: list[str], currency: str) -> TillRefund:
    if not 1 <= len(args) <= 2 or not _REF.fullmatch(args[0]):
        raise TillError(400, "REFUND <sale reference> [<amount>], e.g. REFUND T1-000123 5.00")
    if len(args) == 1:
        return TillRefund(args[0])
    try:
        amount = Amount.parse(args[1], currency)
    except MoneyError as exc:
        raise TillError(422, f"bad amount {args[1][:20]!r}: {exc}") from None
    if amount.minor <= 0:
        raise TillError(422, "the amount must be above zero")
    return TillRefund(args[0], amount)


def _sale(args: list[str], currency: str) -> TillSale:
    if not args:
        raise TillError(400, "SALE needs an amount, e.g. SALE 12.50")
    till_ref = None
    rest = []
    for arg in args[1:]:
        if arg.upper().startswith("REF="):
            if not _REF.fullmatch(arg[4:]):
                raise TillError(400, "REF= takes 1 to 32 letters, digits or . _ / -")
            till_ref = arg[4:]
        else:
            rest.append(arg)
    if len(rest) > 1 or (rest and rest[0].upper() != currency):
        raise TillError(422, f"this terminal sells in {currency}")
    try:
        amount = Amount.parse(args[0], currency)
    except MoneyError as exc:
        raise TillError(422, f"bad amount {args[0][:20]!r}: {exc}") from None
    if amount.minor <= 0:
        raise TillError(422, "the amount must be above zero")
    return TillSale(amount, till_ref)


def event_for(sale: Sale, previous: str | None, *, again: bool = False) -> str | None:
    """The event line the till is told when ``sale`` moved from ``previous`` (None: nothing to tell); ``again``
    for news without a change of status (another payment arrived for a sale already paid)."""
    if previous == sale.status and not again:
        return None
    ref = sale.reference + (f" REF={sale.till_ref}" if sale.till_ref else "")
    if sale.status is SaleStatus.AWAITING_PAYMENT:
        return f"QR {ref} {sale.amount.decimal()} {sale.amount.currency}"
    if sale.status in (SaleStatus.PAID, SaleStatus.UNDERPAID, SaleStatus.MISMATCH):
        return _received_line(sale, ref)
    if sale.status is SaleStatus.FAILED:
        reason = sale.failure.message if sale.failure is not None else "the sale did not complete"
        return f"RESULT {ref} FAILED {_ascii(reason)}"
    if sale.status in (SaleStatus.EXPIRED, SaleStatus.CANCELLED, SaleStatus.UNCONFIRMED):
        return f"RESULT {ref} {str(sale.status).upper()}"
    return None


def _received_line(sale: Sale, ref: str) -> str:
    """``RESULT <ref> PAID|OVERPAID|UNDERPAID|MISMATCH <received> <currency> <provider ref>``: what arrived, summed
    over every payment (``- -`` when the backend's amount could not be read)."""
    found = sale.matched
    payments = sale.payments
    provider = payments[-1].provider_ref if payments and payments[-1].provider_ref else "-"
    if found is None:  # an offline sale confirmed without a payment figure: the amount asked
        return f"RESULT {ref} PAID {sale.amount.decimal()} {sale.amount.currency} {_token(provider)}"
    word = {
        Verdict.PAID: "PAID",
        Verdict.OVERPAID: "OVERPAID",
        Verdict.PAID_TWICE: "OVERPAID",
        Verdict.UNDERPAID: "UNDERPAID",
        Verdict.MISMATCH: "MISMATCH",
    }[found.verdict]
    got = found.received
    money = f"{got.decimal()} {got.currency}" if got is not None else "- -"
    if len(money) > MONEY_CHARS:  # an absurd amount a backend reported: the line stays within MAX_LINE
        money = f"- {got.currency}" if got is not None else "- -"
    return f"RESULT {ref} {word} {money} {_token(provider)}"


def refund_event(refund: Refund) -> str | None:
    """``REFUND <ref> SUCCEEDED|FAILED …`` when a refund became final (None before)."""
    if not refund.status.is_final:
        return None
    amount = refund.amount
    words = f"REFUND {refund.slip_reference} {str(refund.status).upper()} {amount.decimal()} {amount.currency}"
    return words + (f" {_ascii(refund.message)}" if refund.status is RefundStatus.FAILED and refund.message else "")


def status_line(sale: Sale | None, phase: str, offline: bool) -> str:
    """``STATUS IDLE`` / ``STATUS ENTERING`` / ``STATUS SALE <ref> <status> <amount> <currency>`` (+ ``OFFLINE``)."""
    if sale is None:
        text = f"STATUS {phase.upper()}"
    else:
        text = f"STATUS SALE {sale.reference} {str(sale.status).upper()} {sale.amount.decimal()} {sale.amount.currency}"
    return text + (" OFFLINE" if offline else "")


def report_reply(lines: list[str]) -> list[str]:
    """The answer to ``REPORT``: one ``REPORT <line>`` per line of the X report, then ``OK REPORT``."""
    return [*(f"REPORT {line}" for line in lines), "OK REPORT"]


def _token(text: str) -> str:
    return "".join(c for c in _ascii(text) if not c.isspace())[:40] or "-"


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)[:120]
