"""The screen at every supported size: every screen draws, the QR decodes, its modules are whole pixels."""

from dataclasses import replace

import pygame
import pytest

from terminal.core.screen import ScreenModel, Tone
from terminal.devices.display import Display
from terminal.devices.qr_surface import QUIET_ZONE, modules, qr_surface

from .qr import decode

SIZES = [(320, 240), (480, 320), (800, 480), (1024, 600), (1920, 1080), (480, 800)]
PAYLOAD = "http://127.0.0.1:8765/pay/ord_3f9a1c2b7d4e5f60?am=12.50&cu=INR&tr=T1-000001"
QR_SCREEN = ScreenModel(
    "qr",
    "Scan to pay",
    "Chai Point",
    amount="₹12.50",
    qr=PAYLOAD,
    lines=("to Chai Point", "chaipoint@okbank", "Ref T1-000001"),
    countdown="4:59",
    hint="Cancel: stop",
    sandbox=True,
)
OTHERS = [
    ScreenModel("idle", "Ready", "Chai Point", lines=("Type the amount on the keypad",)),
    ScreenModel("entry", "Amount", "Chai Point", amount="₹1,23,456.7", hint="Enter: show QR   Cancel: clear"),
    ScreenModel("paid", "Paid", "Chai Point", tone=Tone.GOOD, amount="₹12.50", lines=("Ref T1-000001",)),
    ScreenModel(
        "failed", "Payment failed", "Chai Point", tone=Tone.BAD, amount="R$12,50", lines=("The customer declined.",)
    ),
    ScreenModel("expired", "QR expired", "Chai Point", tone=Tone.WARN, amount="฿99.00", lines=("No payment received",)),
    ScreenModel("cancelled", "Sale cancelled", "Chai Point", amount="€12.50"),
    ScreenModel(
        "error",
        "No QR",
        "Chai Point",
        tone=Tone.BAD,
        amount="₹12.50",
        lines=("No connection to the payment server. Check the network cable or Wi-Fi.",),
        hint="Enter: continue",
    ),
]


@pytest.fixture
def display_at(request):
    made = []

    def make(size, rotate=0):
        display = Display(size=size, rotate=rotate)
        made.append(display)
        return display

    yield make
    for display in made:
        display.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_qr_screen_decodes_at_every_size(display_at, tmp_path, size):
    display = display_at(size)
    display.draw(QR_SCREEN)
    display.save(tmp_path / "qr.png")
    assert decode(tmp_path / "qr.png") == [PAYLOAD]


def test_a_portrait_panel_turned_by_config_decodes(display_at, tmp_path):
    display = display_at((800, 480), rotate=90)
    assert display.size == (480, 800)
    display.draw(QR_SCREEN)
    display.save(tmp_path / "qr.png")
    assert decode(tmp_path / "qr.png") == [PAYLOAD]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_draws_at_every_size(display_at, size):
    display = display_at(size)
    seen = set()
    for model in OTHERS:
        display.draw(model)
        seen.add(pygame.image.tobytes(display.screen, "RGB"))
    assert len(seen) == len(OTHERS)


@pytest.mark.parametrize(
    ("name", "colour"), [("paid", (10, 125, 50)), ("failed", (179, 38, 30)), ("expired", (242, 169, 0))]
)
def test_results_fill_the_screen_with_one_unmistakable_colour(display_at, name, colour):
    display = display_at((800, 480))
    display.draw(next(m for m in OTHERS if m.name == name))
    assert tuple(display.screen.get_at((400, 470)))[:3] == colour


def test_the_qr_has_whole_pixel_modules_and_a_four_module_quiet_zone():
    surface = qr_surface(PAYLOAD, 300)
    count = len(modules(PAYLOAD))
    scale = surface.get_width() // count
    assert surface.get_width() == count * scale and scale >= 2
    raw = pygame.image.tobytes(surface, "RGB")
    assert set(raw) <= {0, 255}  # pure black and white: never smoothed
    for i in range(QUIET_ZONE * scale):  # the quiet zone is white on every side
        assert surface.get_at((i, surface.get_height() // 2))[:3] == (255, 255, 255)
        assert surface.get_at((surface.get_width() // 2, i))[:3] == (255, 255, 255)


def test_segno_never_picks_micro_qr_even_for_tiny_payloads():
    assert len(modules("1")) == 21 + 2 * QUIET_ZONE  # version 1 QR, not an 11-module Micro QR


def test_a_payload_too_large_for_the_screen_says_so_instead_of_drawing_garbage(display_at):
    display = display_at((320, 240))
    display.draw(replace(QR_SCREEN, qr="x" * 2000))
    assert display.shown.qr == "x" * 2000  # drawn without raising: the screen carries the message
