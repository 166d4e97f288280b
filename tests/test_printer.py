"""Receipts through python-escpos: exact bytes for golden receipts at 58 and 80 mm (escpos's Dummy), a Serial
printer on a pty pair, a File printer on a temp file, and faults that never lose a job."""

import os
import queue
import threading
import time
from pathlib import Path

import pytest

from terminal.core.receipt import receipt_for
from terminal.devices.printer import (
    PrinterConfig,
    PrinterError,
    PrintJobDone,
    PrintJobFailed,
    PrintQueue,
    ReceiptPrinter,
)

from .receipts import SALE, SHOP

GOLDEN = Path(__file__).parent / "golden"
CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "qr-terminal-test-escpos"


def printer(**kw):
    return ReceiptPrinter(PrinterConfig(**kw), cache_dir=CACHE)


def receipt(p, **kw):
    return receipt_for(SALE, shop=SHOP, local_time="2026-11-27 15:30", columns=p.columns, **kw)


@pytest.mark.parametrize(("mm", "profile", "columns"), [(58, "POS-5890", 32), (80, "TM-T88III", 42)])
def test_golden_receipts_byte_for_byte(mm, profile, columns):
    p = printer(profile=profile)
    assert p.columns == columns
    assert p.render(receipt(p)) == (GOLDEN / f"receipt-{mm}mm.bin").read_bytes()


def test_the_80mm_receipt_uses_the_printers_own_qr_and_cutter():
    p = printer(profile="TM-T88III")
    data = p.render(receipt(p))
    assert b"\x1d(k" in data and b"https://r.example.test/T1-000042" in data  # GS ( k
    assert data.endswith(b"\x1dV\x00")  # GS V: full cut
    assert b"UTR" in data and b"433012345678" in data and b"T1-000042" in data


def test_the_58mm_receipt_prints_the_qr_as_an_image_and_feeds_instead_of_cutting():
    p = printer(profile="POS-5890")
    data = p.render(receipt(p))
    assert b"\x1d(k" not in data and b"\x1dv0" in data  # GS v 0: a raster image
    assert b"\x1dV" not in data and data.endswith(b"\n\n\n")


def test_a_copy_says_so():
    p = printer(profile="TM-T88III")
    assert b"*** COPY ***" in p.render(receipt(p, reprint=True))


def test_a_file_printer_writes_the_bytes(tmp_path):
    target = tmp_path / "lp0"
    p = printer(profile="TM-T88III", connection="file", device=str(target))
    data = p.render(receipt(p))
    p.send(data)
    assert target.read_bytes() == data


def test_a_serial_printer_on_a_pty_gets_the_status_query_then_the_receipt():
    master, slave = os.openpty()
    p = printer(profile="TM-T88III", connection="serial", device=os.ttyname(slave), timeout=0.2)
    data = p.render(receipt(p))
    p.send(data)
    got = _read_all(master, len(data) + 3)
    assert got == b"\x10\x04\x04" + data  # DLE EOT 4 (paper status), then the receipt
    os.close(master), os.close(slave)


def test_a_serial_printer_out_of_paper_refuses_the_job():
    master, slave = os.openpty()
    p = printer(profile="TM-T88III", connection="serial", device=os.ttyname(slave), timeout=1)

    def printer_side():
        _read_all(master, 3)
        os.write(master, bytes([114]))  # the paper-out bits

    threading.Thread(target=printer_side, daemon=True).start()
    with pytest.raises(PrinterError, match="out of paper"):
        p.send(p.render(receipt(p)))
    os.close(master), os.close(slave)


def _read_all(fd, size, timeout=3.0):
    import select

    out = b""
    deadline = time.monotonic() + timeout
    while len(out) < size and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            out += os.read(fd, 65536)
    return out


class Events:
    def __init__(self):
        self.posted, self.problems = queue.Queue(), []

    def post(self, event):
        self.posted.put(event)

    def problem(self, message):
        self.problems.append(message)


def test_a_missing_device_fails_the_job_keeps_it_and_prints_it_when_the_printer_is_back(tmp_path):
    target = tmp_path / "usb" / "lp0"  # the folder appears when the printer is plugged in
    p = printer(profile="TM-T88III", connection="file", device=str(target))
    events = Events()
    jobs = PrintQueue(p, events.post, events.problem, retry=0.1)
    jobs.submit(7, receipt(p))
    failed = events.posted.get(timeout=3)
    assert isinstance(failed, PrintJobFailed) and failed.job_id == 7 and "not found" in failed.error
    assert jobs.pending() == 1 and "not found" in events.problems[0]
    target.parent.mkdir()
    done = _next_done(events.posted)
    assert done == PrintJobDone(7) and target.read_bytes() == p.render(receipt(p))
    assert events.problems[-1] is None and jobs.pending() == 0
    jobs.stop()


def test_a_pulled_serial_cable_keeps_the_job_until_the_printer_is_back(tmp_path):
    link = tmp_path / "ttyUSB0"
    master, slave = os.openpty()
    link.symlink_to(os.ttyname(slave))
    os.close(master)  # the cable is pulled: nobody at the other end
    p = printer(profile="TM-T88III", connection="serial", device=str(link), timeout=0.2)
    events = Events()
    jobs = PrintQueue(p, events.post, events.problem, retry=0.2)
    jobs.submit(3, receipt(p))
    assert isinstance(events.posted.get(timeout=5), PrintJobFailed)
    os.close(slave)
    master, slave = os.openpty()  # plugged back in
    link.unlink()
    link.symlink_to(os.ttyname(slave))
    assert _next_done(events.posted) == PrintJobDone(3)
    assert b"T1-000042" in _read_all(master, 800)
    jobs.stop()
    os.close(master), os.close(slave)


def _next_done(posted, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = posted.get(timeout=timeout)
        if isinstance(event, PrintJobDone):
            return event
    raise AssertionError("the job never printed")


def test_a_network_printer_answers_the_paper_query_then_takes_the_receipt():
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def fake_printer():
        conn, _ = server.accept()
        with conn:
            assert conn.recv(3) == b"\x10\x04\x04"
            conn.sendall(bytes([0x12]))  # paper adequate
            conn.settimeout(1)
            chunks = b""
            try:
                while chunk := conn.recv(65536):
                    chunks += chunk
            except TimeoutError:
                pass
            received.append(chunks)

    thread = threading.Thread(target=fake_printer, daemon=True)
    thread.start()
    p = printer(profile="TM-T88III", connection="network", host="127.0.0.1", port=server.getsockname()[1], timeout=2)
    data = p.render(receipt(p))
    p.send(data)
    thread.join(5)
    server.close()
    assert received == [data]


def test_a_network_printer_that_is_switched_off_is_not_found():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = printer(profile="TM-T88III", connection="network", host="127.0.0.1", port=port, timeout=1)
    with pytest.raises(PrinterError, match="not found"):
        p.send(b"x")
