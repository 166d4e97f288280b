"""EMV QR Code Specification for Payment Systems, merchant-presented mode (EMV QRCPS MPM).

A payload is a flat list of TLV fields — two-digit tag, two-digit length counted in *characters*, value —
starting with ``00`` (format indicator) and ending with ``63`` (CRC-16/CCITT-FALSE over the UTF-8 bytes of
everything before the CRC value, ``6304`` included). Templates (26–51 merchant accounts, 62 additional data,
64 language, 80–99 unreserved) hold TLV fields of their own.

Field limits (59 ≤ 25 characters, 60 ≤ 15, …) are enforced when building and tolerated when parsing:
published payloads break them, and refusing to *read* them would only hide what they say. What a reader
could read two ways is refused even here: a tag twice (top level or in a template), a length or tag in
non-ASCII digits, an amount that is not ASCII digits. Non-ASCII text is parsed with lengths in characters,
as EMVCo's own sample does, but apps that count bytes read another payload: the guard refuses it, and
``build`` writes ASCII only.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import NUMERIC, Amount
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.text import amount_of


class EmvError(PayloadError):
    """Not an EMV merchant-presented payload, or one that cannot be built as asked."""


TEMPLATES = {str(t) for t in (*range(26, 52), 62, 64, *range(80, 100))}

#: Largest length of each top-level field when building (exact lengths are in EXACT).
MAX_LENGTH = {"54": 13, "56": 13, "57": 5, "59": 25, "60": 15, "61": 10}
EXACT_LENGTH = {"00": 2, "01": 2, "52": 4, "53": 3, "55": 2, "58": 2}
#: Subfields of the additional data template 62 (bill number, …, reference label, …) are ≤ 25 characters.
ADDITIONAL_MAX = 25

CURRENCY_BY_NUMERIC = {code: alpha for alpha, code in NUMERIC.items()}


def crc16(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection), as four upper-case hex digits."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


@dataclass(frozen=True, slots=True)
class Field:
    """One TLV field; ``children`` holds a template's own fields (None for a primitive field)."""

    tag: str
    value: str
    children: tuple[Field, ...] | None = None

    def sub(self, tag: str) -> str | None:
        """The value of subfield ``tag`` of this template, or None."""
        for child in self.children or ():
            if child.tag == tag:
                return child.value
        return None

    def sub_field(self, tag: str) -> Field | None:
        """Subfield ``tag`` of this template as a Field, or None."""
        return next((c for c in self.children or () if c.tag == tag), None)


@dataclass(frozen=True, slots=True)
class EmvPayload:
    """A parsed payload: its fields in order, and whether its CRC matched."""

    raw: str
    fields: tuple[Field, ...]
    crc_ok: bool

    def get(self, tag: str) -> str | None:
        """The value of top-level field ``tag``, or None."""
        return next((f.value for f in self.fields if f.tag == tag), None)

    def field(self, tag: str) -> Field | None:
        """Top-level field ``tag``, or None."""
        return next((f for f in self.fields if f.tag == tag), None)

    @property
    def currency(self) -> str | None:
        """The ISO 4217 alphabetic code of field 53 (numeric in the payload), or None."""
        code = self.get("53")
        return CURRENCY_BY_NUMERIC.get(code, code) if code is not None else None

    def amount(self) -> Amount | None:
        """Field 54 in the currency of 53, or None when the payload leaves the amount to the customer."""
        text, code = self.get("54"), self.get("53")
        if text is None:
            return None
        if code is None:
            raise EmvError("an amount (54) without a currency (53)")
        if code not in CURRENCY_BY_NUMERIC:
            raise EmvError(f"currency 53={code!r} is not an ISO 4217 numeric code this terminal knows")
        return amount_of(text, CURRENCY_BY_NUMERIC[code], "amount 54", EmvError)

    @property
    def merchant_accounts(self) -> tuple[Field, ...]:
        """Templates 26–51 (and the primitive network fields 02–25)."""
        return tuple(f for f in self.fields if f.tag.isdigit() and 2 <= int(f.tag) <= 51)

    @property
    def is_dynamic(self) -> bool:
        """Point of initiation 12: a QR for one payment."""
        return self.get("01") == "12"


def _tlv(text: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        head = text[i : i + 4]
        if len(head) < 4 or not (head.isascii() and head.isdigit()):  # "²" is a digit to isdigit, not to int
            raise EmvError(f"{where}: expected a two-digit tag and length at character {i}, found {head!r}")
        tag, length = head[:2], int(head[2:])
        value = text[i + 4 : i + 4 + length]
        if len(value) != length:
            raise EmvError(f"{where}: field {tag} says {length} characters but only {len(value)} remain")
        out.append((tag, value))
        i += 4 + length
    return out


def parse(text: str) -> EmvPayload:
    """Parse an EMV MPM payload. Raises EmvError; a wrong CRC is reported (``crc_ok``), not raised."""
    if not isinstance(text, str) or not text.startswith("000201"):
        raise EmvError("not an EMV merchant-presented QR (it must start with 000201)")
    pairs = _tlv(text, "payload")
    if pairs[-1][0] != "63" or len(pairs[-1][1]) != 4:
        raise EmvError("the CRC (63, four hex digits) must be the last field")
    _once(pairs, "the payload")
    fields = []
    for tag, value in pairs:
        children = None
        if tag in TEMPLATES:
            try:
                inner = _tlv(value, f"template {tag}")
            except EmvError:
                inner = None  # tolerated: some issuers put a primitive value in an RFU template (the guard refuses it)
            if inner is not None:
                _once(inner, f"template {tag}")
                children = tuple(Field(t, v) for t, v in inner)
                if tag in {"26", "27", "28", "29", "30", "38"}:
                    children = tuple(_nested(c) for c in children)
        fields.append(Field(tag, value, children))
    crc_ok = crc16(text[:-4].encode("utf-8")) == pairs[-1][1].upper()
    return EmvPayload(text, tuple(fields), crc_ok)


def _once(pairs: list[tuple[str, str]], where: str) -> None:
    """A tag twice is refused: one app reads the first, another the last (PIX 01 ours, then 01 theirs)."""
    tags = [tag for tag, _ in pairs]
    if len(set(tags)) != len(tags):
        raise EmvError(f"{where}: a field appears twice: {sorted({t for t in tags if tags.count(t) > 1})}")


def _nested(field: Field) -> Field:
    """VietQR puts a template inside a merchant account template (38.01 = BIN + account)."""
    if len(field.value) >= 4 and field.value[:4].isdigit():
        try:
            inner = _tlv(field.value, f"subfield {field.tag}")
        except EmvError:
            return field
        if len(inner) > 1 and len({t for t, _ in inner}) == len(inner):
            return Field(field.tag, field.value, tuple(Field(t, v) for t, v in inner))
    return field


Build = list[tuple[str, "str | list[tuple[str, str]]"]]


def build(fields: Build) -> str:
    """Build a payload from ``(tag, value)`` pairs (a template's value is a list of pairs); appends the CRC.

    ``00`` must come first; limits are enforced and break with an EmvError naming the field.
    """
    if not fields or fields[0] != ("00", "01"):
        raise EmvError("an EMV payload starts with 00 = '01'")
    out = []
    for tag, value in fields:
        if tag == "63":
            raise EmvError("the CRC (63) is added by build()")
        if isinstance(value, list):
            inner = "".join(_encode(sub, sub_value, tag) for sub, sub_value in value)
            out.append(_encode(tag, inner, None))
        else:
            out.append(_encode(tag, value, None))
    body = "".join(out) + "6304"
    return body + crc16(body.encode("utf-8"))


def _encode(tag: str, value: str, parent: str | None) -> str:
    where = f"{parent}.{tag}" if parent else tag
    if len(tag) != 2 or not tag.isdigit():
        raise EmvError(f"tag {where!r} must be two digits")
    if not value:
        raise EmvError(f"field {where} is empty")
    if not (value.isascii() and value.isprintable()):
        # EMV's "ans" format; apps count lengths in characters or in bytes, so anything else reads two ways
        raise EmvError(f"field {where} must be printable ASCII, got {value!r}")
    if parent is None and tag in EXACT_LENGTH and len(value) != EXACT_LENGTH[tag]:
        raise EmvError(f"field {where} must be {EXACT_LENGTH[tag]} characters, got {value!r}")
    limit = MAX_LENGTH.get(tag, 99) if parent is None else (ADDITIONAL_MAX if parent == "62" else 99)
    if len(value) > limit:
        raise EmvError(f"field {where} is limited to {limit} characters, got {len(value)}: {value!r}")
    return f"{tag}{len(value):02d}{value}"
