"""X/Z report arithmetic: per currency and status, paid counted at what was received."""

from terminal.core.money import Amount
from terminal.core.report import Ended, as_csv_rows, as_lines, summarise


def test_counts_and_totals_per_currency_and_status():
    ended = [
        Ended("paid", Amount(1250, "INR")),
        Ended("paid", Amount(750, "INR")),
        Ended("failed", Amount(99, "INR")),
        Ended("paid", Amount(500, "JPY")),
        Ended("unconfirmed", Amount(1000, "INR")),
    ]
    report = summarise("x", "", "2026-11-27T20:00:00+00:00", ended)
    inr, jpy = report.currencies
    assert (inr.currency, inr.counts, inr.totals) == (
        "INR",
        {"paid": 2, "failed": 1, "unconfirmed": 1},
        {"paid": 2000, "failed": 99, "unconfirmed": 1000},
    )
    assert inr.net == 2000 and jpy.net == 500 and inr.net_text() == "INR 20.00"
    assert "paid            2  INR 20.00" in as_lines(report)
    assert ["JPY", "paid", "1", "500"] in as_csv_rows(report)


def test_an_empty_period_says_so():
    assert as_lines(summarise("z", "2026-11-27T00:00:00+00:00", "later", [], number=3))[0] == "Z report #3"
    assert "no sales" in as_lines(summarise("x", "", "now", []))
