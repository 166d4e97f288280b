"""What the dashboard shows, read from the hub's tables: today's takings, the live feed, payments that do not
match their sale, terminals and their heartbeats, days of sales against what was captured, refunds, a search.

Days and hours are the chain's own: local days of the hub's time zone (``qr-hub serve --timezone``, default UTC),
midnight to the next midnight by the zone's rules (23 or 25 hours on a day the clocks change). The contract with
terminals and its settlement stay in UTC days. Every query is bounded: by a day or a date range of at most
:data:`MAX_RANGE_DAYS` (local bounds as POSIX seconds, on the indexed ``created_at`` / ``at`` columns) and by a row
limit. Whether money matches its sale is decided by ``terminal.core.matching`` — the terminal's own rule, used as a
library.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from hub import db as t
from hub.dashboard import tables  # noqa: F401  (the refunds index)
from hub.db import Database
from terminal.core.matching import Match, Verdict, match
from terminal.core.money import Amount, MoneyError
from terminal.core.orders import Payment

MAX_RANGE_DAYS = 366
SEARCH_LIMIT = 200
EXPORT_LIMIT = 10_000
FEED_LIMIT = 50
#: The live feed re-reads this many seconds before its cursor (a payment whose transaction committed late).
FEED_OVERLAP = 5.0
PAID_FAMILY = ("paid", "partially_refunded", "refunded")
EPOCH = date(1970, 1, 1)
DAY = 86400
#: The zone when none is set: today's behaviour, said explicitly.
DEFAULT_ZONE = "UTC"
_EMV_METHODS = {"BRL": "PIX", "THB": "PromptPay", "SGD": "PayNow", "MYR": "DuitNow", "IDR": "QRIS", "PHP": "QR Ph"}


def method_of(scheme: str | None, currency: str) -> str:
    """The payment method a customer used, as shops name it (UPI, PIX, PromptPay, …)."""
    if scheme == "upi":
        return "UPI"
    if scheme == "emv":
        return _EMV_METHODS.get(currency, "EMV QR")
    if scheme == "epc":
        return "SEPA (EPC QR)"
    if scheme == "url" and currency == "INR":
        return "UPI"
    return (scheme or "QR").upper()


def zone_named(name: str) -> ZoneInfo:
    """The time zone of an IANA name (``Asia/Kolkata``, ``America/Sao_Paulo``, ``UTC``) from the system's tz
    database. ValueError with one sentence naming it when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: give an IANA name such as Asia/Kolkata, America/Sao_Paulo or UTC"
        ) from None


def day_bounds(day: date, zone: ZoneInfo | None = None) -> tuple[float, float]:
    """POSIX seconds of ``day``'s local midnight in ``zone`` (default UTC) and of the next day's: 24 hours, or 23
    or 25 on a day the clocks change (each midnight is placed by the zone's rules, never start + 24 h; a midnight
    the clocks skip is the instant they jump)."""
    return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)


def _midnight(day: date, zone: ZoneInfo | None) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone or ZoneInfo(DEFAULT_ZONE)).timestamp()


@dataclass(frozen=True)
class _Run:
    """Consecutive local days read by one query each: days of 86 400 s at one UTC ``offset`` (the day of a time
    ``t`` is ``floor((t + offset) / 86400)``), or (``offset`` None) the one day of another length, ``day``."""

    start: float
    end: float
    day: date
    offset: int | None


def _runs(first: date, last: date, zone: ZoneInfo) -> list[_Run]:
    """``first``..``last`` cut into :class:`_Run`: one for a zone without clock changes, five for a year with
    summer time."""
    runs: list[_Run] = []
    day = first
    while day <= last:
        start, end = day_bounds(day, zone)
        offset = round((day - EPOCH).days * DAY - start) if end - start == DAY else None
        previous = runs[-1] if runs else None
        if offset is not None and previous is not None and previous.offset == offset and previous.end == start:
            runs[-1] = _Run(previous.start, end, previous.day, offset)
        else:
            runs.append(_Run(start, end, day, offset))
        day += timedelta(days=1)
    return runs


@dataclass
class Takings:
    """Money of one currency: captured (gross), refunded (succeeded refunds), payments counted."""

    gross: int = 0
    refunds: int = 0
    count: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds


@dataclass
class Today:
    day: date
    totals: dict[str, Takings] = field(default_factory=dict)
    #: currency → terminal → Takings; currency → method → Takings; currency → 24 gross amounts by hour.
    by_terminal: dict[str, dict[str, Takings]] = field(default_factory=dict)
    by_method: dict[str, dict[str, Takings]] = field(default_factory=dict)
    by_hour: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """An order whose money does not match its sale: the verdict and what to do."""

    order_id: str
    terminal: str
    reference: str
    asked: Amount
    match: Match
    payers: tuple[str, ...]


@dataclass(frozen=True)
class FeedItem:
    id: str
    recorded_at: float
    at: float
    terminal: str
    reference: str
    amount: Amount
    payer: str
    method: str
    verdict: Verdict


@dataclass(frozen=True)
class DayLine:
    """One day in one currency: what the paid sales asked, what was captured, what was refunded."""

    day: date
    currency: str
    sales: int
    captured: int
    refunded: int

    @property
    def difference(self) -> int:
        return self.captured - self.sales


@dataclass(frozen=True)
class Found:
    """An order found by the search, with its payments and refunds summed and its verdict."""

    order_id: str
    created_at: float
    terminal: str
    reference: str
    status: str
    asked: Amount
    paid: int
    refunded: int
    payers: tuple[str, ...]
    verdict: Verdict | None


class Reports:
    """Read-only queries for the pages (synchronous: the web layer runs them in worker threads)."""

    def __init__(self, database: Database, clock: Callable[[], float], zone: ZoneInfo | None = None) -> None:
        self.db = database
        self._clock = clock
        #: The chain's time zone: its days and hours are the ones shown.
        self.zone = zone or ZoneInfo(DEFAULT_ZONE)

    def local_today(self) -> date:
        """Today's date in the chain's zone."""
        return datetime.fromtimestamp(self._clock(), self.zone).date()

    def today(self) -> Today:
        """Today's takings (local day). ``by_hour`` has one bar per local hour of the clock: on the day the clocks
        go back the repeated hour's two passes add up in one bar; on the day they go forward the skipped hour's
        bar stays empty."""
        day = self.local_today()
        start, end = day_bounds(day, self.zone)
        report = Today(day)
        join = t.payments.join(t.orders, t.payments.c.order_id == t.orders.c.id)
        rjoin = t.refunds.join(t.orders, t.refunds.c.order_id == t.orders.c.id)
        with self.db.transaction() as conn:
            pays = conn.execute(
                select(
                    t.payments.c.amount,
                    t.payments.c.currency,
                    t.payments.c.at,
                    t.orders.c.terminal_id,
                    t.orders.c.qr_scheme,
                )
                .select_from(join)
                .where(t.payments.c.at >= start, t.payments.c.at < end)
            ).all()
            refunds = conn.execute(
                select(t.refunds.c.amount, t.refunds.c.currency, t.orders.c.terminal_id, t.orders.c.qr_scheme)
                .select_from(rjoin)
                .where(t.refunds.c.created_at >= start, t.refunds.c.created_at < end, t.refunds.c.status == "succeeded")
            ).all()
        for p in pays:
            method = method_of(p.qr_scheme, p.currency)
            for bucket in (
                report.totals.setdefault(p.currency, Takings()),
                report.by_terminal.setdefault(p.currency, {}).setdefault(p.terminal_id, Takings()),
                report.by_method.setdefault(p.currency, {}).setdefault(method, Takings()),
            ):
                bucket.gross += p.amount
                bucket.count += 1
            hour = datetime.fromtimestamp(p.at, self.zone).hour
            report.by_hour.setdefault(p.currency, [0] * 24)[hour] += p.amount
        for r in refunds:
            method = method_of(r.qr_scheme, r.currency)
            for bucket in (
                report.totals.setdefault(r.currency, Takings()),
                report.by_terminal.setdefault(r.currency, {}).setdefault(r.terminal_id, Takings()),
                report.by_method.setdefault(r.currency, {}).setdefault(method, Takings()),
            ):
                bucket.refunds += r.amount
            report.by_hour.setdefault(r.currency, [0] * 24)
        return report

    def range_bounds(self, first: date, last: date) -> tuple[float, float]:
        """POSIX seconds of ``first``'s local midnight and of the midnight after ``last``."""
        return day_bounds(first, self.zone)[0], day_bounds(last, self.zone)[1]

    def problems(self, limit: int = 100) -> list[Problem]:
        """Orders paid today whose money does not match the sale (underpaid, paid twice, overpaid, mismatch)."""
        start, end = day_bounds(self.local_today(), self.zone)
        with self.db.transaction() as conn:
            ids = select(t.payments.c.order_id).where(t.payments.c.at >= start, t.payments.c.at < end).distinct()
            orders = conn.execute(
                select(t.orders).where(t.orders.c.id.in_(ids)).order_by(t.orders.c.created_at).limit(5000)
            ).all()
            payments = _payments_of(conn, [o.id for o in orders])
        found = []
        for order in orders:
            asked = Amount(order.amount, order.currency)
            verdict = match(asked, [p for p, _ in payments.get(order.id, [])])
            if verdict.verdict is not Verdict.PAID:
                payers = tuple(dict.fromkeys(who for _, who in payments.get(order.id, []) if who))
                found.append(Problem(order.id, order.terminal_id, order.reference, asked, verdict, payers))
        return found[:limit]

    def feed(self, after: str | None, limit: int = FEED_LIMIT) -> list[FeedItem]:
        """Payments the hub recorded since ``after`` (a cursor from an earlier answer, less :data:`FEED_OVERLAP`
        seconds: a transaction that committed late is still seen, so the reader drops payments it has shown
        already, by ``id``); None: today's last ``limit``. Oldest first."""
        join = t.payments.join(t.orders, t.payments.c.order_id == t.orders.c.id)
        query = select(
            t.payments,
            t.orders.c.terminal_id,
            t.orders.c.reference,
            t.orders.c.qr_scheme,
            t.orders.c.amount.label("asked"),
            t.orders.c.currency.label("asked_currency"),
        ).select_from(join)
        recorded = t.payments.c.recorded_at
        since = _cursor(after)
        with self.db.transaction() as conn:
            if since is None:
                start, _ = day_bounds(self.local_today(), self.zone)
                newest = query.where(recorded >= start).order_by(recorded.desc(), t.payments.c.id.desc())
                rows = list(reversed(conn.execute(newest.limit(limit)).all()))
            else:
                rows = list(
                    conn.execute(
                        query.where(recorded >= since - FEED_OVERLAP)
                        .order_by(recorded, t.payments.c.id)
                        .limit(limit * 4)
                    ).all()
                )
            payments = _payments_of(conn, list({r.order_id for r in rows}))
        items = []
        for r in rows:
            asked = Amount(r.asked, r.asked_currency)
            verdict = match(asked, [p for p, _ in payments.get(r.order_id, [])]).verdict
            items.append(
                FeedItem(
                    r.id,
                    r.recorded_at or r.at,
                    r.at,
                    r.terminal_id,
                    r.reference,
                    Amount(r.amount, r.currency),
                    r.payer or "",
                    method_of(r.qr_scheme, r.currency),
                    verdict,
                )
            )
        return items

    def latest_cursor(self) -> str:
        """The cursor of the newest payment recorded (the live feed starts there)."""
        with self.db.transaction() as conn:
            newest = conn.execute(select(func.max(t.payments.c.recorded_at))).scalar_one()
        return repr(float(newest or 0.0))

    def terminals(self, down_after: float) -> list[dict[str, Any]]:
        """Every terminal with its last heartbeat, when the hub last heard of it (a heartbeat, or any signed
        request: its nonces are kept ten minutes), and ``online``: heard within ``down_after`` seconds."""
        now = self._clock()
        with self.db.transaction() as conn:
            rows = conn.execute(select(t.terminals).order_by(t.terminals.c.shop, t.terminals.c.id)).all()
            requests = dict(
                conn.execute(
                    select(t.nonces.c.terminal_id, func.max(t.nonces.c.seen_at)).group_by(t.nonces.c.terminal_id)
                ).all()
            )
        found = []
        for r in rows:
            beat = json.loads(r.last_heartbeat) if r.last_heartbeat else {}
            state = "revoked" if r.revoked_at is not None else ("enrolled" if r.enrolled_at else "waiting for code")
            heard = max((at for at in (r.last_heartbeat_at, requests.get(r.id)) if at is not None), default=None)
            online = state == "enrolled" and heard is not None and now - heard < down_after
            found.append(
                {
                    "id": r.id,
                    "shop": r.shop,
                    "state": state,
                    "online": online,
                    "heard": heard,
                    "last_heartbeat_at": r.last_heartbeat_at,
                    "beat": beat,
                }
            )
        return found

    def days(self, first: date, last: date) -> list[DayLine]:
        """Each local day of ``first``..``last`` with sales or captures, per currency, newest first."""
        runs = _runs(first, last, self.zone)
        orders, payments, refunds = t.orders.c, t.payments.c, t.refunds.c
        with self.db.transaction() as conn:
            columns = (
                _by_day(conn, runs, orders.created_at, orders.currency, orders.amount, orders.status.in_(PAID_FAMILY)),
                _by_day(conn, runs, payments.at, payments.currency, payments.amount),
                _by_day(
                    conn, runs, refunds.created_at, refunds.currency, refunds.amount, refunds.status == "succeeded"
                ),
            )
        table: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for column, rows in enumerate(columns):
            for day, currency, total in rows:
                table[(day, currency)][column] += total
        lines = [DayLine(d, c, *v) for (d, c), v in table.items()]
        return sorted(lines, key=lambda line: (line.day, line.currency), reverse=True)

    def refunds(self, first: date, last: date, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
        start, end = self.range_bounds(first, last)
        join = t.refunds.join(t.orders, t.refunds.c.order_id == t.orders.c.id)
        with self.db.transaction() as conn:
            rows = conn.execute(
                select(t.refunds, t.orders.c.reference, t.orders.c.terminal_id)
                .select_from(join)
                .where(t.refunds.c.created_at >= start, t.refunds.c.created_at < end)
                .order_by(t.refunds.c.created_at.desc())
                .limit(limit)
            ).all()
        return [
            {
                "at": r.created_at,
                "terminal": r.terminal_id,
                "reference": r.reference,
                "amount": Amount(r.amount, r.currency),
                "status": "pending" if r.status == "requested" else r.status,
                "reason": r.reason,
                "failure": r.failure_message or "",
            }
            for r in rows
        ]

    def search(
        self, first: date, last: date, reference: str = "", amount: str = "", limit: int = SEARCH_LIMIT
    ) -> list[Found]:
        """Orders made in ``first``..``last`` (newest first), whose reference contains ``reference`` and whose
        amount is ``amount`` (a decimal in the order's own currency). MoneyError for an amount that is none."""
        start, end = self.range_bounds(first, last)
        where = [t.orders.c.created_at >= start, t.orders.c.created_at < end, t.orders.c.provider_id.is_not(None)]
        if reference:
            escaped = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(func.lower(t.orders.c.reference).like(f"%{escaped.lower()}%", escape="\\"))
        with self.db.transaction() as conn:
            if amount:
                currencies = conn.execute(select(t.orders.c.currency).where(*where).distinct()).scalars().all()
                options = []
                for currency in currencies:
                    try:
                        options.append(
                            and_(
                                t.orders.c.currency == currency,
                                t.orders.c.amount == Amount.parse(amount, currency).minor,
                            )
                        )
                    except MoneyError:
                        continue
                if not options:
                    Amount.parse(amount, currencies[0] if currencies else "INR")  # raises the reason, if any
                where.append(or_(*options) if options else t.orders.c.id.is_(None))
            orders = conn.execute(
                select(t.orders).where(*where).order_by(t.orders.c.created_at.desc()).limit(limit)
            ).all()
            ids = [o.id for o in orders]
            payments = _payments_of(conn, ids)
            refunded = (
                dict(
                    conn.execute(
                        select(t.refunds.c.order_id, func.sum(t.refunds.c.amount))
                        .where(t.refunds.c.order_id.in_(ids), t.refunds.c.status == "succeeded")
                        .group_by(t.refunds.c.order_id)
                    ).all()
                )
                if ids
                else {}
            )
        found = []
        for o in orders:
            paid = payments.get(o.id, [])
            asked = Amount(o.amount, o.currency)
            verdict = match(asked, [p for p, _ in paid]).verdict if paid else None
            found.append(
                Found(
                    o.id,
                    o.created_at,
                    o.terminal_id,
                    o.reference,
                    o.status,
                    asked,
                    sum(p.amount.minor for p, _ in paid if p.amount.currency == o.currency),
                    int(refunded.get(o.id) or 0),
                    tuple(dict.fromkeys(w for _, w in paid if w)),
                    verdict,
                )
            )
        return found


def _by_day(
    conn: Connection, runs: list[_Run], when: Any, currency: Any, amount: Any, *where: Any
) -> list[tuple[date, str, int]]:
    """The sum of ``amount`` per local day and currency, one bounded query per :class:`_Run`."""
    found: list[tuple[date, str, int]] = []
    for run in runs:
        bounded = (when >= run.start, when < run.end, *where)
        if run.offset is None:
            rows = conn.execute(select(currency, func.sum(amount)).where(*bounded).group_by(currency)).all()
            found.extend((run.day, c, int(total or 0)) for c, total in rows)
            continue
        number = func.floor((when + run.offset) / DAY)
        rows = conn.execute(select(number, currency, func.sum(amount)).where(*bounded).group_by(number, currency)).all()
        found.extend((EPOCH + timedelta(days=int(n)), c, int(total or 0)) for n, c, total in rows)
    return found


def _payments_of(conn: Connection, order_ids: Iterable[str]) -> dict[str, list[tuple[Payment, str | None]]]:
    ids = list(order_ids)
    found: dict[str, list[tuple[Payment, str | None]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(t.payments).where(t.payments.c.order_id.in_(ids[start : start + 500])).order_by(t.payments.c.at)
        ).all()
        for p in rows:
            payment = Payment(Amount(p.amount, p.currency), payer=p.payer, id=p.provider_payment_id)
            found[p.order_id].append((payment, p.payer))
    return found


def _cursor(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text[:40])
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e12 else None
