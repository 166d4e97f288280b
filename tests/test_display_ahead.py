"""Key→QR (#17 item 1): the frame a step leads to is painted ahead, on the display's own thread, while the loop
commits the step (its fsync holds no interpreter lock); only a draw of the same model flips it, after the commit.

A frame painted ahead and not drawn never reaches the screen: a draw of another model paints over it, and a
frame saved meanwhile is the one shown. Through the app: the QR flipped is the one painted ahead, the journal
holds the order when it is flipped, and a payload the guard refuses is never on a frame.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pygame
import pytest

from terminal import __version__
from terminal.core.screen import ScreenModel
from terminal.devices.display import Display
from terminal.devices.painter import PAID_GREEN

from .qr import decode
from .terminal_app import make_terminal
from .test_display import OTHERS, PAYLOAD, QR_SCREEN
from .test_guard_end_to_end import backend_answering

READY = OTHERS[0]
PAID = next(m for m in OTHERS if m.name == "paid")
REFUSED = ScreenModel("error", "QR refused", "Chai Point", amount="₹12.50", lines=("payee is not this shop's",))


@pytest.fixture
def display_turned():
    """A display turned a quarter: its canvas is not the screen's surface, so what is flipped can be told apart
    from what is painted."""
    display = Display(size=(800, 480), rotate=90)
    yield display
    display.close()


@pytest.fixture
def display():
    display = Display(size=(800, 480))
    yield display
    display.close()


def screen_bytes(display: Display) -> bytes:
    return pygame.image.tobytes(display.screen, "RGB")


def test_a_frame_painted_ahead_is_not_on_the_screen_until_it_is_drawn(display_turned, tmp_path):
    display_turned.draw(READY)
    ready = screen_bytes(display_turned)

    display_turned.paint_ahead(QR_SCREEN)
    display_turned.save(tmp_path / "meanwhile.png")  # waits for the painting
    assert screen_bytes(display_turned) == ready
    assert decode(tmp_path / "meanwhile.png") == []

    display_turned.draw(QR_SCREEN)
    assert display_turned.drawn_ahead == 1  # flipped as painted, not painted again
    display_turned.save(tmp_path / "qr.png")
    assert decode(tmp_path / "qr.png") == [PAYLOAD]


def test_the_frame_painted_ahead_is_the_frame_a_draw_paints(display):
    display.paint_ahead(QR_SCREEN)
    display.draw(QR_SCREEN)
    assert display.drawn_ahead == 1
    ahead = screen_bytes(display)
    display.draw(READY)
    display.draw(QR_SCREEN)  # painted by the draw itself
    assert display.drawn_ahead == 1
    assert screen_bytes(display) == ahead


def test_a_draw_of_another_model_paints_over_the_frame_painted_ahead(display, tmp_path):
    display.draw(READY)
    display.paint_ahead(QR_SCREEN)  # the step is undone: its screen is another
    display.draw(REFUSED)
    assert display.drawn_ahead == 0
    display.save(tmp_path / "refused.png")
    assert decode(tmp_path / "refused.png") == []
    assert display.shown == REFUSED


def test_a_frame_saved_meanwhile_is_the_frame_shown_not_the_one_painted_ahead(display, tmp_path):
    display.draw(READY)
    ready = screen_bytes(display)
    display.paint_ahead(QR_SCREEN)  # unturned: the canvas is the screen's own surface
    display.save(tmp_path / "shown.png")
    assert screen_bytes(display) == ready
    assert decode(tmp_path / "shown.png") == []


def test_once_stopped_every_frame_is_painted_by_the_draw(display, tmp_path):
    display.stop()
    display.paint_ahead(QR_SCREEN)
    display.draw(QR_SCREEN)
    assert display.drawn_ahead == 0
    display.save(tmp_path / "qr.png")
    assert decode(tmp_path / "qr.png") == [PAYLOAD]


def test_the_qr_screen_keeps_nothing_of_the_screen_before_it(display):
    display.draw(PAID)  # the whole screen teal green
    display.draw(QR_SCREEN)
    pixels = screen_bytes(display)
    green = bytes(PAID_GREEN)
    assert not any(pixels[i : i + 3] == green for i in range(0, len(pixels), 3))


# --- through the app ---------------------------------------------------------------------------------------


def test_the_qr_flipped_is_the_one_painted_ahead_and_the_order_was_journaled_before(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    seen = {}

    def frame(model, display):
        reader = sqlite3.connect(terminal.journal.path)
        seen[model.name] = (display.drawn_ahead, reader.execute("SELECT status FROM sales").fetchall())
        reader.close()
        record(model, display)

    record, terminal.app.observer.frame = terminal.app.observer.frame, frame
    terminal.press("12.50E")
    qr = terminal.until_screen("qr")
    assert seen["qr"] == (1, [("awaiting_payment",)])
    _, png = terminal.recorder.first("qr")
    assert decode(png) == [qr.qr]


def test_a_payload_the_guard_refuses_is_never_on_a_frame(tmp_path):
    payload = "upi://pay?pa=demo-shop@sandbox&am=12.50&cu=INR&tr=T1-000001&PA=evil@ybl"  # read two ways
    with backend_answering("upi", payload) as server:
        terminal = make_terminal(tmp_path, server.url, payee_id="demo-shop@sandbox")
        terminal.press("12.5E")
        terminal.until_screen("error")
        assert terminal.app.display.drawn_ahead == 1  # the refusal's frame, painted while its step committed
        assert all(model.qr is None for model, _ in terminal.recorder.frames)
        assert all(decode(png) == [] for _, png in terminal.recorder.frames)
        terminal.until(lambda: any(p.endswith("/cancel") for _, p, _, _ in server.requests))
        terminal.app.worker.stop()


def test_the_warm_up_paints_every_line_a_sale_s_qr_screen_has(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    warm = terminal.app.warm_up_screen(terminal.app.clock())
    terminal.press("12.50E")
    sale = terminal.until_screen("qr")
    assert (warm.name, warm.title, warm.hint, warm.payee, warm.countdown) == (
        sale.name,
        sale.title,
        sale.hint,
        sale.payee,
        sale.countdown,
    )
    assert warm.lines[:-1] == sale.lines[:-1]  # the payee and its id; then the reference
    assert warm.lines[-1] == "Ref T1-000000" and sale.lines[-1] == "Ref T1-000001"


def test_the_start_is_journaled_with_the_version(journal):
    journal.record_start(f"qr-terminal {__version__}", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    [event] = journal.events()
    assert (event["kind"], event["cause"], event["sale_id"]) == ("start", f"qr-terminal {__version__}", None)
