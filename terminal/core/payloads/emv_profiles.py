"""National profiles of EMV MPM: who a payload pays, read the way each country's apps read it.

Each merchant account template (26–51) names a payment network by its globally unique identifier (GUI) in
subfield 00, and the account in other subfields. The guard needs every account a payload carries, because a
customer's app picks whichever template it supports: one foreign account among ours is enough to divert money.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from terminal.core.money import Amount
from terminal.core.payloads import link
from terminal.core.payloads.emv import EmvError, EmvPayload, Field, build

PIX_GUI = "br.gov.bcb.pix"
PROMPTPAY_GUI = "A000000677010111"
PROMPTPAY_BILL_GUI = "A000000677010112"
PAYNOW_GUI = "SG.PAYNOW"
VIETQR_GUI = "A000000727"
QRIS_GUI = "ID.CO.QRIS.WWW"
#: SGQR's identity template (51: SGQR id, version, postal code, unit): labels the sticker, pays no one.
SGQR_GUI = "SG.SGQR"


@dataclass(frozen=True, slots=True)
class Account:
    """One merchant account in a payload: its network (profile), *every* id it names (each must be the
    shop's: an app may route by any of them), the hosts it sends the app to (dynamic PIX), and its GUI."""

    profile: str
    ids: tuple[str, ...]
    amount_editable: bool = False
    hosts: tuple[str, ...] = ()
    network: str = ""


#: Subfields of each network's template that are not account ids (GUI, proxy type, flags, free text).
NOT_IDS = {
    "pix": {"00", "02"},  # 02: a message to the payer
    "promptpay": {"00"},
    "promptpay-bill": {"00", "02", "03"},  # 01 biller id; 02, 03: the bill's references
    "paynow": {"00", "01", "03", "04"},  # proxy type, amount editable, expiry date
    "vietqr": {"00", "01", "02"},  # 01 is read below as BIN/account; 02: service code
    "qris": {"00", "03"},  # 03: merchant criteria (UMI, UKE, …)
    "khqr": {"02"},  # 02: the acquiring bank's name
}


def accounts(payload: EmvPayload) -> tuple[Account, ...]:
    """Every merchant account the payload carries (02–51, and the unreserved templates 80–99, which any
    network may use), each with every id it names.

    A template of a network this module does not know is returned as profile ``emv`` with its GUI in
    ``network`` and all its other subfields as ids; one whose value is not TLV as profile ``unreadable``.
    """
    found = []
    for field in payload.merchant_accounts:
        if int(field.tag) <= 25:  # 02–25: card networks' merchant PANs, primitive
            found.append(Account("card-network", (field.value,), network=field.tag))
        elif field.children is None:
            found.append(Account("unreadable", (field.value,), network=field.tag))
        elif (field.sub("00") or "").strip().upper() != SGQR_GUI:
            found.append(_account(field, payload))
    for field in payload.fields:
        if not ("80" <= field.tag <= "99") or (field.tag == "99" and payload.get("58") == "KH"):
            continue  # KHQR's 99 holds the QR's creation and expiry times
        if field.children is None:
            found.append(Account("unreadable", (field.value,), network=field.tag))
        else:
            others = tuple(c.value for c in field.children if c.tag != "00")
            found.append(Account("emv", others, network=(field.sub("00") or "").strip()))
    return tuple(found)


def _account(field: Field, payload: EmvPayload) -> Account:
    gui = (field.sub("00") or "").strip()
    kind = _network(field, gui, payload)
    others = tuple(c for c in field.children or () if c.tag not in NOT_IDS.get(kind, {"00"}))
    ids = tuple(c.value for c in others)
    if kind == "pix":
        location = field.sub("25")
        keys = tuple(c.value for c in others if c.tag != "25")
        return Account("pix", keys, hosts=(pix_location(location),) if location is not None else (), network=gui)
    if kind == "promptpay-bill":
        return Account("promptpay", ids, network=gui)
    if kind == "paynow":
        editable = field.sub("03")
        if editable not in (None, "0", "1") or field.sub("01") not in ("0", "2"):
            raise EmvError("PayNow: 01 (proxy type) must be 0 or 2 and 03 (amount editable) 0 or 1")
        return Account("paynow", ids, amount_editable=editable == "1", network=gui)
    if kind == "vietqr":
        beneficiary = field.sub_field("01")
        inner = {c.tag: c.value for c in (beneficiary.children or ())} if beneficiary else {}
        if set(inner) != {"00", "01"}:
            raise EmvError("VietQR: 38.01 must hold exactly the bank BIN (00) and the account (01)")
        return Account("vietqr", (f"{inner['00']}/{inner['01']}", *ids), network=gui)
    return Account(kind, ids, network=gui)


def _network(field: Field, gui: str, payload: EmvPayload) -> str:
    if gui.lower() == PIX_GUI:
        return "pix"
    if gui.upper() == PROMPTPAY_GUI:
        return "promptpay"
    if gui.upper() == PROMPTPAY_BILL_GUI:
        return "promptpay-bill"
    if gui.upper() == PAYNOW_GUI:
        return "paynow"
    if gui.upper() == VIETQR_GUI:
        return "vietqr"
    if payload.get("58") == "KH" and field.tag in ("29", "30"):
        return "khqr"  # KHQR puts the Bakong account id in 00, not a GUI
    if payload.get("58") == "ID" and (gui.upper().startswith("ID.") or gui.upper().endswith(".WWW")):
        return "qris"
    return "emv"


def pix_location(location: str) -> str:
    """The host (``host`` or ``host:port``) of a dynamic PIX location, read as the payer's app reads it:
    ``https://`` + the location. Raises EmvError unless every reader reads the same host."""
    if "://" in location:
        raise EmvError(f"PIX: the location (26.25) is written without a scheme, got {location!r}")
    try:
        found = link.read("https://" + location)
    except link.LinkError as exc:
        raise EmvError(f"PIX location {location!r}: {exc}") from None
    return found.netloc


def spellings(profile: str, payee_id: str) -> tuple[str, ...]:
    """The ways one id is written: a PromptPay mobile id ``0066812345678`` is also ``0812345678`` and
    ``+66812345678``."""
    if profile == "promptpay" and len(payee_id) == 13 and payee_id.startswith("0066"):
        return payee_id, "0" + payee_id[4:], "+66" + payee_id[4:]
    return (payee_id,)


def profile(payload: EmvPayload) -> str:
    """The payload's national profile (pix, promptpay, paynow, khqr, vietqr, qris) or plain ``emv``."""
    found = accounts(payload)
    named = [a.profile for a in found if a.profile not in ("emv", "card-network", "unreadable")]
    if payload.get("58") == "ID" and any(f.tag == "51" for f in payload.merchant_accounts):
        return "qris"
    return named[0] if named else "emv"


def reference(payload: EmvPayload) -> str | None:
    """The payment's reference: 62.05 (reference label, PIX txid), else 62.01 (bill number)."""
    extra = payload.field("62")
    if extra is None or extra.children is None:
        return None
    for tag in ("05", "01"):
        value = extra.sub(tag)
        if value and value != "***":
            return value
    return None


# --- building ------------------------------------------------------------------------------------


def build_pix(*, key: str, name: str, city: str, amount: Amount, txid: str = "***", description: str = "") -> str:
    """A static PIX BR Code with a fixed amount and a txid (Banco Central do Brasil's manual). Name, city and
    description are written in ASCII (``São Paulo`` → ``Sao Paulo``, as PIX libraries do)."""
    _currency(amount, "BRL", "PIX")
    if txid != "***" and not (txid.isascii() and txid.isalnum() and len(txid) <= 25):
        raise EmvError(f"a PIX txid is 1–25 letters and digits, got {txid!r}")
    account = [("00", PIX_GUI), ("01", key)] + ([("02", ascii_text(description))] if description else [])
    name, city = ascii_text(name), ascii_text(city)
    return build(
        [
            ("00", "01"),
            ("26", account),
            ("52", "0000"),
            ("53", "986"),
            ("54", amount.decimal()),
            ("58", "BR"),
            ("59", name),
            ("60", city),
            ("62", [("05", txid)]),
        ]
    )


def build_promptpay(*, payee: str, amount: Amount, reference: str = "") -> str:
    """A PromptPay credit-transfer QR: payee a mobile number (0812345678), a 13-digit national id or a
    15-digit e-wallet id; fixed amount, so point of initiation 12."""
    _currency(amount, "THB", "PromptPay")
    digits = payee.replace("-", "").replace(" ", "").removeprefix("+")
    if not digits.isdigit():
        raise EmvError(f"a PromptPay id is digits, got {payee!r}")
    if len(digits) == 10 and digits.startswith("0"):
        sub = ("01", "0066" + digits[1:])
    elif len(digits) == 11 and digits.startswith("66"):
        sub = ("01", "00" + digits)
    elif len(digits) == 13:
        sub = ("02", digits)
    elif len(digits) == 15:
        sub = ("03", digits)
    else:
        raise EmvError(f"a PromptPay id is a mobile number, a 13-digit id or a 15-digit e-wallet, got {payee!r}")
    # The field order of the published PromptPay examples (promptpay-qr, php-promptpay-qr): 58 before 53 and 54.
    fields: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("00", "01"),
        ("01", "12"),
        ("29", [("00", PROMPTPAY_GUI), sub]),
        ("58", "TH"),
        ("53", "764"),
        ("54", amount.decimal()),
    ]
    if reference:
        fields.append(("62", [("05", reference)]))
    return build(fields)


def build_paynow(
    *,
    proxy: str,
    name: str,
    amount: Amount,
    reference: str = "",
    city: str = "Singapore",
    expiry: date | None = None,
    editable: bool = False,
) -> str:
    """A PayNow (SGQR) payload to a UEN or a mobile number (+65…), amount fixed.

    ``expiry`` writes the PayNow expiry date (26.04, ``YYYYMMDD``), as the published generators do.
    ``editable`` writes 26.03 = 1 (the payer may change the amount): it exists only so that published
    examples can be reproduced, never for a sale — the guard refuses such a QR.
    """
    _currency(amount, "SGD", "PayNow")
    if isinstance(expiry, datetime):
        raise EmvError("a PayNow expiry (26.04) is a date (YYYYMMDD), not a date and time")
    kind = "0" if proxy.startswith("+") else "2"
    account = [("00", PAYNOW_GUI), ("01", kind), ("02", proxy), ("03", "1" if editable else "0")]
    if expiry is not None:
        account.append(("04", f"{expiry.year:04d}{expiry.month:02d}{expiry.day:02d}"))
    fields: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("00", "01"),
        ("01", "12"),
        ("26", account),
        ("52", "0000"),
        ("53", "702"),
        ("54", amount.decimal()),
        ("58", "SG"),
        ("59", ascii_text(name)),
        ("60", ascii_text(city)),
    ]
    if reference:
        fields.append(("62", [("01", reference)]))
    return build(fields)


def ascii_text(text: str) -> str:
    """``text`` with its accents dropped (``São`` → ``Sao``): EMV text fields are ASCII ("ans"), and a
    payload with anything else is read differently by apps counting bytes. Raises EmvError for characters
    that have no ASCII base letter."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    if not folded.isascii():
        raise EmvError(f"{text!r} cannot be written in ASCII, which EMV payloads require")
    return folded


def _currency(amount: Amount, currency: str, scheme: str) -> None:
    if amount.currency != currency:
        raise EmvError(f"{scheme} pays in {currency}, not {amount.currency}")
    if amount.minor <= 0:
        raise EmvError("the amount must be above zero")
