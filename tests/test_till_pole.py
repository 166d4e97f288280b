"""Pole-display capture end to end: the till writes its display stream into a pty, the terminal reads it, passes it
on to the real display (another pty), and starts the sale — or types the amount in for Enter."""

from __future__ import annotations

import os
import select

import requests

from terminal.config import TillSection

from .core.test_pole import AEDEX, EPSON
from .terminal_app import make_terminal


def pole_on(tmp_path, sandbox, device: str, **pole):
    """A terminal whose config reads a pole display's stream from ``device`` ([till] kind = "pole")."""
    section = TillSection(
        kind="pole",
        device=device,
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits=1,
        host="127.0.0.1",
        pole=pole,
        manager_commands=False,
        auth="tcp",
        idle_timeout=600,
    )
    terminal = make_terminal(tmp_path, sandbox.url, till=section)
    terminal.until(lambda: terminal.app.till.connected)
    return terminal


def pty():
    master, slave = os.openpty()
    return master, slave, os.ttyname(slave)


def drain(fd, want: int, terminal) -> bytes:
    got = b""
    for _ in range(500):
        terminal.app.pump()
        if select.select([fd], [], [], 0.01)[0]:
            got += os.read(fd, 4096)
        if len(got) >= want:
            break
    return got


def test_a_total_on_the_pole_display_starts_the_sale_and_the_display_still_gets_every_byte(tmp_path, sandbox):
    till_master, till_slave, till_path = pty()
    shown_master, shown_slave, shown_path = pty()
    terminal = pole_on(tmp_path, sandbox, till_path, passthrough=shown_path)
    os.write(till_master, EPSON)
    qr = terminal.until_screen("qr")
    assert qr.amount == "₹3.50" and terminal.app.state.sale.till_ref == "POLE"
    assert drain(shown_master, len(EPSON), terminal) == EPSON  # the customer's display saw exactly what the till sent
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")
    os.write(till_master, EPSON[-12:])  # the till redraws "THANK YOU": no new sale
    terminal.until(lambda: drain(shown_master, 12, terminal) != b"")
    assert len(terminal.journal.sales()) == 1
    terminal.app.till.stop()
    for fd in (till_master, till_slave, shown_master, shown_slave):
        os.close(fd)


def test_prefill_types_the_total_in_and_enter_starts_it(tmp_path, sandbox):
    till_master, till_slave, till_path = pty()
    terminal = pole_on(tmp_path, sandbox, till_path, command_set="aedex", on_total="prefill")
    os.write(till_master, AEDEX)
    entry = terminal.until_screen("entry")
    assert entry.amount == "₹1.00" and entry.notice == "Total from the till: Enter shows the QR"
    terminal.press("E")
    assert terminal.until_screen("qr").amount == "₹1.00"
    terminal.app.till.stop()
    for fd in (till_master, till_slave):
        os.close(fd)


def test_a_total_while_a_customer_pays_is_not_a_second_sale(tmp_path, sandbox):
    till_master, till_slave, till_path = pty()
    terminal = pole_on(tmp_path, sandbox, till_path)
    terminal.press("9E")
    terminal.until_screen("qr")
    os.write(till_master, EPSON)
    terminal.until(lambda: terminal.app.till.display.text()[0] == "THANK YOU")
    for _ in range(20):
        terminal.app.pump()
    assert terminal.screen.amount == "₹9.00" and len(terminal.journal.sales()) == 1
    terminal.app.till.stop()
    for fd in (till_master, till_slave):
        os.close(fd)


def test_open_till_opens_each_kind_from_the_config_words(tmp_path, sandbox):
    import pytest

    from terminal.devices.concert_link import ConcertLink
    from terminal.devices.pole_link import PoleLink
    from terminal.devices.till_link import TillLink, open_till

    terminal = make_terminal(tmp_path, sandbox.url)
    master, slave, path = pty()
    for kind, cls in (("native", TillLink), ("concert", ConcertLink), ("pole", PoleLink)):
        link = open_till(
            kind, path, terminal.app.post, currency="INR", pole={"command_set": "cd5220"} if kind == "pole" else None
        )
        assert type(link) is cls
        terminal.until(lambda link=link: link.connected)
        link.stop()
    with pytest.raises(ValueError, match="one of native, concert, pole"):
        open_till("fax", path, terminal.app.post, currency="INR")
    os.close(master)
    os.close(slave)
