"""EPC069-12 "Quick Response Code: guidelines to enable data capture for the initiation of a SEPA credit
transfer" (GiroCode): twelve lines, at most 331 bytes in the declared character set."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import Amount
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.text import LINE_BREAKS, amount_of, is_plain


class EpcError(PayloadError):
    """Not an EPC069-12 payload, or one that cannot be built as asked."""


CHARSETS = {
    "1": "utf-8",
    "2": "iso-8859-1",
    "3": "iso-8859-2",
    "4": "iso-8859-4",
    "5": "iso-8859-5",
    "6": "iso-8859-7",
    "7": "iso-8859-10",
    "8": "iso-8859-15",
}
MAX_BYTES = 331
MAX_MINOR = 999_999_999_99


@dataclass(frozen=True, slots=True)
class EpcPayload:
    """A SEPA credit transfer as the QR states it."""

    raw: str
    version: str
    charset: str
    bic: str
    name: str
    iban: str
    amount: Amount | None
    purpose: str
    reference: str
    text: str
    information: str


def iban_ok(iban: str) -> bool:
    """True when ``iban`` has a valid ISO 13616 check (mod 97 = 1)."""
    compact = iban.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def parse(text: str) -> EpcPayload:
    """Parse an EPC QR payload (lines end in LF or CR LF, and at no other line break). Raises EpcError naming
    what is wrong."""
    if not isinstance(text, str):
        raise EpcError("an EPC payload is text")
    lines = text.replace("\r\n", "\n").split("\n")
    odd = sorted({repr(c) for c in "".join(lines) if c in LINE_BREAKS})
    if odd:
        # Java's and Kotlin's lines() and \R split on a bare CR, U+2028 and more: a bank app would read
        # other lines (another IBAN, another amount) than a reader splitting on LF only.
        raise EpcError(f"a line break other than LF or CR LF ({', '.join(odd)}): readers split lines differently")
    if lines[0] != "BCD":
        raise EpcError("not an EPC QR (the first line must be BCD)")
    if len(lines) < 7 or len(lines) > 12:
        raise EpcError(f"an EPC QR has 7 to 12 lines, this one {len(lines)}")
    lines += [""] * (12 - len(lines))
    _, version, charset, service, bic, name, iban, amount_text, purpose, reference, remittance, info = lines
    if version not in ("001", "002"):
        raise EpcError(f"version {version!r} is not 001 or 002")
    if charset not in CHARSETS:
        raise EpcError(f"character set {charset!r} is not 1–8")
    if service != "SCT":
        raise EpcError(f"identification {service!r} is not SCT")
    if version == "001" and not bic:
        raise EpcError("version 001 requires the BIC")
    if not name or not iban:
        raise EpcError("the beneficiary's name and IBAN are required")
    if not is_plain(iban.replace(" ", "")) or not is_plain(bic or "-"):
        raise EpcError(f"the IBAN {iban!r} and the BIC {bic!r} are written in ASCII letters and digits")
    if reference and remittance:
        raise EpcError("a structured reference and a remittance text cannot both be given")
    amount = None
    if amount_text:
        if not amount_text.startswith("EUR"):
            raise EpcError(f"amount {amount_text!r} must start with EUR")
        amount = amount_of(amount_text[3:], "EUR", "the amount", EpcError)
    return EpcPayload(
        text, version, charset, bic, name, iban.replace(" ", ""), amount, purpose, reference, remittance, info
    )


def build(
    *,
    name: str,
    iban: str,
    amount: Amount,
    bic: str = "",
    reference: str = "",
    text: str = "",
    purpose: str = "",
    information: str = "",
    charset: str = "1",
) -> str:
    """A version 002 payload (UTF-8 unless ``charset`` says otherwise). Enforces the guideline's limits and
    the IBAN check digits."""
    if charset not in CHARSETS:
        raise EpcError(f"character set {charset!r} is not 1–8")
    if amount.currency != "EUR":
        raise EpcError(f"SEPA credit transfers are in EUR, not {amount.currency}")
    if not 1 <= amount.minor <= MAX_MINOR:
        raise EpcError("the amount must be from EUR 0.01 to EUR 999999999.99")
    if not 1 <= len(name) <= 70:
        raise EpcError(f"the beneficiary name is 1–70 characters, got {len(name)}")
    compact = iban.replace(" ", "").upper()
    if not iban_ok(compact):
        raise EpcError(f"{iban!r} is not a valid IBAN")
    if bic and len(bic) not in (8, 11):
        raise EpcError(f"a BIC is 8 or 11 characters, got {bic!r}")
    if reference and text:
        raise EpcError("give a structured reference or a text, not both")
    if len(reference) > 35 or len(text) > 140 or len(purpose) > 4 or len(information) > 70:
        raise EpcError("reference ≤ 35, text ≤ 140, purpose ≤ 4, information ≤ 70 characters")
    lines = [
        "BCD",
        "002",
        charset,
        "SCT",
        bic,
        name,
        compact,
        "EUR" + amount.short_decimal(),
        purpose,
        reference,
        text,
        information,
    ]
    if LINE_BREAKS & set("".join(lines)):
        raise EpcError("an EPC element cannot contain a line break (readers would split it into other lines)")
    while lines[-1] == "":
        lines.pop()
    payload = "\n".join(lines)
    try:
        size = len(payload.encode(CHARSETS[charset]))
    except UnicodeEncodeError:
        raise EpcError(f"the text cannot be written in character set {charset} ({CHARSETS[charset]})") from None
    if size > MAX_BYTES:
        raise EpcError(f"an EPC QR holds at most {MAX_BYTES} bytes, this one {size}")
    return payload


def byte_length(payload: EpcPayload) -> int:
    """The payload's size in its declared character set (the guideline's 331-byte limit counts these)."""
    return len(payload.raw.encode(CHARSETS[payload.charset]))
