"""A deliberately lenient payment-QR reader: what a sloppy customer app could make of a payload.

It is the guard's adversary in the tests. Where our parser refuses an ambiguity, this reader picks one
reading, the way some real reader does: EMV lengths counted in UTF-8 bytes and the last of two fields;
UPI and link keys case-insensitive, last wins, split on ``&``, ``;`` and ``#``; EPC lines split at any line
break; links opened as a browser opens them (ada, WHATWG); amounts read by ``Decimal``, which takes
full-width and Arabic-Indic digits and surrounding spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote_plus

import ada_url

from terminal.core.money import NUMERIC

CURRENCIES = {code: alpha for alpha, code in NUMERIC.items()}


@dataclass(frozen=True)
class Reading:
    """Whom the reader would pay (lower-cased ids or hosts), how much, in which currency."""

    payees: frozenset[str]
    amount: Decimal | None
    currency: str | None


def read(payload: str) -> Reading | None:
    """The lenient reading, or None when even this reader can make nothing of the payload."""
    try:
        if payload.startswith("000201"):
            return _emv(payload)
        if payload[:4].lower() == "upi:":
            return _upi(payload)
        if payload.startswith("BCD"):
            return _epc(payload)
        if payload[:4].lower() == "http":
            return _url(payload)
    except (ValueError, KeyError, IndexError, InvalidOperation):
        return None
    return None


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text.strip())


def _tlv_bytes(data: bytes) -> dict[str, bytes]:
    """TLV with lengths in bytes; a tag twice: the last wins."""
    out: dict[str, bytes] = {}
    i = 0
    while i + 4 <= len(data):
        tag, length = data[i : i + 2].decode(), int(data[i + 2 : i + 4].decode())
        out[tag] = data[i + 4 : i + 4 + length]
        i += 4 + length
    return out


def _emv(payload: str) -> Reading:
    top = _tlv_bytes(payload.encode("utf-8"))
    payees = set()
    for tag, raw in top.items():
        if not ("26" <= tag <= "51"):
            continue
        sub = {t: v.decode("utf-8", "replace") for t, v in _tlv_bytes(raw).items()}
        gui = sub.get("00", "").lower()
        if gui == "br.gov.bcb.pix":
            if "01" in sub:
                payees.add(sub["01"].lower())
            elif "25" in sub:
                url = ada_url.URL("https://" + sub["25"])
                payees.add(url.host)
        elif gui.startswith("a000000677"):
            payees.add(next(sub[t] for t in ("01", "02", "03", "04") if t in sub).lower())
        elif gui == "sg.paynow":
            payees.add(sub["02"].lower())
        elif gui == "a000000727":
            inner = {t: v.decode() for t, v in _tlv_bytes(sub["01"].encode()).items()}
            payees.add(f"{inner['00']}/{inner['01']}")
        elif top.get("58") == b"KH":
            payees.add(sub["00"].lower())
        else:
            payees.add(sub.get("01", sub.get("02", "")).lower())
    code = top.get("53", b"").decode()
    return Reading(frozenset(payees), _decimal(top["54"].decode()) if "54" in top else None, CURRENCIES.get(code))


def _params(query: str) -> dict[str, str]:
    out = {}
    for part in re.split(r"[&;#]", query):
        key, _, value = part.partition("=")
        out[unquote_plus(key).strip().lower()] = unquote_plus(value)
    return out


def _upi(payload: str) -> Reading:
    params = _params(payload.partition("?")[2])
    return Reading(frozenset({params["pa"].lower()}), _decimal(params.get("am")), params.get("cu", "INR").upper())


def _epc(payload: str) -> Reading:
    lines = payload.splitlines()
    amount = lines[7][3:] if len(lines) > 7 and lines[7] else None
    return Reading(frozenset({lines[6].replace(" ", "").lower()}), _decimal(amount), "EUR")


def _url(payload: str) -> Reading:
    url = ada_url.URL(payload)
    params = _params(url.search[1:] + url.hash)
    return Reading(frozenset({url.host}), _decimal(params.get("am")), params.get("cu"))
