"""The backend misbehaving while a customer is paying: stopped and restarted, answering 500s, slow. The screen
keeps counting down, nothing is lost, and the payment still shows."""

import time

import requests

from terminal.sandbox.server import Fault, Sandbox

from .terminal_app import make_terminal


def countdowns(terminal):
    return [m.countdown for m, _ in terminal.recorder.frames if m.name == "qr"]


def test_backend_stopped_mid_sale_and_restarted_the_payment_still_shows(tmp_path):
    server = Sandbox().start()
    port, book = server.server_address[1], server.book
    terminal = make_terminal(tmp_path, server.url, probe_every=(0.2, 0.2))
    terminal.press("12.5E")
    qr = terminal.until_screen("qr")
    server.stop()  # the backend goes down while the customer holds their phone
    terminal.until(lambda: terminal.screen.offline != "")
    ticks = len(countdowns(terminal))
    terminal.until(lambda: len(countdowns(terminal)) >= ticks + 2, timeout=5)  # the countdown keeps going
    back = Sandbox("127.0.0.1", port, book=book).start()  # restarted with its database
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid", timeout=15)
    assert terminal.screen.offline == ""
    assert terminal.journal.sales()[0]["status"] == "paid"
    terminal.app.reachability.stop()
    terminal.app.worker.stop()
    back.stop()


def test_500s_and_slow_answers_while_waiting_do_not_stop_the_screen_or_lose_the_payment(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    terminal.press("3E")
    qr = terminal.until_screen("qr")
    sandbox.inject(Fault("get", count=3, status=500, body="<html>oops</html>"))
    sandbox.inject(Fault("get", count=2, status=0, delay=1.5))
    ticks = len(countdowns(terminal))
    started = time.monotonic()
    terminal.until(lambda: len(countdowns(terminal)) >= ticks + 2, timeout=5)
    assert time.monotonic() - started < 4  # redrawn every second regardless of the backend
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid", timeout=20)
    terminal.app.worker.stop()
