"""The dashboard's pages and their guard: session, role, CSRF, headers, errors (never a traceback).

Routes live under ``/dashboard``. Pages are server-rendered Jinja2 templates (autoescaped); the only script is
``static/live.js``, the live feed's 0.5 s poll of ``/dashboard/feed.json``.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hub.dashboard import charts
from hub.dashboard.auth import LoginLimits, Session, Users
from hub.dashboard.i18n import words_for
from hub.dashboard.reports import EXPORT_LIMIT, MAX_RANGE_DAYS, SEARCH_LIMIT, FeedItem, Found, Reports, zone_named
from terminal.core.i18n import N_, Words
from terminal.core.matching import Match, Verdict
from terminal.core.money import Amount, MoneyError, format_money, locale_for
from terminal.i18n import LANGUAGES

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "qrhub_session"
LOGIN_CSRF_COOKIE = "qrhub_login_csrf"
FORM_LIMIT = 16 * 1024
#: A terminal silent this long is shown as down (``QR_HUB_DOWN_MINUTES`` overrides).
DOWN_MINUTES = 5.0
FEED_POLL_MS = 500
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
LANGUAGE_NAMES = {
    "en": "English",
    "en-IN": "English (India)",
    "hi": "हिन्दी",
    "ta": "தமிழ்",
    "th": "ไทย",
    "pt-BR": "Português (Brasil)",
}


#: Words the pages show from data (a role, a state, a status, a verdict): listed so that the catalogs carry them.
SHOWN_WORDS = (
    N_("owner"),
    N_("staff"),
    N_("enrolled"),
    N_("revoked"),
    N_("waiting for code"),
    N_("pending"),
    N_("succeeded"),
    N_("failed"),
    N_("paid"),
    N_("partially_refunded"),
    N_("refunded"),
    N_("expired"),
    N_("cancelled"),
    N_("underpaid"),
    N_("paid twice"),
    N_("overpaid"),
    N_("mismatch"),
)


class Text(NamedTuple):
    """A sentence for people, in English with ``{placeholders}``, translated where it is shown."""

    message: str
    values: dict[str, object]

    def __str__(self) -> str:
        return self.message.format(**self.values)


def said(message: str, **values: object) -> Text:
    """A sentence to show (``pybabel extract -k said`` finds it)."""
    return Text(message, values)


class Refused(Exception):
    """A request the dashboard answers with a page of one sentence (403 for a forged form or a staff user…)."""

    def __init__(self, status: int, message: Text) -> None:
        super().__init__(str(message))
        self.status, self.message = status, message


class Dashboard:
    """The owner's dashboard of one :class:`hub.app.Hub`: its days, hours and times are in the hub's time zone
    (``Settings.timezone``; ValueError with a sentence for an unknown one)."""

    def __init__(self, hub: Hub, *, down_minutes: float | None = None) -> None:
        self.hub = hub
        self.users = Users(hub.db, clock=hub.clock)
        self.zone = zone_named(hub.settings.timezone)
        self.reports = Reports(hub.db, hub.clock, self.zone)
        self.limits = LoginLimits()
        minutes = (
            down_minutes if down_minutes is not None else float(os.environ.get("QR_HUB_DOWN_MINUTES", DOWN_MINUTES))
        )
        self.down_after = minutes * 60
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )
        self._words: dict[str, Words] = {}

    def routes(self) -> list[BaseRoute]:
        page = self._page
        return [
            Route("/dashboard", self._guard(self.home), methods=["GET"]),
            Route("/dashboard/login", self._guard(self.login_page), methods=["GET"]),
            Route("/dashboard/login", self._guard(self.login), methods=["POST"]),
            Route("/dashboard/logout", page(self.logout, form=True), methods=["POST"]),
            Route("/dashboard/today", page(self.today), methods=["GET"]),
            Route("/dashboard/feed.json", page(self.feed, json=True), methods=["GET"]),
            Route("/dashboard/terminals", page(self.terminals), methods=["GET"]),
            Route("/dashboard/terminals/enroll", page(self.enroll, form=True, owner=True), methods=["POST"]),
            Route("/dashboard/terminals/revoke", page(self.revoke, form=True, owner=True), methods=["POST"]),
            Route("/dashboard/money", page(self.money), methods=["GET"]),
            Route("/dashboard/money.csv", page(self.export_csv), methods=["GET"]),
            Route("/dashboard/money.xlsx", page(self.export_xlsx), methods=["GET"]),
            Mount("/dashboard/static", StaticFiles(directory=HERE / "static"), name="dashboard-static"),
        ]

    # --- login ------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/dashboard/today", 303)

    async def login_page(self, request: Request, message: Text | None = None, status: int = 200) -> Response:
        if message is None and request.query_params.get("expired"):
            message = said("Your session has expired: log in again.")
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = self._render(request, "login.html", None, status=status, message=message, csrf=token)
        self._cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), form.get("csrf", "").encode()):
            raise Refused(403, said("This form was stale or forged. Reload the page and try again."))
        name, password = form.get("name", "").strip(), form.get("password", "")
        keys = (f"name:{name.lower()}", f"addr:{request.client.host if request.client else '?'}")
        wait = self.limits.wait(*keys)
        if wait > 0:
            minutes = int(wait // 60) + 1
            return await self.login_page(
                request, said("Too many failed attempts. Try again in {minutes} min.", minutes=minutes), 429
            )
        token = await _run(self.users.login, name, password)
        if token is None:
            self.limits.failed(*keys)
            return await self.login_page(request, said("Wrong name or password."), 401)
        self.limits.succeeded(keys[0])
        response = RedirectResponse("/dashboard/today", 303)
        self._cookie(request, response, SESSION_COOKIE, token, max_age=int(self.users.session_ttl))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dashboard")
        return response

    async def logout(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        await _run(self.users.logout, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/dashboard/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/dashboard")
        return response

    # --- today --------------------------------------------------------------------------------

    async def today(self, request: Request, session: Session) -> Response:
        report = await _run(self.reports.today)
        problems = await _run(self.reports.problems)
        feed = await _run(self.reports.feed, None)
        cursor = await _run(self.reports.latest_cursor)
        money = self._money_writer(request, session)
        _ = self._words_for(request, session)
        chart_sets = []
        for currency in sorted(report.totals):
            label = _label(money, currency)
            terminals = sorted(report.by_terminal.get(currency, {}).items())
            methods = sorted(report.by_method.get(currency, {}).items())
            chart_sets.append(
                {
                    "currency": currency,
                    "hours": charts.hours(
                        _("Takings by hour, {currency} ({zone})", currency=currency, zone=self.zone.key),
                        report.by_hour.get(currency, [0] * 24),
                        label,
                    ),
                    "terminals": charts.bars(
                        _("Takings by terminal, {currency}", currency=currency),
                        [(k, v.gross) for k, v in terminals],
                        label,
                    ),
                    "methods": charts.bars(
                        _("Takings by method, {currency}", currency=currency), [(k, v.gross) for k, v in methods], label
                    ),
                    "terminal_rows": terminals,
                    "method_rows": methods,
                    "hour_rows": [(h, v) for h, v in enumerate(report.by_hour.get(currency, [])) if v],
                }
            )
        advice = [(p, _advice(p.match, money, _)) for p in problems]
        return self._render(
            request,
            "today.html",
            session,
            report=report,
            chart_sets=chart_sets,
            advice=advice,
            feed=[self._feed_json(i, money) for i in reversed(feed)],
            cursor=cursor,
            poll_ms=FEED_POLL_MS,
        )

    async def feed(self, request: Request, session: Session) -> Response:
        after = request.query_params.get("after") or "0"
        items = await _run(self.reports.feed, after)
        money = self._money_writer(request, session)
        cursor = max([i.recorded_at for i in items], default=None)
        return JSONResponse(
            {
                "items": [self._feed_json(i, money) for i in items],
                "cursor": repr(cursor) if cursor is not None else after,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _feed_json(self, item: FeedItem, money: Callable[[int, str], str]) -> dict[str, Any]:
        amount = money(item.amount.minor, item.amount.currency)
        return {
            "id": item.id,
            "time": datetime.fromtimestamp(item.at, self.zone).strftime("%H:%M:%S"),
            "terminal": item.terminal,
            "reference": item.reference,
            "amount": amount,
            "payer": item.payer,
            "method": item.method,
            "verdict": str(item.verdict),
            "flagged": item.verdict is not Verdict.PAID,
        }

    # --- terminals ----------------------------------------------------------------------------

    async def terminals(self, request: Request, session: Session, **shown: Any) -> Response:
        rows = await _run(self.reports.terminals, self.down_after)
        values: dict[str, Any] = {"code": None, "message": None, "status": 200, **shown}
        return self._render(
            request,
            "terminals.html",
            session,
            terminals=rows,
            down_minutes=self.down_after / 60,
            revoked=request.query_params.get("revoked", ""),
            **values,
        )

    async def enroll(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        terminal, shop = form.get("terminal", "").strip(), form.get("shop", "").strip()
        if len(shop) > 100:
            return await self.terminals(
                request, session, message=said("A shop's name is at most 100 characters."), status=400
            )
        try:
            code = await _run(self.hub.fleet.new_code, terminal, shop)
        except ValueError as exc:
            return await self.terminals(
                request, session, message=said("Not enrolled: {reason}", reason=str(exc)), status=400
            )
        log.info("dashboard: %s made an enrollment code for terminal %s", session.user, terminal)
        return await self.terminals(request, session, code={"terminal": terminal, "code": code})

    async def revoke(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        terminal = form.get("terminal", "")
        if not await _run(self.hub.fleet.revoke, terminal):
            return await self.terminals(request, session, message=said("No terminal {id}.", id=terminal), status=404)
        log.info("dashboard: %s revoked terminal %s", session.user, terminal)
        self.hub.wakeups.wake(f"terminal:{terminal}")
        return RedirectResponse("/dashboard/terminals?" + urlencode({"revoked": terminal}), 303)

    # --- money --------------------------------------------------------------------------------

    def _search(self, request: Request) -> tuple[date, date, str, str, list[Text]]:
        query = request.query_params
        today = self.reports.local_today()
        notes: list[Text] = []
        first, last = today - timedelta(days=13), today
        try:
            if query.get("from"):
                first = date.fromisoformat(query["from"])
            if query.get("to"):
                last = date.fromisoformat(query["to"])
        except ValueError:
            notes.append(said("A date is written YYYY-MM-DD; showing the last 14 days."))
            first, last = today - timedelta(days=13), today
        if first > last:
            first, last = last, first
            notes.append(said("The dates were the wrong way round; they were swapped."))
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            first = last - timedelta(days=MAX_RANGE_DAYS - 1)
            notes.append(
                said(
                    "A range is at most {days} days: showing {first} to {last}.",
                    days=MAX_RANGE_DAYS,
                    first=first.isoformat(),
                    last=last.isoformat(),
                )
            )
        return first, last, query.get("q", "").strip()[:100], query.get("amount", "").strip()[:30], notes

    async def money(self, request: Request, session: Session) -> Response:
        first, last, reference, amount, notes = self._search(request)
        try:
            found = await _run(self.reports.search, first, last, reference, amount)
        except MoneyError as exc:
            found = []
            notes.append(said("The amount is not one: {reason}", reason=str(exc)))
        if len(found) >= SEARCH_LIMIT:
            notes.append(
                said("Showing the newest {count} orders: narrow the search, or export them.", count=SEARCH_LIMIT)
            )
        days = await _run(self.reports.days, first, last)
        refunds = await _run(self.reports.refunds, first, last)
        params = urlencode(
            {
                k: v
                for k, v in (
                    ("from", first.isoformat()),
                    ("to", last.isoformat()),
                    ("q", reference),
                    ("amount", amount),
                )
                if v
            }
        )
        return self._render(
            request,
            "money.html",
            session,
            first=first,
            last=last,
            reference=reference,
            amount=amount,
            notes=notes,
            found=found,
            days=days,
            refunds=refunds,
            params=params,
            max_days=MAX_RANGE_DAYS,
        )

    async def _export_rows(self, request: Request) -> tuple[str, list[Found]]:
        first, last, reference, amount, _notes = self._search(request)
        try:
            found = await _run(self.reports.search, first, last, reference, amount, EXPORT_LIMIT)
        except MoneyError as exc:
            raise Refused(400, said("The amount is not one: {reason}", reason=str(exc))) from None
        return f"qr-hub-{first.isoformat()}-{last.isoformat()}", found

    async def export_csv(self, request: Request, session: Session) -> Response:
        name, found = await self._export_rows(request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in found:
            writer.writerow([_cell(v) for v in _export_row(row, self.zone)])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
        )

    async def export_xlsx(self, request: Request, session: Session) -> Response:
        from openpyxl import Workbook

        name, found = await self._export_rows(request)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("orders")
        sheet.append(list(EXPORT_COLUMNS))
        for row in found:
            values = _export_row(row, self.zone)
            for i in (5, 6, 7):  # amounts: exact decimals (never floats) as numbers
                values[i] = Decimal(values[i])
            sheet.append([_cell(v) if isinstance(v, str) else v for v in values])
        out = io.BytesIO()
        book.save(out)
        return Response(
            out.getvalue(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', "Cache-Control": "no-store"},
        )

    # --- plumbing -------------------------------------------------------------------------------

    def _words_for(self, request: Request, session: Session | None) -> Words:
        tag = self._language(request, session)
        if tag is None:
            return Words()
        if tag not in self._words:
            self._words[tag] = words_for(tag)
        return self._words[tag]

    def _language(self, request: Request, session: Session | None) -> str | None:
        asked = request.query_params.get("lang")
        if asked in LANGUAGES:
            return asked
        return session.language if session is not None and session.language in LANGUAGES else None

    def _money_writer(self, request: Request, session: Session | None) -> Callable[[int, str], str]:
        language = self._language(request, session)

        def write(minor: int, currency: str) -> str:
            text = format_money(Amount(abs(minor), currency), locale_for(language, currency))
            return ("−" + text) if minor < 0 else text

        return write

    def _render(
        self, request: Request, template: str, session: Session | None, *, status: int = 200, **values: Any
    ) -> HTMLResponse:
        language = self._language(request, session)
        words = self._words_for(request, session)
        lang_q = f"?lang={language}" if request.query_params.get("lang") in LANGUAGES else ""
        page = self.env.get_template(template).render(
            _=words,
            money=self._money_writer(request, session),
            session=session,
            lang=language or "en",
            lang_q=lang_q,
            languages=LANGUAGE_NAMES,
            path=request.url.path,
            clock=self._clock_text,
            zone=self.zone.key,
            say=lambda text: words(text.message, **text.values) if isinstance(text, Text) else words(text),
            **values,
        )
        return HTMLResponse(page, status, headers=SECURITY_HEADERS)

    def _clock_text(self, at: float | None) -> str:
        """A moment in the hub's zone with its abbreviation (``2026-10-25 02:30:00 CET``; ``… UTC`` by default)."""
        if at is None:
            return "—"
        return datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def _cookie(self, request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
        """HttpOnly, SameSite=Strict, path /dashboard; Secure over https or behind a proxy that says https."""
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        secure = request.url.scheme == "https" or forwarded == "https"
        response.set_cookie(
            name, value, max_age=max_age, path="/dashboard", httponly=True, samesite="strict", secure=secure
        )

    def _page(
        self,
        handler: Callable[..., Awaitable[Response]],
        *,
        form: bool = False,
        owner: bool = False,
        json: bool = False,
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page behind a session: expired → the login page; a form needs its CSRF token; ``owner`` pages refuse
        staff (403)."""

        async def endpoint(request: Request) -> Response:
            session = await _run(self.users.session, request.cookies.get(SESSION_COOKIE))
            if not isinstance(session, Session):
                if json:
                    return JSONResponse({"error": "log in again", "login": "/dashboard/login?expired=1"}, 401)
                where = "/dashboard/login?expired=1" if session is False else "/dashboard/login"
                response = RedirectResponse(where, 303)
                response.delete_cookie(SESSION_COOKIE, path="/dashboard")
                return response
            if owner and not session.is_owner:
                raise Refused(403, said("Only an owner can do this: staff accounts can look, not change."))
            if not form:
                return await handler(request, session)
            data = await _form(request)
            if not hmac.compare_digest(data.get("csrf", "").encode(), session.csrf.encode()):
                raise Refused(403, said("This form was stale or forged. Reload the page and try again."))
            return await handler(request, session, data)

        return self._guard(endpoint)

    def _guard(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as exc:
                return self._render(request, "error.html", None, status=exc.status, message=exc.message)
            except (OperationalError, InterfaceError, PoolTimeout) as exc:
                log.warning("dashboard: database unavailable: %s", str(exc).splitlines()[0])
                return self._render(
                    request,
                    "error.html",
                    None,
                    status=503,
                    message=said("The hub's database is not reachable. Try again in a moment."),
                )
            except ClientDisconnect:
                return Response(status_code=400)
            except Exception:
                log.exception("dashboard: unexpected error in %s %s", request.method, request.url.path)
                return self._render(
                    request,
                    "error.html",
                    None,
                    status=500,
                    message=said("The dashboard failed unexpectedly; the hub's log says why."),
                )

        return endpoint


EXPORT_COLUMNS = (
    "created_at_utc",
    "terminal",
    "reference",
    "status",
    "currency",
    "amount",
    "paid",
    "refunded",
    "payers",
    "verdict",
    "order_id",
    "created_at_local",
    "timezone",
)


def _export_row(row: Found, zone: ZoneInfo) -> list[Any]:
    """An order's cells: ``created_at_utc`` as before (integrators parse it); at the end its local time with the
    offset (``2026-10-25 02:30:00+01:00``: the repeated hour of a clock change stays unambiguous) and the zone."""
    currency = row.asked.currency
    moment = datetime.fromtimestamp(row.created_at, UTC)
    when = moment.strftime("%Y-%m-%d %H:%M:%S")
    local = moment.astimezone(zone).replace(microsecond=0).isoformat(sep=" ")
    paid, refunded = Amount(row.paid, currency).decimal(), Amount(row.refunded, currency).decimal()
    return [
        when,
        row.terminal,
        row.reference,
        row.status,
        currency,
        row.asked.decimal(),
        paid,
        refunded,
        " ".join(row.payers),
        str(row.verdict or ""),
        row.order_id,
        local,
        zone.key,
    ]


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (a payer's VPA of ``=HYPERLINK(…)``)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _label(money: Callable[[int, str], str], currency: str) -> Callable[[int], str]:
    return lambda minor: money(minor, currency)


def _advice(found: Match, money: Callable[[int, str], str], _: Words) -> str:
    got = found.received
    extra = found.extra
    if found.verdict is Verdict.UNDERPAID and got is not None:
        return _(
            "Less than asked arrived ({received}): ask the customer for the rest, or refund what arrived "
            "and sell again.",
            received=money(got.minor, got.currency),
        )
    if found.verdict is Verdict.PAID_TWICE and extra is not None:
        return _("Paid twice: refund the extra {extra} to the payer.", extra=money(extra.minor, extra.currency))
    if found.verdict is Verdict.OVERPAID and extra is not None:
        return _("Paid more than asked: refund the extra {extra}.", extra=money(extra.minor, extra.currency))
    return _(
        "{reason}: check the payment at the provider before handing over goods or refunding.",
        reason=found.reason or _("The payment does not match"),
    )


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form (at most 16 KiB), first value of each field."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > FORM_LIMIT):
        raise Refused(413, said("The form is too large."))
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise Refused(413, said("The form is too large."))
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, said("The form could not be read.")) from None
    return {k: v[0] for k, v in fields.items()}


async def _run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    from hub.app import run

    return await run(fn, *args, **kwargs)
