"""The backend misbehaving while a customer is paying: stopped and restarted, answering 500s, slow. The screen
keeps counting down, nothing is lost, and the payment still shows."""

import threading
import time

import requests

from terminal.sandbox.server import Fault, Sandbox

from .servers import Reply, ScriptedServer
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


def test_cancels_told_to_come_back_in_a_day_do_not_stop_the_next_sale(tmp_path, sandbox):
    # Before: each cancel slept 86400 s in the shared worker threads; after three, every sale ended
    # "The payment server did not answer in time" until a restart.
    busy = Reply(503, b'{"error": {"code": "busy", "message": "later"}}', headers={"Retry-After": "86400"})
    with ScriptedServer(upstream=sandbox.url).route("POST /v1/orders/", busy) as backend:
        terminal = make_terminal(tmp_path, backend.url)
        for n in (1, 2, 3):
            terminal.press(f"{n}E")
            terminal.until_screen("qr")
            terminal.press("C")
            terminal.until(lambda n=n: backend.count("POST /v1/orders/") == n)  # its cancel got the 503
            terminal.press("E")
        terminal.press("4E")
        assert terminal.until_screen("qr").amount == "₹4.00"
        terminal.app.worker.stop()
    calls = [f"{method} {path.split('?')[0]}" for method, path, _, _ in backend.requests]
    creates = [n for n, call in enumerate(calls) if call == "POST /v1/orders"]
    assert len(creates) == 4 and backend.count("POST /v1/orders/") == 3  # no cancel retried within the minute


def test_a_redirected_create_fails_the_sale_and_the_other_origin_hears_nothing(tmp_path, sandbox):
    with ScriptedServer(upstream=sandbox.url) as elsewhere:
        moved = Reply(307, b"", headers={"Location": f"{elsewhere.url}/v1/orders"})
        with ScriptedServer(upstream=sandbox.url).route("POST /v1/orders", moved) as backend:
            terminal = make_terminal(tmp_path, backend.url)
            terminal.press("9E")
            error = terminal.until_screen("error")
            terminal.app.worker.stop()
    assert "cannot read" in " ".join(error.lines)
    assert elsewhere.requests == [] and backend.count("POST /v1/orders") == 1
    [sale] = terminal.journal.sales()
    assert sale["status"] == "failed" and sale["order_id"] is None
    causes = " ".join(event["cause"] for event in terminal.journal.events())
    assert f"the backend redirected to {elsewhere.url}/v1/orders; redirects are not followed" in causes


def test_watcher_threads_of_sales_whose_status_calls_keep_failing_end_with_their_sales(tmp_path, sandbox):
    sandbox.inject(Fault("get", count=10**6, status=500))  # the status route is broken; create and cancel work
    terminal = make_terminal(tmp_path, sandbox.url)
    for n in (1, 2, 3):
        terminal.press(f"{n}E")
        terminal.until_screen("qr")
        terminal.press("C")
        terminal.until(lambda: not [name for name in terminal_threads() if name.startswith("watch-")])
        if n == 1:
            baseline = terminal_threads()  # the worker's lanes are running now
        terminal.press("E")
    terminal.until(lambda: terminal_threads() == baseline)
    assert [sale["status"] for sale in terminal.journal.sales()] == ["cancelled"] * 3
    terminal.app.worker.stop()


def terminal_threads():
    """The names of the threads in this process but the sandbox's (it has one per connection)."""
    return {t.name for t in threading.enumerate() if not t.name.endswith("(process_request_thread)")}
