"""The screen at every supported size: every screen draws, the QR decodes, its modules are whole pixels."""

from dataclasses import replace

import pygame
import pytest

from terminal.core.screen import Icon, ScreenModel, Tone
from terminal.devices.display import Display
from terminal.devices.fonts import Fonts, runs
from terminal.devices.painter import COLOURS, TONE_COLOURS, colours_of
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
    payee="to Chai Point",
    countdown="4:59",
    hint="Cancel: stop",
    sandbox=True,
)
OTHERS = [
    ScreenModel("idle", "Ready", "Chai Point", lines=("Type the amount on the keypad",)),
    ScreenModel("entry", "Amount", "Chai Point", amount="₹1,23,456.7", hint="Enter: show QR   Cancel: clear"),
    ScreenModel(
        "paid", "Paid", "Chai Point", tone=Tone.GOOD, amount="₹12.50", lines=("Ref T1-000001",), icon=Icon.PAID
    ),
    ScreenModel(
        "failed",
        "Payment failed",
        "Chai Point",
        tone=Tone.BAD,
        amount="R$\u00a012,50",
        lines=("The customer declined.",),
        icon=Icon.FAILED,
    ),
    ScreenModel(
        "expired",
        "QR expired",
        "Chai Point",
        tone=Tone.WARN,
        amount="฿99.00",
        lines=("No payment received",),
        icon=Icon.EXPIRED,
    ),
    ScreenModel("cancelled", "Sale cancelled", "Chai Point", amount="€12.50", icon=Icon.CANCELLED),
    ScreenModel(
        "error",
        "No QR",
        "Chai Point",
        tone=Tone.BAD,
        amount="₹12.50",
        lines=("No connection to the payment server. Check the network cable or Wi-Fi.",),
        hint="Enter: continue",
        icon=Icon.NO_QR,
    ),
    ScreenModel(
        "underpaid",
        "Underpaid",
        "Chai Point",
        tone=Tone.ATTENTION,
        amount="₹0.01",
        lines=("Received ₹0.01 of ₹12.50 — ask for the rest or refund",),
        icon=Icon.ATTENTION,
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
    ("name", "colour"),
    [("paid", (0, 122, 110)), ("failed", (191, 76, 19)), ("expired", (255, 200, 40)), ("underpaid", (255, 200, 40))],
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


def test_a_payload_too_large_for_the_screen_says_so_instead_of_drawing_garbage(display_at, tmp_path):
    # GIVEN a payload more than a QR code can hold at the screen's error correction
    display = display_at((800, 480))
    display.draw(replace(QR_SCREEN, qr="x" * 2900))
    display.save(tmp_path / "frame.png")
    # THEN no QR (nor a broken one) is on the screen, and the pixels read the sentence that says why
    assert decode(tmp_path / "frame.png") == []
    read = " ".join(_ocr_lines(tmp_path / "frame.png"))
    assert "too large for the screen" in read, read


def _ocr_lines(png) -> list[str]:
    import shutil
    import subprocess

    tesseract = shutil.which("tesseract")
    assert tesseract, "this test reads the screen with Tesseract: sudo apt install tesseract-ocr"
    done = subprocess.run([tesseract, str(png), "stdout", "-l", "eng"], capture_output=True, check=True, timeout=60)
    return done.stdout.decode().split("\n")


# --- results you can tell apart without colour -----------------------------------------------------------------
#: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of Color Vision
#: Deficiency", IEEE TVCG 15(6), table of matrices at severity 1.0, applied to linear RGB.
MACHADO_2009 = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
#: The smallest CIE76 colour difference accepted between two results that mean different things (≈ 2.3 is
#: "just noticeable"; 40 is two clearly different colours at a glance).
DISTINCT = 40


def _linear(channel):
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb(linear):
    c = min(1.0, max(0.0, linear))
    return 255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb, deficiency):
    """The colour as a person with ``deficiency`` sees it (Machado 2009)."""
    lin = [_linear(v) for v in rgb]
    return tuple(_srgb(sum(m * v for m, v in zip(row, lin, strict=True))) for row in MACHADO_2009[deficiency])


def lab(rgb):
    r, g, b = (_linear(v) for v in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = lambda t: t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116  # noqa: E731
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def difference(a, b):
    """CIE76 ΔE between two sRGB colours."""
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def test_the_simulation_reproduces_the_issue_old_paid_and_failed_look_alike_to_deuteranopes():
    old_paid, old_failed = (10, 125, 50), (179, 38, 30)  # issue #18: both ≈ olive-brown under deuteranopia
    assert difference(simulate(old_paid, "deuteranopia"), simulate(old_failed, "deuteranopia")) < DISTINCT / 2


@pytest.mark.parametrize("deficiency", [None, *MACHADO_2009])
@pytest.mark.parametrize(
    ("one", "other"),
    [("paid", "failed"), ("paid", "error"), ("failed", "error"), ("paid", "expired"), ("failed", "expired")],
)
def test_results_stay_distinct_for_colour_blind_eyes(deficiency, one, other):
    a, b = COLOURS[one][0], COLOURS[other][0]
    if deficiency:
        a, b = simulate(a, deficiency), simulate(b, deficiency)
    assert difference(a, b) >= DISTINCT


def test_the_no_qr_screen_is_not_the_red_of_a_decline():
    assert colours_of(OTHERS[6]) != colours_of(OTHERS[3])
    assert difference(COLOURS["error"][0], COLOURS["failed"][0]) >= DISTINCT


def test_a_new_outcome_asks_for_amber_with_the_attention_tone():
    model = ScreenModel("paid-twice", "Paid twice", "Chai Point", tone=Tone.ATTENTION, icon=Icon.ATTENTION)
    assert colours_of(model) == TONE_COLOURS[Tone.ATTENTION] == COLOURS["expired"]


def _ink_bands(surface, ink):
    """(top, height) of each horizontal band of rows holding ``ink`` pixels, below the top bar."""
    width, height = surface.get_size()
    rows = [any(surface.get_at((x, y))[:3] == ink for x in range(0, width, 2)) for y in range(height)]
    bands, start = [], None
    for y, inked in enumerate([*rows, False]):
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            bands.append((start, y - start))
            start = None
    return bands


@pytest.mark.parametrize("size", [(800, 480), (320, 240)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_result_shows_a_large_icon_and_its_word_as_large_as_the_amount(display_at, size):
    display = display_at(size)
    paid = replace(OTHERS[2], title="PAID", amount="₹12.50", lines=())  # capitals and digits: equal cap heights
    display.draw(paid)
    bands = _ink_bands(display.screen, (255, 255, 255))[1:]  # the merchant's name is the first band
    icon, word, amount = bands[0][1], bands[1][1], bands[2][1]
    assert abs(word - amount) <= amount * 0.15
    assert icon >= amount * 1.3


@pytest.mark.parametrize("size", [(800, 480), (320, 240)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_each_result_has_its_own_icon(display_at, size):
    display = display_at(size)
    drawn = set()
    for model in OTHERS[2:]:
        display.draw(replace(model, title="", amount="", lines=(), hint="", merchant=""))
        white = {i for i, v in enumerate(pygame.image.tobytes(display.screen, "RGB")[::3]) if v > 200}
        drawn.add(frozenset(white) if colours_of(model)[1] == (255, 255, 255) else frozenset(-1 - i for i in white))
    assert len(drawn) == len(OTHERS[2:])


@pytest.mark.parametrize("model", [QR_SCREEN, *OTHERS], ids=lambda m: m.name)
def test_the_sandbox_mark_is_black_on_white_on_every_screen(display_at, model):
    display = display_at((480, 320))
    display.draw(replace(model, sandbox=True))
    box = display.painter.sandbox_box
    assert box is not None and box.width > 40
    colours = {
        tuple(display.screen.get_at((x, y)))[:3] for x in range(box.left, box.right) for y in range(box.top, box.bottom)
    }
    assert (255, 255, 255) in colours and (17, 17, 17) in colours  # contrast 18:1 whatever the screen's colour


# --- the QR as a phone's camera sees it --------------------------------------------------------------------
# Payment apps' scanners are closer to OpenCV's detector than to zxing-cpp: the frame must survive both.
def _grey(surface):
    import numpy as np

    width, height = surface.get_size()
    rgb = np.frombuffer(pygame.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(height, width, 3)
    return np.ascontiguousarray(rgb.mean(axis=2).astype(np.uint8))


def _scale(image, factor):
    import cv2

    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def _blur(image, sigma):
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigma)


def _tilt(image, degrees, axis="y"):
    """The screen turned ``degrees`` away from the camera about a vertical (or horizontal) axis."""
    import math

    import cv2
    import numpy as np

    height, width = image.shape
    shrink = (1 - math.cos(math.radians(degrees))) / 2
    near = math.sin(math.radians(degrees)) * 0.15  # the far edge looks shorter
    if axis == "y":
        dx, dy = width * shrink, height * near
        target = [(dx, 0), (width - dx, dy), (width - dx, height - dy), (dx, height)]
    else:
        dx, dy = width * near, height * shrink
        target = [(0, dy), (width, dy), (width - dx, height - dy), (dx, height - dy)]
    source = np.float32([(0, 0), (width, 0), (width, height), (0, height)])
    matrix = cv2.getPerspectiveTransform(source, np.float32(target))
    return cv2.warpPerspective(image, matrix, (width, height), borderValue=COUNTER)


def _jpeg(image, quality):
    import cv2

    _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _noise(image, sigma):
    import numpy as np

    rng = np.random.default_rng(18)  # fixed: the same frames every run
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def _glare(image, strength):
    """A bright lamp reflected on the glass: a soft white spot over part of the QR."""
    import numpy as np

    height, width = image.shape
    y, x = np.mgrid[0:height, 0:width]
    spot = np.exp(-(((x - width * 0.3) ** 2 + (y - height * 0.35) ** 2) / (2 * (height * 0.18) ** 2)))
    return np.clip(image + spot * strength, 0, 255).astype(np.uint8)


def _rotate(image, degrees):
    """The terminal turned on the counter (the picture grows to hold every corner)."""
    import math

    import cv2

    height, width = image.shape
    cos, sin = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    size = (int(width * cos + height * sin), int(width * sin + height * cos))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    matrix[:, 2] += ((size[0] - width) / 2, (size[1] - height) / 2)
    return cv2.warpAffine(image, matrix, size, borderValue=COUNTER)


BEZEL, COUNTER = 20, 120  # the panel's black frame, and the grey counter around it


def _on_the_counter(frame):
    """The frame as a camera sees it: inside the panel's black bezel, on a grey counter."""
    import numpy as np

    framed = np.pad(frame, 24, constant_values=BEZEL)
    return np.pad(framed, 40, constant_values=COUNTER)


CAMERA = {
    "clean": lambda i: i,
    "scale 1/2": lambda i: _scale(i, 1 / 2),
    "scale 1/3": lambda i: _scale(i, 1 / 3),
    "scale 1/4": lambda i: _scale(i, 1 / 4),
    "blur": lambda i: _blur(i, 2.0),
    "heavy blur": lambda i: _blur(i, 3.5),
    "tilt 30 left-right": lambda i: _tilt(i, 30),
    "tilt 30 up-down": lambda i: _tilt(i, 30, axis="x"),
    "turned 15": lambda i: _rotate(i, 15),
    "jpeg 25": lambda i: _jpeg(i, 25),
    "noise": lambda i: _noise(i, 25),
    "glare": lambda i: _glare(i, 150),
    "phone": lambda i: _noise(_jpeg(_blur(_tilt(_scale(i, 1 / 2), 20), 1.0), 40), 8),
}


def _zxing(image):
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _opencv(image):
    import cv2

    text, _points, _straight = cv2.QRCodeDetector().detectAndDecode(image)
    return [text] if text else []


@pytest.fixture
def qr_frame(display_at):
    def frame(size):
        display = display_at(size)
        display.draw(QR_SCREEN)
        return _grey(display.screen)

    return frame


def test_the_800x480_qr_survives_a_phone_cameras_degradations(qr_frame):
    frame = _on_the_counter(qr_frame((800, 480)))
    read = {name: (_zxing(make(frame)), _opencv(make(frame))) for name, make in CAMERA.items()}
    zxing_missed = [name for name, (z, _) in read.items() if z != [PAYLOAD]]
    opencv_missed = [name for name, (_, o) in read.items() if o != [PAYLOAD]]
    assert zxing_missed == []
    assert len(opencv_missed) <= len(CAMERA) // 10, opencv_missed  # ≥ 90 %


@pytest.mark.parametrize("scale", [1, 1 / 2], ids=["clean", "half"])
def test_the_320x240_qr_decodes_clean_and_at_half_scale_with_both_decoders(qr_frame, scale):
    image = _scale(_on_the_counter(qr_frame((320, 240))), scale)
    assert _zxing(image) == [PAYLOAD]
    assert _opencv(image) == [PAYLOAD]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_qr_takes_the_whole_height_or_width_with_the_largest_whole_module(display_at, size):
    display = display_at(size)
    display.draw(QR_SCREEN)
    count = len(modules(PAYLOAD))  # quiet zone included
    side = min(size)
    expected = side // count * count  # the largest whole-pixel module that fits, quiet zone included
    grey = _grey(display.screen)
    qr = grey[:expected] if size[1] > size[0] else grey[:, :expected]  # the words start beside or below
    dark = (qr < 128).nonzero()
    drawn = (dark[0].max() - dark[0].min() + 1, dark[1].max() - dark[1].min() + 1)
    assert drawn == (expected - 2 * QUIET_ZONE * (side // count),) * 2
    assert side - expected < count  # one more pixel per module would not fit


@pytest.mark.parametrize("size", [(320, 240), (480, 320)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_small_screens_show_only_the_qr_the_amount_and_the_payee(display_at, size):
    display = display_at(size)
    bare = ScreenModel("qr", "", "", amount=QR_SCREEN.amount, qr=PAYLOAD, payee=QR_SCREEN.payee)
    display.draw(bare)
    expected = pygame.image.tobytes(display.screen, "RGB")
    display.draw(replace(QR_SCREEN, sandbox=False))
    assert pygame.image.tobytes(display.screen, "RGB") == expected


# --- headless frames ---------------------------------------------------------------------------------------
def test_headless_frames_are_written_as_each_screen_is_drawn_and_the_typing_screen_is_kept(display_at, tmp_path):
    from terminal.commands.demo import FrameWriter

    display, frames = display_at((800, 480)), FrameWriter(tmp_path)

    def show(model):
        display.draw(model)
        frames.draw(model, display)
        return {p.name: p.read_bytes() for p in tmp_path.glob("*.png")}

    typing = ScreenModel("entry", "Amount", "Chai Point", amount="₹12.5")
    typed = show(typing)
    assert list(typed) == ["00-entry.png"]  # on disk at once, not at the end of the run
    assert show(replace(typing, title="Preparing QR…")) == typed  # the typing screen stays the typed amount
    first = show(QR_SCREEN)
    assert sorted(first) == ["00-entry.png", "01-qr.png"]
    assert show(replace(QR_SCREEN, countdown="4:58"))["01-qr.png"] != first["01-qr.png"]  # the run is re-written


def test_the_warm_up_keeps_the_screen_and_not_its_qr():
    display = Display(size=(800, 480))
    ready = OTHERS[0]
    display.draw(ready)
    shown = pygame.image.tobytes(display.screen, "RGB")
    qr_surface.cache_clear()
    display.warm_up(QR_SCREEN)
    assert qr_surface.cache_info().currsize == 0  # 230 kB no sale shows
    assert pygame.image.tobytes(display.canvas, "RGB") == shown
    display.close()


@pytest.mark.parametrize("text", ["₹12,345.50", "Paid", "संदर्भ T1-000001", "₹12.50 ชำระแล้ว"])
@pytest.mark.parametrize("name", ["qr", "paid", "failed", "expired"])
def test_text_drawn_on_its_background_has_the_pixels_of_transparent_text_on_it(display_at, text, name):
    display_at((800, 480))
    background, ink = colours_of(ScreenModel(name, "", ""))
    face = Fonts().get(56, bold=True)
    on = face.render(text, True, ink, background)
    reference = pygame.Surface(on.get_size())
    reference.fill(background)
    reference.blit(face.render(text, True, ink), (0, 0))
    drawn = pygame.Surface(on.get_size())
    drawn.blit(on, (0, 0))
    pairs = zip(pygame.image.tobytes(drawn, "RGB"), pygame.image.tobytes(reference, "RGB"), strict=True)
    assert max(abs(a - b) for a, b in pairs) <= 1  # SDL_ttf's shaded and blended text round alike
    if len(runs(text)) == 1:
        assert on.get_bitsize() == 8  # a quarter of a transparent image's memory


def test_every_text_on_every_screen_is_kept_at_a_byte_a_pixel(display_at):
    display = display_at((800, 480))
    for model in (*OTHERS, QR_SCREEN, replace(OTHERS[0], offline="Offline: local QR only")):
        display.draw(model)
    kept = list(display.painter._rendered.values())
    assert kept and all(image.get_bytesize() == 1 for image in kept)


def test_a_qr_leaving_the_screen_leaves_memory_too(display_at):
    display = display_at((800, 480))
    qr_surface.cache_clear()
    display.draw(QR_SCREEN)
    display.draw(replace(QR_SCREEN, countdown="4:58"))  # the countdown redraws the same QR
    assert qr_surface.cache_info().currsize == 1
    display.draw(OTHERS[2])  # paid
    assert qr_surface.cache_info().currsize == 0  # the next sale's QR is the only one then
