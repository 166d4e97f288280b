"""Offline detection: a probe and every backend call notice the backend is gone; the screen says so and the
LEDs blink; it all clears without a restart when the backend is back."""

import queue
import time

from gpiozero.pins.mock import MockFactory

from terminal.backends.http import HttpBackend
from terminal.backends.reachability import Reachability
from terminal.core.events import ConnectivityChanged
from terminal.core.problems import ProblemKind
from terminal.devices.indicators import IndicatorPins
from terminal.sandbox.server import DEFAULT_TOKEN, Sandbox

from .terminal_app import make_terminal


def restart(server):
    port = server.server_address[1]
    server.stop()
    return port


def test_the_probe_notices_the_backend_going_and_coming_back():
    server = Sandbox().start()
    posted = queue.Queue()
    probe = Reachability(
        HttpBackend(server.url, DEFAULT_TOKEN), posted.put, online_interval=0.1, offline_interval=0.1, first_probe=0.05
    )
    time.sleep(0.3)
    assert posted.empty() and probe.online
    port = restart(server)
    gone = posted.get(timeout=3)
    assert isinstance(gone, ConnectivityChanged) and gone.problem.kind is ProblemKind.UNREACHABLE
    back = Sandbox("127.0.0.1", port).start()
    assert posted.get(timeout=3) == ConnectivityChanged(None)
    probe.stop()
    back.stop()


def test_a_refused_token_is_not_offline():
    server = Sandbox(token="another-token-here").start()
    posted = queue.Queue()
    probe = Reachability(HttpBackend(server.url, DEFAULT_TOKEN), posted.put, first_probe=0.05)
    time.sleep(0.4)
    assert posted.empty() and probe.online
    probe.stop()
    server.stop()


def test_the_screen_and_leds_say_offline_and_recover_without_a_restart(tmp_path):
    server = Sandbox().start()
    factory = MockFactory()
    leds = IndicatorPins(green=5, red=6, amber=26)
    terminal = make_terminal(tmp_path, server.url, probe_every=(0.2, 0.2), pin_factory=factory, indicators=leds)
    hardware = terminal.built.hardware
    port = restart(server)
    terminal.until(lambda: terminal.screen.offline.startswith("OFFLINE — No connection"))
    assert terminal.screen.name == "idle"
    time.sleep(0.5)
    terminal.app.pump()
    assert len(factory.pin(6).states) >= 2 and len(factory.pin(26).states) >= 2  # red and amber alternate
    back = Sandbox("127.0.0.1", port).start()
    terminal.until(lambda: terminal.screen.offline == "", timeout=5)
    terminal.press("4E")
    assert terminal.until_screen("qr").amount == "₹4.00"  # selling again, no restart
    hardware.close()
    terminal.app.reachability.stop()
    terminal.app.worker.stop()
    back.stop()


def test_a_failed_create_marks_the_terminal_offline_at_once(tmp_path):
    from .servers import closed_port

    terminal = make_terminal(tmp_path, f"http://127.0.0.1:{closed_port()}")
    terminal.press("4E")
    terminal.until_screen("error")
    terminal.until(lambda: terminal.screen.offline != "", timeout=2)  # long before the 30 s probe
    terminal.app.reachability.stop()
    terminal.app.worker.stop()
