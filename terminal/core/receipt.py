"""What a receipt says, as plain data laid out for the printer's columns (58 mm ≈ 32, 80 mm ≈ 42/48).

The printer adapter turns it into ESC/POS bytes; ``as_text`` gives the same receipt as plain text (the demo's
preview, tests, a log line).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from terminal.core.i18n import N_, PLAIN, Words
from terminal.core.refund import Refund
from terminal.core.sale import Sale, SaleStatus

SCHEME_NAMES = {"upi": "UPI", "emv": N_("QR (EMV)"), "epc": N_("SEPA transfer"), "url": N_("Pay page")}
STATUS_NAMES = {
    SaleStatus.PAID: N_("PAID"),
    SaleStatus.FAILED: N_("FAILED"),
    SaleStatus.EXPIRED: N_("EXPIRED"),
    SaleStatus.CANCELLED: N_("CANCELLED"),
    SaleStatus.UNDERPAID: N_("UNDERPAID"),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line: ``text`` already fitted to the columns, its alignment, and its type."""

    text: str
    align: str = "left"  # left | center
    large: bool = False  # double width and height: the amount
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt: its lines, a QR to the digital receipt (or None), and the sale it belongs to."""

    sale_id: str
    reference: str
    lines: tuple[Line, ...]
    qr: str | None = None
    #: Printed under the QR.
    qr_label: str = "Digital receipt"


@dataclass(frozen=True, slots=True)
class ShopDetails:
    """Who prints the receipt (from the config), and in which language and number format: ``words`` on the
    screen, ``paper`` on a printer whose code pages lack the screen's script (None: the same)."""

    name: str
    address: tuple[str, ...] = ()
    store: str = ""
    terminal_id: str = ""
    footer: tuple[str, ...] = ()
    words: Words = PLAIN
    paper: Words | None = None

    @property
    def printed(self) -> Words:
        """The words receipts are printed in."""
        return self.paper or self.words


def receipt_for(sale: Sale, *, shop: ShopDetails, local_time: str, columns: int, reprint: bool = False) -> Receipt:
    """The receipt of ``sale`` at ``columns`` characters a line; ``local_time`` as the shop reads it."""
    _ = shop.printed
    lines = _head(shop, columns, _("COPY") if reprint else None)
    lines.append(_pair(_("Date"), local_time, columns))
    lines.append(_pair(_("Sale"), sale.reference, columns))
    if sale.order is not None:
        lines.append(_pair(_("Paid by"), _(SCHEME_NAMES.get(sale.order.qr.scheme, sale.order.qr.scheme)), columns))
        lines.append(_pair(_("Payee"), sale.order.payee.id, columns))
    payment = sale.payment
    if payment is not None and payment.provider_ref:
        label = "UTR" if sale.order is not None and sale.order.qr.scheme == "upi" else _("Payment ref")
        lines.append(_pair(label, payment.provider_ref, columns))
    lines.append(Line("-" * columns))
    shown = sale.received
    lines.append(_amount_line(_.money(shown, code=True), columns))
    status = _(STATUS_NAMES.get(sale.status, str(sale.status).upper()))
    lines.append(Line(_fit(status, columns), "center", bold=True))
    if shown != sale.amount:
        sale_amount = _("Sale amount {amount}", amount=_.money(sale.amount, code=True))
        lines.append(Line(_fit(sale_amount, columns), "center"))
    lines.append(Line("-" * columns))
    lines += [Line(_fit(f, columns), "center") for f in shop.footer]
    receipt_url = sale.order.receipt_url if sale.order is not None else None
    if payment is not None and payment.receipt_url:  # the provider's own receipt for this payment wins
        receipt_url = payment.receipt_url
    return Receipt(sale.id, sale.reference, tuple(lines), receipt_url, _("Digital receipt"))


def refund_slip_for(refund: Refund, *, shop: ShopDetails, local_time: str, columns: int) -> Receipt:
    """The slip of a refund that went through: the customer keeps it as proof the money is on its way back."""
    _ = shop.printed
    lines = _head(shop, columns, _("REFUND"))
    lines.append(_pair(_("Date"), local_time, columns))
    lines.append(_pair(_("Sale"), refund.reference, columns))
    lines.append(_pair(_("Refund"), refund.slip_reference, columns))
    if refund.provider_id:
        lines.append(_pair(_("Refund ref"), refund.provider_id, columns))
    lines.append(Line("-" * columns))
    lines.append(_amount_line(_.money(refund.amount, code=True), columns))
    lines.append(Line(_fit(_("REFUNDED"), columns), "center", bold=True))
    lines.append(Line(_fit(_("Back to the account that paid"), columns), "center"))
    lines.append(Line("-" * columns))
    lines += [Line(_fit(f, columns), "center") for f in shop.footer]
    return Receipt(refund.sale_id, refund.slip_reference, tuple(lines))


def report_slip_for(kind: str, report_lines: tuple[str, ...], *, shop: ShopDetails, columns: int) -> Receipt:
    """An X or Z report on paper (its lines wrapped to the printer's columns)."""
    lines = _head(shop, columns, None)
    for text in report_lines:
        lines += [Line(part) for part in _wrap(text, columns)]
    lines.append(Line("-" * columns))
    _ = shop.printed
    title = report_lines[0] if report_lines else _("{kind} report", kind=kind.upper())
    return Receipt(f"{kind}-report", title, tuple(lines))


def _head(shop: ShopDetails, columns: int, banner: str | None) -> list[Line]:
    lines: list[Line] = [Line(_fit(shop.name, columns), "center", bold=True)]
    lines += [Line(_fit(a, columns), "center") for a in shop.address]
    if banner:
        lines.append(Line(_fit(f"*** {banner} ***", columns), "center", bold=True))
    lines.append(Line("-" * columns))
    _ = shop.printed
    if shop.store:
        lines.append(_pair(_("Store"), shop.store, columns))
    if shop.terminal_id:
        lines.append(_pair(_("Terminal"), shop.terminal_id, columns))
    return lines


def _wrap(text: str, columns: int) -> list[str]:
    return [text[i : i + columns] for i in range(0, len(text), columns)] or [""]


def as_text(receipt: Receipt, columns: int) -> str:
    """The receipt as plain text, ``columns`` wide (large type shown at normal width)."""
    out = []
    for line in receipt.lines:
        centred = line.text.center(columns + len(line.text) - _width(line.text)).rstrip()
        out.append(centred if line.align == "center" else line.text)
    if receipt.qr:
        out += ["", "[QR] " + receipt.qr]
    return "\n".join(out) + "\n"


def _amount_line(amount: str, columns: int) -> Line:
    """The amount in double-width type (which halves the columns), or at normal width when it would not fit:
    an amount is never cut."""
    if _width(amount) <= columns // 2:
        return Line(amount, "center", large=True, bold=True)
    return Line(amount, "center", bold=True)


def _pair(label: str, value: str, columns: int) -> Line:
    """``Label        value``, the value right-aligned; a long value goes on its own line."""
    room = columns - _width(label) - 1
    if _width(value) <= room:
        return Line(label + " " * (columns - _width(label) - _width(value)) + value)
    return Line(f"{label}:\n{_fit(value, columns)}")


def _fit(text: str, columns: int) -> str:
    return text if _width(text) <= columns else text[: columns - 1] + "."


def _width(text: str) -> int:
    """Printed columns: Thai vowel and tone marks (and other combining marks) sit on the letter before them."""
    return sum(1 for c in text if not unicodedata.combining(c))
