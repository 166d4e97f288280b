"""Any payment-QR payload, read into one shape: whom it pays, how much, with which reference.

This is what the guard checks and what ``qr-terminal payload parse`` prints. Every failure is a
:class:`~terminal.core.payloads.errors.PayloadError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminal.core.money import Amount
from terminal.core.payloads import emv, emv_profiles, epc, link, upi
from terminal.core.payloads.emv_profiles import Account
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.text import LINE_BREAKS, amount_of

#: A pay-page link's parameters that carry money: written plainly, once.
LINK_MONEY_KEYS = frozenset({"am", "cu"})


@dataclass(frozen=True, slots=True)
class Surcharge:
    """What an EMV payload adds to its amount, read from tag 55 (tip or convenience indicator, EMVCo MPM
    4.7.x) and its values 56 and 57.

    ``kind``: ``tip`` (55 = 01: the app prompts the customer for a tip), ``fixed`` (55 = 02: a convenience
    fee of ``fee``, tag 56), ``percent`` (55 = 03: a fee of ``percent`` per cent of the amount, tag 57),
    ``unknown`` (55 with another value, or 02/03 without its 56/57: ``indicator`` holds it), ``fee`` (56 or 57
    without 55, which some apps add to the amount anyway)."""

    kind: str
    indicator: str | None = None
    fee: Amount | str | None = None  # an Amount when 56 reads as one in the payload's currency, else its text
    percent: str | None = None

    def as_json(self) -> dict[str, Any]:
        """For ``qr-terminal payload parse``."""
        fee = self.fee.decimal() if isinstance(self.fee, Amount) else self.fee
        return {"kind": self.kind, "indicator": self.indicator, "fee": fee, "percent": self.percent}


@dataclass(frozen=True, slots=True)
class Summary:
    """What a payload says. ``accounts``: every account it can pay (a customer's app picks one)."""

    scheme: str  # upi, emv, epc, url
    profile: str  # upi, pix, promptpay, paynow, khqr, vietqr, qris, emv, epc, url
    payee_name: str | None
    accounts: tuple[Account, ...]
    amount: Amount | None
    amount_editable: bool = False
    reference: str | None = None
    crc_ok: bool | None = None
    currency: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    surcharge: Surcharge | None = None

    def as_json(self) -> dict[str, Any]:
        """For ``qr-terminal payload parse``."""
        return {
            "scheme": self.scheme,
            "profile": self.profile,
            "payee": {"name": self.payee_name, "ids": [i for a in self.accounts for i in (*a.ids, *a.hosts)]},
            "amount": self.amount.decimal() if self.amount else None,
            "currency": self.amount.currency if self.amount else self.currency,
            "amount_editable": self.amount_editable,
            "reference": self.reference,
            "crc_ok": self.crc_ok,
            "surcharge": self.surcharge.as_json() if self.surcharge else None,
            "fields": self.fields,
        }


def scheme_of(text: str) -> str | None:
    """The scheme a payload is written in, by its first characters, or None."""
    if text.startswith("000201"):
        return "emv"
    if text[:4].lower() == "upi:":
        return "upi"
    if text.startswith("BCD") and text[3:4] in LINE_BREAKS:
        return "epc"  # any line break: a bare CR must reach the EPC parser (and its refusal), not "unknown"
    if text[:8].lower().startswith(("http://", "https://")):
        return "url"
    return None


def summarise(text: str) -> Summary:
    """Read any supported payload. Raises PayloadError."""
    if not isinstance(text, str) or not text:
        raise PayloadError("an empty payload")
    scheme = scheme_of(text)
    if scheme == "emv":
        return _emv(emv.parse(text))
    if scheme == "upi":
        return _upi(upi.parse(text))
    if scheme == "epc":
        return _epc(epc.parse(text))
    if scheme == "url":
        return _url(text)
    raise PayloadError("not a payment QR this terminal reads (EMV, UPI, EPC or a pay-page link)")


def _emv(payload: emv.EmvPayload) -> Summary:
    accounts = emv_profiles.accounts(payload)
    fields: dict[str, Any] = {
        f.tag: ({c.tag: _sub_json(c) for c in f.children} if f.children else f.value) for f in payload.fields
    }
    return Summary(
        scheme="emv",
        profile=emv_profiles.profile(payload),
        payee_name=payload.get("59"),
        accounts=accounts,
        amount=payload.amount(),
        amount_editable=any(a.amount_editable for a in accounts) or payload.get("55") == TIP,
        reference=emv_profiles.reference(payload),
        crc_ok=payload.crc_ok,
        currency=payload.currency,
        fields=fields,
        surcharge=_surcharge(payload),
    )


#: Tag 55's values (EMVCo MPM 4.7.x): the app prompts for a tip; a fixed fee (56); a percentage fee (57).
TIP, FIXED, PERCENT = "01", "02", "03"


def _surcharge(payload: emv.EmvPayload) -> Surcharge | None:
    indicator, fixed, percent = payload.get("55"), payload.get("56"), payload.get("57")
    if indicator == TIP:
        return Surcharge("tip", indicator)
    if indicator == FIXED and fixed is not None:
        return Surcharge("fixed", indicator, fee=_fee(fixed, payload.currency))
    if indicator == PERCENT and percent is not None:
        return Surcharge("percent", indicator, percent=percent)
    if indicator is not None:
        return Surcharge("unknown", indicator)
    if fixed is not None or percent is not None:
        return Surcharge("fee", fee=fixed, percent=percent)
    return None


def _fee(text: str, currency: str | None) -> Amount | str:
    """56 as an Amount in the payload's currency, or its text when it does not read as one."""
    try:
        return amount_of(text, currency or "", "fee 56", emv.EmvError)
    except PayloadError:
        return text


def _sub_json(field: emv.Field) -> Any:
    return {c.tag: c.value for c in field.children} if field.children else field.value


def _upi(uri: upi.UpiUri) -> Summary:
    return Summary(
        scheme="upi",
        profile="upi",
        payee_name=uri.payee_name or None,
        accounts=(Account("upi", (uri.payee_address,)),),
        currency=uri.params.get("cu", "INR"),
        amount=uri.amount(),
        amount_editable="mam" in uri.params,
        reference=uri.params.get("tr"),
        fields=dict(uri.params),
    )


def _epc(payload: epc.EpcPayload) -> Summary:
    return Summary(
        scheme="epc",
        profile="epc",
        payee_name=payload.name,
        accounts=(Account("epc", (payload.iban,)),),
        currency="EUR",
        amount=payload.amount,
        reference=payload.reference or payload.text or None,
        fields={
            "version": payload.version,
            "charset": payload.charset,
            "bic": payload.bic,
            "name": payload.name,
            "iban": payload.iban,
            "purpose": payload.purpose,
            "reference": payload.reference,
            "text": payload.text,
            "information": payload.information,
            "bytes": epc.byte_length(payload),
        },
    )


def _url(text: str) -> Summary:
    found = link.read(text, plain=LINK_MONEY_KEYS)
    query = found.params
    amount = None
    if "am" in query:
        amount = amount_of(query["am"], query.get("cu", ""), "the link's amount")
    return Summary(
        scheme="url",
        profile="url",
        payee_name=None,
        accounts=(Account("url", (), hosts=(found.netloc,)),),
        amount=amount,
        reference=query.get("tr"),
        currency=query.get("cu"),
        fields={"host": found.host, "port": found.port, "path": found.path, **query},
    )
