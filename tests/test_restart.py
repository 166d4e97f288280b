"""A terminal switched off mid-sale and started again, against a real sandbox and a real journal file: nothing
lost, nothing doubled.

Switched off here is an orderly stop in the same process (the loop stops, the journal is closed, answers in flight
are never handled), not a power cut: a write torn by a real kill is test_chaos.py's (scripts/chaos.py kills the
terminal's process at random, SIGKILL, mid-write)."""

import time

import pygame
import requests

from terminal.sandbox.server import Fault

from .terminal_app import make_terminal


def switch_off(terminal):
    """The terminal stops: no more journal writes; its in-flight calls land nowhere (an orderly stop, not a kill)."""
    terminal.app.worker.stop(timeout=0.2)
    terminal.journal.close()
    time.sleep(0.2)
    pygame.event.clear()


def test_a_qr_still_valid_is_shown_again_and_can_be_paid(tmp_path, sandbox):
    before = make_terminal(tmp_path, sandbox.url)
    before.press("12.5E")
    shown = before.until_screen("qr")
    switch_off(before)
    after = make_terminal(tmp_path, sandbox.url)
    after.app.resume()
    again = after.until_screen("qr")
    assert again.qr == shown.qr and again.amount == "₹12.50"
    requests.post(f"{again.qr.split('?')[0]}/pay", timeout=5)
    after.until_screen("paid")
    assert [s["status"] for s in after.journal.sales()] == ["paid"]
    after.app.worker.stop()


def test_a_payment_made_while_the_terminal_was_off_is_found(tmp_path, sandbox):
    before = make_terminal(tmp_path, sandbox.url)
    before.press("7E")
    shown = before.until_screen("qr")
    switch_off(before)
    requests.post(f"{shown.qr.split('?')[0]}/pay", timeout=5)  # the customer paid in the dark
    after = make_terminal(tmp_path, sandbox.url)
    after.app.resume()
    after.until_screen("paid")
    assert after.journal.sales()[0]["status"] == "paid"
    after.app.worker.stop()


def test_a_qr_that_expired_while_off_ends_expired_and_the_order_is_closed(tmp_path, sandbox):
    before = make_terminal(tmp_path, sandbox.url, sale_ttl=2)
    before.press("7E")
    before.until_screen("qr")
    switch_off(before)
    time.sleep(2.2)
    after = make_terminal(tmp_path, sandbox.url)
    after.app.resume()
    after.until(lambda: after.journal.sales()[0]["order_open"] == 0)
    assert after.journal.sales()[0]["status"] == "expired" and after.screen.name == "idle"
    after.app.worker.stop()


def test_switched_off_while_creating_the_order_is_asked_again_with_its_key_and_makes_no_second(tmp_path, sandbox):
    sandbox.inject(Fault("create", status=0, delay=0.4))
    before = make_terminal(tmp_path, sandbox.url)
    before.press("9E")
    assert before.journal.sales()[0]["status"] == "creating"
    while len(sandbox.book._orders) < 1:  # the order exists; its answer is never handled (no loop runs)
        time.sleep(0.01)
    switch_off(before)
    assert before.journal.path.exists()
    after = make_terminal(tmp_path, sandbox.url)
    assert after.journal.sales()[0]["status"] == "creating"  # what switching off left
    after.app.resume()
    assert after.until_screen("qr").amount == "₹9.00"
    assert len(sandbox.book._orders) == 1  # the same Idempotency-Key gave back the same order
    after.app.worker.stop()
