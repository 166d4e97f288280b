"""One reference, several backend orders: reconciliation matches a sale by its order's id, never by whichever
order of its reference a last-wins dictionary kept. A sale lost to a power cut before its QR was shown leaves its
order behind at the backend, and the next start numbers its next sale the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, OrderUpdate, Payee, Payment, QrCode
from terminal.core.reconcile import compare
from terminal.core.sale import Sale, SaleStatus

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RS = Amount(1250, "INR")


def paid_sale() -> Sale:
    order = Order(
        "ord_real",
        OrderStatus.PAID,
        "T1-000007",
        RS,
        QrCode("upi", "x"),
        Payee("Shop", "shop@bank"),
        T + timedelta(minutes=5),
    )
    return Sale(
        "T1-ab-000007",
        7,
        "T1-000007",
        RS,
        SaleStatus.PAID,
        T,
        order=order,
        payments=(Payment(RS, T, "payer@bank", "UTR7"),),
        order_open=False,
    )


REAL = ("T1-000007", OrderUpdate("ord_real", OrderStatus.PAID, payments=(Payment(RS, T, "payer@bank", "UTR7"),)))


def test_an_expired_order_left_behind_under_the_same_reference_is_not_a_mismatch_in_either_order():
    ghost = ("T1-000007", OrderUpdate("ord_ghost", OrderStatus.EXPIRED))
    for theirs in ([REAL, ghost], [ghost, REAL]):  # a last-wins reader compared the paid sale with the ghost
        result = compare("2026-12-01", [(paid_sale(), ())], theirs)
        assert result.mismatches == (), result.lines()


def test_a_payable_order_left_behind_under_the_same_reference_is_missing_in_the_journal():
    ghost = ("T1-000007", OrderUpdate("ord_ghost", OrderStatus.PENDING))
    result = compare("2026-12-01", [(paid_sale(), ())], [ghost, REAL])
    assert [(m.reference, m.kind) for m in result.mismatches] == [("T1-000007", "missing in journal")]


def test_a_sale_whose_order_the_backend_lists_under_its_reference_with_another_id_is_missing_at_the_backend():
    other = ("T1-000007", OrderUpdate("ord_other", OrderStatus.PAID, payments=(Payment(RS, T),)))
    result = compare("2026-12-01", [(paid_sale(), ())], [other])
    assert sorted(m.kind for m in result.mismatches) == ["missing at backend", "missing in journal"]
