"""National profiles of EMV MPM: who a payload pays, read the way each country's apps read it.

Each merchant account template (26–51) names a payment network by its globally unique identifier (GUI) in
subfield 00, and the account in other subfields. The guard needs every account a payload carries, because a
customer's app picks whichever template it supports: one foreign account among ours is enough to divert money.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from terminal.core.money import Amount
from terminal.core.payloads.emv import EmvError, EmvPayload, Field, build

PIX_GUI = "br.gov.bcb.pix"
PROMPTPAY_GUI = "A000000677010111"
PROMPTPAY_BILL_GUI = "A000000677010112"
PAYNOW_GUI = "SG.PAYNOW"
VIETQR_GUI = "A000000727"
QRIS_GUI = "ID.CO.QRIS.WWW"


@dataclass(frozen=True, slots=True)
class Account:
    """One merchant account in a payload: its network (profile) and the ids that name it."""

    profile: str
    ids: tuple[str, ...]
    amount_editable: bool = False


def accounts(payload: EmvPayload) -> tuple[Account, ...]:
    """Every merchant account the payload carries, with the ids that identify each."""
    found = []
    for field in payload.merchant_accounts:
        if field.children is None:  # 02–25: card networks' merchant PANs, primitive
            found.append(Account("card-network", (field.value,)))
            continue
        found.append(_account(field, payload))
    return tuple(found)


def _account(field: Field, payload: EmvPayload) -> Account:
    gui = (field.sub("00") or "").strip()
    if gui.lower() == PIX_GUI:
        key, location = field.sub("01"), field.sub("25")
        if key:
            return Account("pix", (key,))
        if location:
            url = location if "://" in location else "https://" + location
            try:
                host = urlsplit(url).hostname or location
            except ValueError:
                host = location  # a malformed location is nobody's trusted host
            return Account("pix-dynamic", (host,))
        return Account("pix", ())
    if gui in (PROMPTPAY_GUI, PROMPTPAY_BILL_GUI):
        ids = tuple(v for v in (field.sub("01"), field.sub("02"), field.sub("03"), field.sub("04")) if v)
        if gui == PROMPTPAY_BILL_GUI:
            ids = tuple(v for v in (field.sub("01"),) if v)
        return Account("promptpay", tuple(i for value in ids for i in _promptpay_forms(value)))
    if gui.upper() == PAYNOW_GUI:
        proxy = field.sub("02")
        return Account("paynow", (proxy,) if proxy else (), amount_editable=field.sub("03") == "1")
    if gui == VIETQR_GUI:
        beneficiary = field.sub_field("01")
        bank, account = (beneficiary.sub("00"), beneficiary.sub("01")) if beneficiary else (None, None)
        ids = tuple(i for i in (account, f"{bank}/{account}" if bank and account else None) if i)
        return Account("vietqr", ids)
    if payload.get("58") == "KH" and field.tag in ("29", "30"):
        return Account("khqr", (gui,) if gui else ())  # KHQR puts the Bakong account id in 00
    if gui.upper().startswith("ID.") or gui.upper().endswith(".WWW") or payload.get("58") == "ID":
        ids = tuple(v for v in (field.sub("01"), field.sub("02")) if v)
        return Account("qris", ids)
    return Account("emv", tuple(c.value for c in field.children or () if c.tag != "00"))


def _promptpay_forms(value: str) -> tuple[str, ...]:
    """A PromptPay mobile id ``0066812345678`` is also written ``0812345678`` and ``+66812345678``."""
    if len(value) == 13 and value.startswith("0066"):
        return value, "0" + value[4:], "+66" + value[4:]
    return (value,)


def profile(payload: EmvPayload) -> str:
    """The payload's national profile (pix, promptpay, paynow, khqr, vietqr, qris) or plain ``emv``."""
    found = accounts(payload)
    named = [a.profile for a in found if a.profile not in ("emv", "card-network")]
    if payload.get("58") == "ID" and any(f.tag == "51" for f in payload.merchant_accounts):
        return "qris"
    return named[0].removesuffix("-dynamic") if named else "emv"


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
    """A static PIX BR Code with a fixed amount and a txid (Banco Central do Brasil's manual)."""
    _currency(amount, "BRL", "PIX")
    if txid != "***" and not (txid.isascii() and txid.isalnum() and len(txid) <= 25):
        raise EmvError(f"a PIX txid is 1–25 letters and digits, got {txid!r}")
    account = [("00", PIX_GUI), ("01", key)] + ([("02", description)] if description else [])
    return build([("00", "01"), ("26", account), ("52", "0000"), ("53", "986"), ("54", amount.decimal()),
                  ("58", "BR"), ("59", name), ("60", city), ("62", [("05", txid)])])  # fmt: skip


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
    fields: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("00", "01"), ("01", "12"), ("29", [("00", PROMPTPAY_GUI), sub]), ("53", "764"),
        ("54", amount.decimal()), ("58", "TH"),
    ]  # fmt: skip
    if reference:
        fields.append(("62", [("05", reference)]))
    return build(fields)


def build_paynow(*, proxy: str, name: str, amount: Amount, reference: str = "", city: str = "Singapore") -> str:
    """A PayNow (SGQR) payload to a UEN or a mobile number (+65…), amount fixed (not editable)."""
    _currency(amount, "SGD", "PayNow")
    kind = "0" if proxy.startswith("+") else "2"
    account = [("00", PAYNOW_GUI), ("01", kind), ("02", proxy), ("03", "0")]
    fields: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("00", "01"), ("01", "12"), ("26", account), ("52", "0000"), ("53", "702"), ("54", amount.decimal()),
        ("58", "SG"), ("59", name), ("60", city),
    ]  # fmt: skip
    if reference:
        fields.append(("62", [("01", reference)]))
    return build(fields)


def _currency(amount: Amount, currency: str, scheme: str) -> None:
    if amount.currency != currency:
        raise EmvError(f"{scheme} pays in {currency}, not {amount.currency}")
    if amount.minor <= 0:
        raise EmvError("the amount must be above zero")
