"""Receipts from the running terminal: printed on paid (or on Enter when asked), reprinted from a key, and a
printer fault never blocks a sale — the job waits in the journal and prints when the printer is back."""

import time

import requests

from terminal.devices.printer import PrinterConfig

from .terminal_app import make_terminal


def with_printer(tmp_path, sandbox, target, auto_print="always"):
    config = PrinterConfig(connection="file", device=str(target), profile="TM-T88III", auto_print=auto_print)
    return make_terminal(tmp_path, sandbox.url, printer=config)


def pay(terminal, amount="12.5"):
    terminal.press(amount + "E")
    requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)
    return terminal.until_screen("paid")


def jobs(terminal):
    return [(row["reference"], row["status"]) for row in terminal.journal.db["print_jobs"].rows]


def stop(terminal):
    terminal.app.worker.stop()
    terminal.app.print_queue.stop()


def test_a_paid_sale_prints_its_receipt_and_the_job_is_journaled(tmp_path, sandbox):
    target = tmp_path / "lp0"
    terminal = with_printer(tmp_path, sandbox, target)
    pay(terminal)
    terminal.until(lambda: jobs(terminal) == [("T1-000001", "printed")])
    data = target.read_bytes()
    assert b"INR 12.50" in data and b"T1-000001" in data and b"PAID" in data
    assert b"\x1d(k" in data  # the QR to the digital receipt (the sandbox's page)
    stop(terminal)


def test_a_missing_printer_never_blocks_the_sale_and_the_receipt_prints_when_it_is_back(tmp_path, sandbox):
    target = tmp_path / "usb" / "lp0"
    terminal = with_printer(tmp_path, sandbox, target)
    paid = pay(terminal)
    assert paid.title == "Paid"
    terminal.until(lambda: terminal.screen.warning.startswith("Printer: not found"))
    assert jobs(terminal) == [("T1-000001", "pending")]
    terminal.press("E")
    terminal.press("3E")
    assert terminal.until_screen("qr").amount == "₹3.00"  # the next sale goes on regardless
    target.parent.mkdir()
    terminal.until(lambda: jobs(terminal) == [("T1-000001", "printed")], timeout=15)
    terminal.until(lambda: terminal.screen.warning == "")
    assert b"T1-000001" in target.read_bytes()
    stop(terminal)


def test_a_receipt_left_unprinted_prints_after_a_restart(tmp_path, sandbox):
    target = tmp_path / "usb" / "lp0"
    first = with_printer(tmp_path, sandbox, target)
    pay(first)
    first.until(lambda: first.journal.db["print_jobs"].count == 1)
    stop(first)
    first.journal.close()
    target.parent.mkdir()
    again = with_printer(tmp_path, sandbox, target)  # the same journal file: a restart
    again.until(lambda: jobs(again) == [("T1-000001", "printed")], timeout=10)
    stop(again)


def test_when_asked_enter_prints_and_the_reprint_key_prints_a_copy(tmp_path, sandbox):
    target = tmp_path / "lp0"
    terminal = with_printer(tmp_path, sandbox, target, auto_print="ask")
    assert pay(terminal).hint == "Enter: print receipt"
    time.sleep(0.3)
    assert jobs(terminal) == []
    terminal.press("E")
    terminal.until(lambda: jobs(terminal) == [("T1-000001", "printed")])
    terminal.press("r")
    terminal.until(lambda: len(jobs(terminal)) == 2 and jobs(terminal)[1][1] == "printed")
    assert b"*** COPY ***" in target.read_bytes()
    stop(terminal)
