"""Concert E+ end to end with the open-source till library pyTeliumManager as the till: its ``ask`` and ``verify``
against the QR terminal over a serial line (two pty pairs joined, as a null-modem cable joins two ports)."""

from __future__ import annotations

import os
import select
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from telium import Telium, TeliumAsk
from telium.constant import (
    TERMINAL_ANSWER_SET_FULLSIZED,
    TERMINAL_ANSWER_SET_SMALLSIZED,
    TERMINAL_FORCE_AUTHORIZATION_DISABLE,
    TERMINAL_MODE_PAYMENT_DEBIT,
    TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION,
    TERMINAL_TYPE_PAYMENT_CARD,
)

from terminal.core.concert import ACK, ENQ, EOT, NAK, frame
from terminal.devices.concert_link import ConcertLink

from .terminal_app import make_terminal


class NullModem:
    """Two pty pairs with their masters joined: whatever one side's port sends, the other side's port reads."""

    def __init__(self):
        self.a_master, self.a_slave = os.openpty()
        self.b_master, self.b_slave = os.openpty()
        self.a, self.b = os.ttyname(self.a_slave), os.ttyname(self.b_slave)
        self.seen_by_till = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self):
        pairs = {self.a_master: self.b_master, self.b_master: self.a_master}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(pairs), [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if fd == self.a_master:
                    self.seen_by_till += data
                os.write(pairs[fd], data)

    def close(self):
        self._stop.set()
        self._thread.join(1)
        for fd in (self.a_master, self.a_slave, self.b_master, self.b_slave):
            os.close(fd)


@pytest.fixture
def cable():
    modem = NullModem()
    yield modem
    modem.close()


def wired(tmp_path, sandbox, cable, **link):
    def quick_link(post):  # a reconnect every 0.1 s (a config's is slower), and the test's Concert timings
        return ConcertLink(cable.a, post, currency="EUR", retry=0.1, **link).start()

    terminal = make_terminal(tmp_path, sandbox.url, currency="EUR", payee_id="demo-shop@sandbox", till_link=quick_link)
    terminal.until(lambda: terminal.app.till.connected)
    return terminal


def ask(amount, flag=TERMINAL_ANSWER_SET_FULLSIZED):
    wait, no_forcing = TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION, TERMINAL_FORCE_AUTHORIZATION_DISABLE
    return TeliumAsk(
        "1", flag, TERMINAL_TYPE_PAYMENT_CARD, TERMINAL_MODE_PAYMENT_DEBIT, "978", wait, no_forcing, amount
    )


def pump_until(terminal, future, timeout=40):
    terminal.until(future.done, timeout=timeout)
    return future.result()


def test_a_till_payment_request_becomes_a_qr_sale_and_the_till_gets_success(tmp_path, sandbox, cable):
    terminal = wired(tmp_path, sandbox, cable)
    till = Telium(cable.b, timeout=2)
    request = ask(12.5)
    with ThreadPoolExecutor(1) as pool:
        assert pump_until(terminal, pool.submit(till.ask, request)) is True
        qr = terminal.until_screen("qr")
        assert qr.amount == "€12.50"
        answer = pool.submit(till.verify, request, 60)
        requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
        result = pump_until(terminal, answer)
    assert result.has_succeeded and result.amount == 12.5 and result.pos_number == "01"
    assert result.repport.startswith("SBX")  # the provider's reference in the 55-character report
    assert result.transaction_id.strip() == "T1000001"
    assert terminal.journal.sale(terminal.app.state.sale.id)["till_ref"] == "POS01"
    till.close()
    terminal.app.till.stop()


def test_a_declined_payment_is_answered_rejected_in_the_short_answer(tmp_path, sandbox, cable):
    terminal = wired(tmp_path, sandbox, cable)
    till = Telium(cable.b, timeout=2)
    request = ask(3.0, TERMINAL_ANSWER_SET_SMALLSIZED)
    with ThreadPoolExecutor(1) as pool:
        assert pump_until(terminal, pool.submit(till.ask, request))
        qr = terminal.until_screen("qr")
        answer = pool.submit(till.verify, request, 60)
        requests.post(f"{qr.qr.split('?')[0]}/decline", timeout=5)
        result = pump_until(terminal, answer)
    assert result.transaction_result == 7 and not result.has_succeeded and result.repport == ""
    till.close()
    terminal.app.till.stop()


def test_unpaid_past_the_tills_patience_is_cancelled_and_answered(tmp_path, sandbox, cable):
    terminal = wired(tmp_path, sandbox, cable, answer_within=1.0)
    till = Telium(cable.b, timeout=2)
    request = ask(5.0)
    with ThreadPoolExecutor(1) as pool:
        assert pump_until(terminal, pool.submit(till.ask, request))
        terminal.until_screen("qr")
        result = pump_until(terminal, pool.submit(till.verify, request, 60))
    assert result.transaction_result == 7
    assert terminal.until_screen("cancelled")
    till.close()
    terminal.app.till.stop()


def raw_till(cable):
    import serial

    return serial.Serial(cable.b, 9600, timeout=3)


def test_a_wrong_lrc_gets_nak_and_changes_nothing_then_a_good_frame_is_taken(tmp_path, sandbox, cable):
    terminal = wired(tmp_path, sandbox, cable)
    port = raw_till(cable)
    good = frame("0100000700" + "1" + "0" + "1" + "978" + " " * 10 + "A010" + "B010")
    bad = good[:-1] + bytes([good[-1] ^ 0x55])

    def exchange(data):
        port.write(bytes([ENQ]))
        assert port.read(1) == bytes([ACK])
        port.write(data)
        return port.read(1)

    with ThreadPoolExecutor(1) as pool:
        assert pump_until(terminal, pool.submit(exchange, bad)) == bytes([NAK])
        assert terminal.screen.name == "idle"
        assert pump_until(terminal, pool.submit(exchange, good)) == bytes([ACK])
        port.write(bytes([EOT]))
        assert terminal.until_screen("qr").amount == "€7.00"
    port.close()
    terminal.app.till.stop()


def test_our_response_is_sent_again_on_nak_at_most_three_times(tmp_path, sandbox, cable):
    terminal = wired(tmp_path, sandbox, cable, ack_timeout=1.0)
    port = raw_till(cable)
    request = frame("0100000400" + "0" + "0" + "1" + "978" + " " * 10 + "A010" + "B010")

    def start():
        port.write(bytes([ENQ]))
        assert port.read(1) == bytes([ACK])
        port.write(request)
        assert port.read(1) == bytes([ACK])
        port.write(bytes([EOT]))

    def answer_with_naks():
        assert port.read(1) == bytes([ENQ])
        port.write(bytes([ACK]))
        frames = []
        for reply in (NAK, NAK, ACK):
            frames.append(port.read(28))
            port.write(bytes([reply]))
        assert port.read(1) == bytes([EOT])
        return frames

    with ThreadPoolExecutor(1) as pool:
        pump_until(terminal, pool.submit(start))
        qr = terminal.until_screen("qr")
        answered = pool.submit(answer_with_naks)
        requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
        frames = pump_until(terminal, answered)
    assert len(frames) == 3 and frames[0] == frames[1] == frames[2] and frames[0][3:4] == b"0"  # success, resent
    port.close()
    terminal.app.till.stop()
