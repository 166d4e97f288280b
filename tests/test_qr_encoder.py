"""The fast QR encoder (zxing-cpp's writer) against the reference (segno), issue #17: on every payload kind both
give a QR that a real decoder reads as exactly the payload, with the same error correction, never Micro QR."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from terminal.core.money import Amount
from terminal.core.payloads import emv_profiles, epc, upi
from terminal.devices.qr_encoder import QUIET_ZONE, encode, encode_with_segno, fast_encoder_usable

AMOUNT = Amount(1250, "INR")


def corpus() -> dict[str, str]:
    """One payload of each kind the terminal shows, built by our own builders (checked elsewhere against the
    published examples)."""
    return {
        "url": "https://pay.example.test/pay/ord_0123456789abcdef?am=12.50&cu=INR&tr=T1-000001",
        "upi": upi.build(pa="chaipoint@okbank", pn="Chai Point", amount=AMOUNT, tr="T1-000001"),
        "pix": emv_profiles.build_pix(
            key="chave@example.com", name="Loja", city="Sao Paulo", amount=Amount(1250, "BRL"), txid="T1000001"
        ),
        "promptpay": emv_profiles.build_promptpay(payee="0812345678", amount=Amount(1250, "THB")),
        "paynow": emv_profiles.build_paynow(
            proxy="201403121W", name="Kopi", amount=Amount(1250, "SGD"), reference="T1-000001"
        ),
        "epc": epc.build(
            name="Kaffee Haus", iban="DE89370400440532013000", amount=Amount(1250, "EUR"), text="T1-000001"
        ),
        "long": "https://pay.example.test/" + "x" * 600,
    }


def read(grey: bytes, side: int) -> tuple[str, str]:
    image = Image.frombytes("L", (side, side), grey).resize((side * 4, side * 4), Image.NEAREST)
    [found] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text, found.ec_level


def test_the_fast_encoder_is_usable_here():
    assert fast_encoder_usable()  # zxing-cpp is a runtime dependency: the screen must not fall back silently


@pytest.mark.parametrize("kind", list(corpus()))
def test_both_encoders_make_a_qr_that_decodes_to_exactly_the_payload(kind):
    payload = corpus()[kind]
    fast, reference = encode(payload), encode_with_segno(payload)
    assert fast.encoder == "zxing-cpp" and reference.encoder == "segno"
    assert read(fast.grey, fast.side) == (payload, "M") == read(reference.grey, reference.side)


@pytest.mark.parametrize("kind", list(corpus()))
def test_the_fast_qr_is_a_full_qr_with_its_quiet_zone_and_never_larger_than_segnos(kind):
    payload = corpus()[kind]
    fast = encode(payload)
    assert len(fast.grey) == fast.side * fast.side
    assert (fast.side - 2 * QUIET_ZONE - 17) % 4 == 0 and fast.side - 2 * QUIET_ZONE >= 21  # version 1–40, not Micro
    assert fast.grey[: fast.side * QUIET_ZONE] == b"\xff" * (fast.side * QUIET_ZONE)  # light quiet zone
    assert fast.side <= encode_with_segno(payload).side


def test_a_payload_beyond_ascii_is_left_to_segno_which_payment_apps_read_as_utf8():
    payload = "BCD\n002\n1\nSCT\n\nMüller Café\nDE89370400440532013000\nEUR12.50"
    made = encode(payload)
    assert made.encoder == "segno" and read(made.grey, made.side)[0] == payload
