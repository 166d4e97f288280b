"""Reports counted by hand, and ``qr-terminal reconcile`` finding mismatches planted on both sides."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import requests

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
from terminal.core.refund import Refund, RefundStatus
from terminal.core.report import as_csv_rows
from terminal.core.sale import Sale, SaleStatus
from terminal.reports import build_report
from terminal.sandbox.server import DEFAULT_TOKEN

from .terminal_app import make_terminal

T = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def sale(seq, minor, status, paid=None):
    order = Order(
        f"ord_{seq}",
        OrderStatus.PENDING,
        f"T1-{seq:06d}",
        Amount(minor, "INR"),
        QrCode("upi", "x"),
        Payee("Shop", "shop@bank"),
        T + timedelta(minutes=5),
    )
    payments = (Payment(Amount(paid, "INR"), T, "payer@bank", f"UTR{seq}"),) if paid is not None else ()
    return Sale(
        f"T1-x-{seq:06d}",
        seq,
        f"T1-{seq:06d}",
        Amount(minor, "INR"),
        status,
        T,
        order=order,
        payments=payments,
        order_open=False,
    )


def refund(of, n, minor, status):
    return Refund(f"{of.id}-R{n}", of.id, of.reference, "ord", Amount(minor, "INR"), status, T)


def test_report_totals_match_totals_counted_by_hand(journal):
    one, two = sale(1, 1250, SaleStatus.PAID, 1250), sale(2, 725, SaleStatus.PAID, 700)  # two: paid short
    for s in (one, two, sale(3, 300, SaleStatus.FAILED), sale(4, 200, SaleStatus.EXPIRED)):
        journal.record_sale(s, "awaiting_payment", "test", T)
    journal.record_refund(refund(one, 1, 500, RefundStatus.SUCCEEDED), "test", T)
    journal.record_refund(refund(two, 1, 100, RefundStatus.FAILED), "test", T)
    journal.record_refund(refund(two, 2, 200, RefundStatus.PENDING), "test", T)
    report = build_report(journal, "x", T + timedelta(hours=1))
    paid_by_hand = 1250 + 700  # what arrived, not what was asked
    refunds_by_hand = 500  # the failed and the pending refund do not count
    (inr,) = report.currencies
    assert inr.counts == {"paid": 2, "failed": 1, "expired": 1}
    assert inr.totals["paid"] == paid_by_hand and inr.refunds == refunds_by_hand and inr.refund_count == 1
    assert inr.net == paid_by_hand - refunds_by_hand
    assert as_csv_rows(report)[-2:] == [["INR", "refunds", "1", "5.00"], ["INR", "net", "", "14.50"]]

    # Z closes the period; a refund that goes through afterwards belongs to the next one.
    build_report(journal, "z", T + timedelta(hours=2))
    journal.record_refund(replace(refund(two, 2, 200, RefundStatus.SUCCEEDED)), "test", T + timedelta(hours=3))
    later = build_report(journal, "x", T + timedelta(hours=4))
    (inr,) = later.currencies
    assert inr.counts == {} and inr.refunds == 200 and inr.net == -200
    assert as_csv_rows(later)[-1] == ["INR", "net", "", "-2.00"] and inr.net_text() == "-INR 2.00"


CONFIG = """
[terminal]
id = "T1"
journal = "{journal}"
[merchant]
name = "Shop"
[payee]
ids = ["demo-shop@sandbox"]
[backend]
url = "{url}"
[secrets]
file = "secrets.toml"
"""


def test_reconcile_finds_every_planted_mismatch(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)

    def pay(amount):
        terminal.press(amount + "E")
        requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)
        terminal.until_screen("paid")
        terminal.press("C")

    pay("10")  # T1-000001: will get a refund at the provider the terminal never made
    pay("20")  # T1-000002: the provider will say another amount
    pay("30")  # T1-000003: matches on both sides
    terminal.press("40E")  # T1-000004: cancelled here, but the provider will say it was paid
    terminal.until_screen("qr")
    terminal.press("C")
    terminal.until(lambda: terminal.app.state.background == ())
    orders = {o["reference"]: sandbox.book._orders[o["id"]] for o in sandbox.book.history(None, 500)}
    sandbox.book.refund(orders["T1-000001"].id, "dashboard", {"amount": {"value": 100, "currency": "INR"}})
    orders["T1-000002"].payments[0]["amount"]["value"] = 1999
    orders["T1-000004"].status = "paid"
    orders["T1-000004"].payments = [dict(orders["T1-000003"].payments[0], amount={"value": 4000, "currency": "INR"})]
    other_order(sandbox, "T1-000099")  # an order the journal never saw
    # A paid sale in the journal whose order the backend does not have.
    gone = replace(
        sale(5, 5000, SaleStatus.PAID, 5000),
        started_at=datetime.now(UTC),
        payments=(Payment(Amount(5000, "INR"), datetime.now(UTC)),),
    )
    terminal.journal.record_sale(gone, "awaiting_payment", "planted", datetime.now(UTC))

    (tmp_path / "secrets.toml").write_text(f'device_token = "{DEFAULT_TOKEN}"\n')
    (tmp_path / "terminal.toml").write_text(CONFIG.format(journal=tmp_path / "journal.db", url=sandbox.url))
    run = reconcile(tmp_path)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Reconciliation ") and "6 mismatch(es) in 5 sales" in lines[0], lines
    found = {line.split(":")[0]: line for line in lines[1:]}
    assert "refunds (terminal: refunded INR 0.00; backend: refunded INR 1.00)" in found["T1-000001"]
    assert "amount (terminal: INR 20.00; backend: INR 19.99)" in found["T1-000002"]
    assert "T1-000003" not in found
    assert "status (terminal: cancelled; backend: paid INR 40.00)" in found["T1-000004"]
    assert "missing at backend" in found["T1-000005"]
    assert "missing in journal" in found["T1-000099"]
    settlement = next(line for line in lines if line.startswith("settlement"))
    assert "terminal: 4 payments, INR 110.00; backend: 5 payments, INR 104.99" in settlement

    # Another terminal on the same account: its orders are not ours, and the settlement cannot be compared.
    other_order(sandbox, "T2-000001")
    again = reconcile(tmp_path).stdout
    assert "T2-000001" not in again and "5 mismatch(es)" in again
    assert "Settlement not compared" in again and "\nsettlement " not in again
    # The same summary under the X report from the shell.
    report = subprocess.run(
        [sys.executable, "-m", "terminal", "report", "--config", str(tmp_path / "terminal.toml"), "--reconcile"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert report.returncode == 0 and "X report" in report.stdout and "5 mismatch(es) in 5 sales" in report.stdout


def reconcile(folder, *more):
    return subprocess.run(
        [sys.executable, "-m", "terminal", "reconcile", "--config", str(folder / "terminal.toml"), *more],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )


def other_order(sandbox, reference):
    made, _ = sandbox.book.create(
        reference,
        {"reference": reference, "amount": {"value": 500, "currency": "INR"}, "expires_in": 300, "description": "x"},
    )
    sandbox.book.pay(made["id"])


def test_reconcile_says_when_the_backend_cannot_be_reached(tmp_path):
    from .servers import closed_port

    (tmp_path / "secrets.toml").write_text(f'device_token = "{DEFAULT_TOKEN}"\n')
    url = f"http://127.0.0.1:{closed_port()}"
    (tmp_path / "terminal.toml").write_text(CONFIG.format(journal=tmp_path / "journal.db", url=url))
    run = reconcile(tmp_path, "--date", "2026-11-27")
    assert run.returncode == 2 and "the backend did not answer" in run.stderr
    bad = reconcile(tmp_path, "--date", "27/11/2026")
    assert bad.returncode == 2 and "--date must be YYYY-MM-DD" in bad.stderr
