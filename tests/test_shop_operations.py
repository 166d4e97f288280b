"""Shop operations end to end: the manager PIN and its lockout, recent sales, refunds with their slips, and the X/Z
reports on screen and on paper — a real terminal (SDL dummy display, real journal) against the real sandbox, a
real secrets file and a printer writing ESC/POS bytes to a file."""

from __future__ import annotations

import requests

from terminal.devices.printer import PrinterConfig
from terminal.manager_pin import hash_pin, write_hash
from terminal.sandbox.server import Fault

from .terminal_app import make_terminal

PIN = "2580"


def shop(tmp_path, sandbox, *, printer=True):
    secrets = tmp_path / "secrets.toml"
    if not secrets.exists():
        write_hash(secrets, hash_pin(PIN))
    paper = PrinterConfig(connection="file", device=str(tmp_path / "lp0"), profile="TM-T88III", auto_print="never")
    return make_terminal(tmp_path, sandbox.url, secrets_path=secrets, printer=paper if printer else None)


def pay(terminal, amount):
    terminal.press(amount + "E")
    requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")
    terminal.press("C")
    terminal.until_screen("idle")


def unlock(terminal, pin=PIN):
    terminal.press("M" + pin + "E")
    return terminal.until_screen("menu-main")


def printed(terminal):
    return [(row["reference"], row["status"]) for row in terminal.journal.db["print_jobs"].rows]


def sandbox_order(sandbox, reference):
    return next(o for o in sandbox.book.history(None, 500) if o["reference"] == reference)


def test_recent_sales_details_and_a_partial_then_full_refund(tmp_path, sandbox):
    sandbox.book.refund_delay = 0.3  # the bank takes a moment: the refund goes pending → succeeded
    terminal = shop(tmp_path, sandbox)
    pay(terminal, "12.5")
    pay(terminal, "3")
    unlock(terminal)
    terminal.press("1")
    recent = terminal.until_screen("menu-recent")
    assert recent.lines[0].startswith("1  ") and "₹3.00  paid  T1-000002" in recent.lines[0]
    assert "₹12.50  paid  T1-000001" in recent.lines[1]
    terminal.press("2")
    detail = terminal.until_screen("menu-detail")
    assert detail.title == "Sale T1-000001" and detail.amount == "₹12.50"
    assert any(line.startswith("Payment ref SBX") for line in detail.lines)

    terminal.press("2")  # refund
    assert terminal.until_screen("menu-refund_amount").amount == "₹12.50"
    terminal.press("8E")
    assert terminal.until_screen("menu-refund_confirm").amount == "₹8.00"
    terminal.press("E")
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund accepted: waiting for the bank…",))
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund done",))
    terminal.until(lambda: ("T1-000001-R1", "printed") in printed(terminal))
    slip = (tmp_path / "lp0").read_bytes()
    assert b"REFUND" in slip and b"INR 8.00" in slip and b"T1-000001-R1" in slip
    assert sandbox_order(sandbox, "T1-000001")["status"] == "partially_refunded"

    # The second refund can be at most what is left: the keypad refuses more, Enter with nothing refunds it all.
    terminal.press("E")
    terminal.until(lambda: any("Refund T1-000001-R1: ₹8.00 succeeded" in line for line in terminal.screen.lines))
    terminal.press("2")
    terminal.press("5")
    assert terminal.until_screen("menu-refund_amount").lines[-1] == "Maximum is ₹4.50"
    terminal.press("<E")
    assert terminal.until_screen("menu-refund_confirm").amount == "₹4.50"
    terminal.press("E")
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund done",))
    order = sandbox_order(sandbox, "T1-000001")
    assert order["status"] == "refunded" and [r["amount"]["value"] for r in order["refunds"]] == [800, 450]
    terminal.press("E")
    terminal.until(lambda: "2: refund" not in terminal.screen.hint)  # nothing left to refund
    rows = {r["id"]: r["status"] for r in terminal.journal.db["refunds"].rows}
    assert rows == {
        terminal.app.state.last_refund.sale_id + "-R1": "succeeded",
        terminal.app.state.last_refund.sale_id + "-R2": "succeeded",
    }
    events = [e["to_status"] for e in terminal.journal.events() if e["kind"] == "refund"]
    assert events == ["requested", "pending", "succeeded", "requested", "pending", "succeeded"]


def test_reprint_from_recent_sales(tmp_path, sandbox):
    terminal = shop(tmp_path, sandbox)
    pay(terminal, "7")
    unlock(terminal)
    terminal.press("1")
    terminal.until_screen("menu-recent")
    terminal.press("1")
    terminal.until_screen("menu-detail")
    terminal.press("1")
    terminal.until(lambda: printed(terminal) == [("T1-000001", "printed")])
    assert b"*** COPY ***" in (tmp_path / "lp0").read_bytes()


def test_a_refund_the_backend_refuses_is_shown_failed_and_does_not_count(tmp_path, sandbox):
    terminal = shop(tmp_path, sandbox)
    pay(terminal, "10")
    # Someone refunded 6.00 at the provider's dashboard meanwhile: a 5.00 refund from the terminal is refused.
    order = sandbox_order(sandbox, "T1-000001")
    sandbox.book.refund(order["id"], "dashboard-refund", {"amount": {"value": 600, "currency": "INR"}})
    unlock(terminal)
    terminal.press("1")
    terminal.until_screen("menu-recent")
    terminal.press("125EE")
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund failed",))
    assert "exceeds what remains" in " ".join(terminal.screen.lines)
    assert [r["status"] for r in terminal.journal.db["refunds"].rows] == ["failed"]
    assert not [job for job in printed(terminal) if job[0].endswith("-R1")]  # no slip for a refund that failed


def test_a_refund_made_while_the_backend_is_down_is_sent_after_a_restart_exactly_once(tmp_path, sandbox):
    terminal = shop(tmp_path, sandbox, printer=False)
    pay(terminal, "10")
    sandbox.inject(Fault("refund", count=1000, status=503))
    unlock(terminal)
    terminal.press("1")
    terminal.until_screen("menu-recent")
    terminal.press("1" + "2" + "4E" + "E")
    terminal.until(lambda: "cannot be reached" in " ".join(terminal.screen.lines))
    assert [r["status"] for r in terminal.journal.db["refunds"].rows] == ["requested"]
    terminal.app.worker.stop(timeout=0.1)
    terminal.journal.close()

    sandbox.faults.clear()  # the backend is back; the terminal restarts (power cut) with the same journal
    again = shop(tmp_path, sandbox, printer=False)
    again.app.resume()
    again.until(lambda: [r["status"] for r in again.journal.db["refunds"].rows] == ["succeeded"])
    order = sandbox_order(sandbox, "T1-000001")
    assert [r["amount"]["value"] for r in order["refunds"]] == [400]  # one refund, not two
    assert "went through" in again.screen.notice


def test_five_wrong_pins_lock_the_menu_even_across_a_restart(tmp_path, sandbox):
    terminal = shop(tmp_path, sandbox, printer=False)
    terminal.press("M")
    for attempt in range(5):
        terminal.press("1111E")
        if attempt < 4:
            terminal.until(lambda: "Wrong PIN" in " ".join(terminal.screen.lines))
    assert "locked for 5:00" in terminal.until_screen("idle").notice
    terminal.app.worker.stop(timeout=0.1)
    terminal.journal.close()

    again = shop(tmp_path, sandbox, printer=False)
    again.press("M")
    assert again.screen.name == "idle" and "Menu locked after 5 wrong PINs" in again.screen.notice


def test_no_pin_set_says_how_to_set_one(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url, secrets_path=tmp_path / "secrets.toml")
    terminal.press("M2580E")
    assert "qr-terminal set-pin" in terminal.until_screen("idle").notice


def test_x_then_z_report_on_screen_and_printed_with_reconciliation(tmp_path, sandbox):
    terminal = shop(tmp_path, sandbox)
    pay(terminal, "12.5")
    pay(terminal, "3")
    terminal.press("4E")
    terminal.until_screen("qr")
    terminal.press("C")
    terminal.until_screen("cancelled")
    terminal.press("C")
    unlock(terminal)
    terminal.press("2")
    terminal.until(lambda: terminal.screen.name == "menu-report" and "INR 15.50" in " ".join(terminal.screen.lines))
    lines = terminal.screen.lines
    assert "paid            2  INR 15.50" in lines and "cancelled       1  INR 4.00" in lines
    terminal.until(lambda: any(line.startswith("Reconciliation") for line in terminal.screen.lines))
    assert any("all match the backend" in line for line in terminal.screen.lines), terminal.screen.lines
    terminal.press("E")
    terminal.until(lambda: ("X report", "printed") in printed(terminal))
    assert b"X report" in (tmp_path / "lp0").read_bytes()

    terminal.press("C3")
    assert terminal.until_screen("menu-z_confirm").title == "Close the day?"
    terminal.press("E")
    terminal.until(lambda: terminal.screen.title == "Z report" and "INR 15.50" in " ".join(terminal.screen.lines))
    terminal.press("C2")  # the next X report starts from zero
    terminal.until(lambda: terminal.screen.name == "menu-report" and "no sales" in terminal.screen.lines)
