"""Small, hand-derived ESC/POS expectations for each element of a receipt (issue #19 item 11), beside the golden
files (which are snapshots of our own output). Each byte sequence below is written from the ESC/POS command
reference (Epson "ESC/POS Command Reference for TM printers"), not copied from what the code produced:

- ``ESC @``            1B 40                initialise
- ``ESC a n``          1B 61 n              justification: 0 left, 1 centre, 2 right
- ``ESC E n``          1B 45 n              emphasis (bold) on/off
- ``ESC ! n``          1B 21 n              print mode: bit 4 (0x10) double height, bit 5 (0x20) double width
- ``GS ( k`` fn 165    1D 28 6B 04 00 31 41 32 00     QR model 2
- ``GS ( k`` fn 167    1D 28 6B 03 00 31 43 n         QR module size n dots
- ``GS ( k`` fn 169    1D 28 6B 03 00 31 45 n         QR error correction: 48 L, 49 M, 50 Q, 51 H
- ``GS ( k`` fn 180    1D 28 6B pL pH 31 50 30 d…     store the data; pL + 256·pH = len(d) + 3
- ``GS ( k`` fn 181    1D 28 6B 03 00 31 51 30        print the stored symbol
- ``ESC d n``          1B 64 n              feed n lines
- ``GS V m``           1D 56 00             full cut
"""

import pytest

from terminal.core.receipt import Line, Receipt

from .test_printer import printer, receipt

URL = "https://r.example.test/T1-000042"


def render(profile: str, *lines: Line, qr: str | None = None) -> bytes:
    p = printer(profile=profile)
    return p.render(Receipt("sale-1", "T1-000042", tuple(lines), qr))


def modes_before(data: bytes, text: bytes) -> bytes:
    """The commands sent between the previous line end and ``text`` (what sets up how it prints)."""
    at = data.index(text)
    return data[data.rindex(b"\n", 0, at) + 1 if b"\n" in data[:at] else 0 : at]


def test_given_a_receipt_when_rendered_then_it_starts_by_initialising_the_printer():
    assert render("TM-T88III", Line("x")).startswith(b"\x1b\x40")


def test_given_the_amount_line_when_rendered_then_it_is_double_width_double_height_bold_and_centred():
    data = render("TM-T88III", Line("INR 1,250.00", "center", large=True, bold=True))
    modes = modes_before(data, b"INR 1,250.00\n")
    assert bytes([0x1B, 0x21, 0x10 | 0x20]) in modes  # ESC ! (double height | double width)
    assert b"\x1b\x45\x01" in modes and b"\x1b\x61\x01" in modes  # bold, centred


@pytest.mark.parametrize("profile", ["TM-T88III", "POS-5890"])
def test_given_a_paid_sales_receipt_when_rendered_then_its_amount_is_the_double_size_bold_centred_line(profile):
    # the receipt the terminal prints for a paid sale (core/receipt.py), not a line written for the test
    p = printer(profile=profile)
    data = p.render(receipt(p))
    modes = modes_before(data, b"INR 1,250.00\n")
    assert modes.endswith(b"\x1b\x21\x30" + b"\x1b\x45\x01" + b"\x1b\x61\x01")  # ESC ! 0x30, ESC E 1, ESC a 1
    after = data[data.index(b"INR 1,250.00\n") + len(b"INR 1,250.00\n") :]
    assert after.startswith(b"\x1b\x21\x00")  # and the next line is back to normal size


@pytest.mark.parametrize(("align", "n"), [("left", 0), ("center", 1), ("right", 2)])
def test_given_an_aligned_line_when_rendered_then_esc_a_sets_its_justification(align, n):
    data = render("TM-T88III", Line("Sale", align))
    modes = modes_before(data, b"Sale\n")
    assert modes.count(b"\x1b\x61") == 1 and b"\x1b\x61" + bytes([n]) in modes
    assert bytes([0x1B, 0x21, 0x30]) not in modes  # normal size


def test_given_a_printer_with_native_qr_when_rendered_then_gs_k_stores_and_prints_a_model_2_symbol_at_level_l():
    data = render("TM-T88III", Line("x"), qr=URL)
    store = b"\x1d\x28\x6b" + bytes([len(URL) + 3, 0]) + b"\x31\x50\x30" + URL.encode()
    expected = (
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"  # model 2
        + b"\x1d\x28\x6b\x03\x00\x31\x43\x06"  # module size 6 dots
        + b"\x1d\x28\x6b\x03\x00\x31\x45\x30"  # error correction L (48)
        + store
        + b"\x1d\x28\x6b\x03\x00\x31\x51\x30"  # print it
    )
    assert expected in data
    assert data.index(b"\x1b\x61\x01") < data.index(expected)  # centred


def test_given_a_printer_with_a_cutter_when_rendered_then_it_feeds_and_ends_with_a_full_cut():
    data = render("TM-T88III", Line("x"))
    assert data.endswith(b"\x1b\x64\x06" + b"\x1d\x56\x00")


def test_given_a_printer_without_a_cutter_when_rendered_then_it_feeds_past_the_tear_bar_and_never_cuts():
    data = render("POS-5890", Line("x"), qr=URL)
    assert b"\x1d\x56" not in data and data.endswith(b"\n\n\n")
    assert b"\x1d\x28\x6b" not in data and b"\x1d\x76\x30" in data  # GS v 0: the QR as a raster image instead
