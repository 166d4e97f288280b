"""The dashboard's days and hours in the chain's own time zone (``Settings.timezone``, an IANA name read with
zoneinfo), on SQLite and on PostgreSQL: payments at 23:30 and 00:30 local fall on two local days in a half-hour zone
(Asia/Kolkata, +05:30) and behind UTC (America/Sao_Paulo, −03:00); Europe/Berlin's clock-change days have 23 and 25
hours, and the repeated hour of 2026-10-25 is one bar of the hourly chart, no payment lost or counted twice. The
sales are made by an enrolled terminal and paid by signed webhooks carrying the provider's time of payment; each
order's creation is then set to that moment in the hub's database (the sale was rung up then)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.dashboard.reports import DayLine, Reports, day_bounds
from hub.db import Database
from tests.hub.dashboard import add_users, logged_in, paid_at, sale
from tests.hub.running import RunningHub

KOLKATA, SAO_PAULO, BERLIN = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Sao_Paulo"), ZoneInfo("Europe/Berlin")
JUNE_14, JUNE_15 = date(2026, 6, 14), date(2026, 6, 15)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # Berlin: 02:00 CET → 03:00 CEST; 03:00 CEST → 02:00 CET
HOUR = 3600


def local(zone: ZoneInfo, day: date, hour: int, minute: int, fold: int = 0) -> float:
    """POSIX seconds of a wall-clock time in ``zone`` (``fold=1``: the second pass of a repeated hour)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone, fold=fold).timestamp()


#: (reference, minor units, currency, moment): the chains' sales around their local midnights.
SALES = [
    # Kolkata, INR: 23:30 and 00:30 local are 18:00 and 19:00 UTC of the same UTC day.
    ("IN-late", 2330, "INR", local(KOLKATA, JUNE_14, 23, 30)),
    ("IN-early", 30, "INR", local(KOLKATA, JUNE_15, 0, 30)),
    # São Paulo, BRL: 23:30 and 00:30 local are 02:30 and 03:30 UTC of the next UTC day.
    ("BR-late", 2330, "BRL", local(SAO_PAULO, JUNE_14, 23, 30)),
    ("BR-early", 30, "BRL", local(SAO_PAULO, JUNE_15, 0, 30)),
    # Berlin, EUR, the 23-hour day and its neighbours.
    ("S-before", 1, "EUR", local(BERLIN, date(2026, 3, 28), 23, 45)),
    ("S-0130", 10, "EUR", local(BERLIN, SPRING, 1, 30)),
    ("S-0330", 100, "EUR", local(BERLIN, SPRING, 3, 30)),
    ("S-2345", 1000, "EUR", local(BERLIN, SPRING, 23, 45)),
    ("S-after", 10000, "EUR", local(BERLIN, date(2026, 3, 30), 0, 15)),
    # Berlin, EUR, the 25-hour day: 02:30 happens twice (CEST, then CET).
    ("A-before", 2, "EUR", local(BERLIN, date(2026, 10, 24), 23, 45)),
    ("A-0015", 20, "EUR", local(BERLIN, AUTUMN, 0, 15)),
    ("A-0230-cest", 200, "EUR", local(BERLIN, AUTUMN, 2, 30)),
    ("A-0230-cet", 2000, "EUR", local(BERLIN, AUTUMN, 2, 30, fold=1)),
    ("A-2345", 20000, "EUR", local(BERLIN, AUTUMN, 23, 45)),
    ("A-after", 200000, "EUR", local(BERLIN, date(2026, 10, 26), 0, 15)),
]


@dataclass
class Chains:
    database: Database

    def reports(self, zone: ZoneInfo, now: float) -> Reports:
        """The dashboard's reports in ``zone`` at the moment ``now``."""
        return Reports(self.database, lambda: now, zone)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sold(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database URL of a hub where one terminal made :data:`SALES`."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('zones') / 'hub.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").database()
    with RunningHub(url) as hub:
        terminal = hub.terminal("T1", "Chai Point")
        for reference, minor, currency, at in SALES:
            paid_at(hub, terminal, reference, minor, currency, at)
        yield url


@pytest.fixture
def chains(sold: str) -> Iterator[Chains]:
    """Those sales, read through a database connection of the test's own (closed after it)."""
    database = Database(sold)
    yield Chains(database)
    database.close()


def _captured(lines: list[DayLine], currency: str) -> dict[date, tuple[int, int]]:
    return {line.day: (line.sales, line.captured) for line in lines if line.currency == currency}


CHAINS = [(KOLKATA, "INR"), (SAO_PAULO, "BRL")]


@pytest.mark.parametrize(("zone", "currency"), CHAINS, ids=["Asia/Kolkata", "America/Sao_Paulo"])
def test_today_starts_at_local_midnight(chains: Chains, zone: ZoneInfo, currency: str) -> None:
    today = chains.reports(zone, local(zone, JUNE_15, 12, 0)).today()
    assert today.day == JUNE_15
    assert (today.totals[currency].gross, today.totals[currency].count) == (30, 1)


@pytest.mark.parametrize(("zone", "currency"), CHAINS, ids=["Asia/Kolkata", "America/Sao_Paulo"])
def test_a_sale_at_2330_and_one_at_0030_are_on_two_local_days(chains: Chains, zone: ZoneInfo, currency: str) -> None:
    lines = chains.reports(zone, local(zone, JUNE_15, 12, 0)).days(JUNE_14, JUNE_15)
    assert _captured(lines, currency) == {JUNE_14: (2330, 2330), JUNE_15: (30, 30)}


@pytest.mark.parametrize(("zone", "currency"), CHAINS, ids=["Asia/Kolkata", "America/Sao_Paulo"])
def test_the_hourly_chart_has_local_hours(chains: Chains, zone: ZoneInfo, currency: str) -> None:
    hours = chains.reports(zone, local(zone, JUNE_14, 12, 0)).today().by_hour[currency]
    assert [(hour, value) for hour, value in enumerate(hours) if value] == [(23, 2330)]


@pytest.mark.parametrize(
    ("day", "hours", "first"),
    [(SPRING, 23, "2026-03-28T23:00:00+00:00"), (AUTUMN, 25, "2026-10-24T22:00:00+00:00")],
    ids=["2026-03-29", "2026-10-25"],
)
def test_a_clock_change_day_runs_from_local_midnight_to_local_midnight(day: date, hours: int, first: str) -> None:
    start, end = day_bounds(day, BERLIN)
    assert datetime.fromtimestamp(start, ZoneInfo("UTC")).isoformat() == first
    assert end - start == hours * HOUR


def test_the_23_hour_day_has_its_payments_and_no_bar_for_the_skipped_hour(chains: Chains) -> None:
    today = chains.reports(BERLIN, local(BERLIN, SPRING, 12, 0)).today()
    assert (today.totals["EUR"].gross, today.totals["EUR"].count) == (1110, 3)
    assert [(hour, value) for hour, value in enumerate(today.by_hour["EUR"]) if value] == [
        (1, 10),
        (3, 100),
        (23, 1000),
    ]


def test_the_25_hour_days_repeated_hour_is_one_bar_of_both_passes(chains: Chains) -> None:
    today = chains.reports(BERLIN, local(BERLIN, AUTUMN, 12, 0)).today()
    assert (today.totals["EUR"].gross, today.totals["EUR"].count) == (22220, 4)
    assert [(hour, value) for hour, value in enumerate(today.by_hour["EUR"]) if value] == [
        (0, 20),
        (2, 200 + 2000),
        (23, 20000),
    ]


def test_days_around_the_clock_changes_lose_and_repeat_no_payment(chains: Chains) -> None:
    reports = chains.reports(BERLIN, local(BERLIN, AUTUMN, 12, 0))
    spring = _captured(reports.days(date(2026, 3, 28), date(2026, 3, 30)), "EUR")
    autumn = _captured(reports.days(date(2026, 10, 24), date(2026, 10, 26)), "EUR")
    assert spring == {date(2026, 3, 28): (1, 1), SPRING: (1110, 1110), date(2026, 3, 30): (10000, 10000)}
    assert autumn == {date(2026, 10, 24): (2, 2), AUTUMN: (22220, 22220), date(2026, 10, 26): (200000, 200000)}


def test_a_range_across_both_clock_changes_sums_every_payment_once(chains: Chains) -> None:
    lines = chains.reports(BERLIN, local(BERLIN, AUTUMN, 12, 0)).days(date(2026, 1, 1), date(2026, 12, 31))
    eur = [line.captured for line in lines if line.currency == "EUR"]
    assert (len(eur), sum(eur)) == (6, sum(minor for _, minor, currency, _ in SALES if currency == "EUR"))


# --- the pages of a hub set to Asia/Kolkata ----------------------------------------------------------------------


@pytest.fixture
def kolkata(sqlite_url: str) -> Iterator[RunningHub]:
    """A hub whose chain is in Asia/Kolkata: a sale paid now, and one rung up and paid at 23:30 IST on 14 June."""
    with RunningHub(sqlite_url, timezone="Asia/Kolkata") as hub:
        add_users(hub)
        terminal = hub.terminal("T1")
        sale(hub, terminal, "T1-now", 1250)
        paid_at(hub, terminal, "T1-june", 2330, "INR", local(KOLKATA, JUNE_14, 23, 30))
        yield hub


def _page(hub: RunningHub, path: str) -> str:
    answer = logged_in(hub.url).get(f"{hub.url}{path}", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_hourly_chart_is_labelled_with_the_zone(kolkata: RunningHub) -> None:
    assert "<title>Takings by hour, INR (Asia/Kolkata)</title>" in _page(kolkata, "/dashboard/today")


def test_the_live_feed_gives_times_on_the_zones_clock(kolkata: RunningHub) -> None:
    items = logged_in(kolkata.url).get(f"{kolkata.url}/dashboard/feed.json?after=0", timeout=10).json()["items"]
    assert {i["reference"]: i["time"] for i in items}["T1-june"] == "23:30:00"


def test_the_money_page_gives_order_times_on_the_zones_clock(kolkata: RunningHub) -> None:
    page = _page(kolkata, "/dashboard/money?from=2026-06-14&to=2026-06-14")
    assert "<td>2026-06-14 23:30:00 IST</td><td>T1</td><td>T1-june</td>" in page


def test_the_csv_keeps_created_at_utc_and_adds_the_local_time_and_its_zone(kolkata: RunningHub) -> None:
    answer = logged_in(kolkata.url).get(f"{kolkata.url}/dashboard/money.csv?from=2026-06-14&to=2026-06-14", timeout=10)
    (row,) = list(csv.DictReader(io.StringIO(answer.text)))
    assert (row["reference"], row["created_at_utc"], row["created_at_local"], row["timezone"]) == (
        "T1-june",
        "2026-06-14 18:00:00",
        "2026-06-14 23:30:00+05:30",
        "Asia/Kolkata",
    )


def test_a_hub_without_a_zone_keeps_utc_days_and_says_so(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        add_users(hub)
        sale(hub, hub.terminal("T1"), "T1-now", 1250)
        answer = logged_in(hub.url).get(f"{hub.url}/dashboard/money.csv", timeout=10)
    (row,) = list(csv.DictReader(io.StringIO(answer.text)))
    utc = datetime.strptime(row["created_at_utc"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert (row["created_at_local"], row["timezone"]) == (utc.isoformat(sep=" "), "UTC")
    assert abs(utc.timestamp() - time.time()) < 60
