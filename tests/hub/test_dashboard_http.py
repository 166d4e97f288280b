"""The dashboard over HTTP (a real hub on 127.0.0.1, requests as the browser): login and its limits, sessions,
CSRF, roles, cookies, bounded searches, exports and the shop's number format. The browser's own view is in
test_dashboard_browser.py."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select, update

from hub import db
from hub.dashboard import tables
from hub.dashboard.auth import check_password, hash_password
from tests.hub.dashboard import (
    OWNER,
    PASSWORD,
    STAFF,
    add_users,
    csrf_of,
    heartbeat,
    logged_in,
    login_form,
    sale,
    signed_terminal,
)
from tests.hub.running import RunningHub


@pytest.fixture
def hub(sqlite_url: str) -> Iterator[RunningHub]:
    with RunningHub(sqlite_url) as running:
        add_users(running)
        yield running


def _login(url: str, name: str, password: str, client: requests.Session | None = None) -> requests.Response:
    client = client or requests.Session()
    return client.post(
        f"{url}/dashboard/login",
        timeout=10,
        allow_redirects=False,
        data={"csrf": login_form(client, url), "name": name, "password": password},
    )


def _message(page: str) -> str:
    found = re.search(r'id="message">([^<]*)<', page)
    return found.group(1) if found else ""


def test_a_password_is_stored_as_a_salted_scrypt_hash() -> None:
    stored = hash_password("correct horse battery", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$") and "correct" not in stored
    assert hash_password("correct horse battery", n=2**10) != stored
    assert check_password("correct horse battery", stored) and not check_password("correct horse batterY", stored)
    assert not check_password("anything", "scrypt$damaged")


def test_the_owner_logs_in_and_gets_a_strict_httponly_cookie(hub: RunningHub) -> None:
    answer = _login(hub.url, OWNER, PASSWORD)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/today")
    cookie = answer.headers["set-cookie"].lower()
    assert "qrhub_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain http on loopback: a Secure cookie would never come back


def test_the_cookie_is_secure_behind_a_proxy_that_says_https(hub: RunningHub) -> None:
    client = requests.Session()
    token = login_form(client, hub.url)
    answer = client.post(
        f"{hub.url}/dashboard/login",
        data={"csrf": token, "name": OWNER, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )
    assert "; secure" in answer.headers["set-cookie"].lower()


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(hub: RunningHub) -> None:
    wrong = _login(hub.url, OWNER, "not-the-password")
    unknown = _login(hub.url, "nobody-of-that-name", "not-the-password")
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert _message(wrong.text) == _message(unknown.text) == "Wrong name or password."
    assert "qrhub_session" not in wrong.headers.get("set-cookie", "")


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(hub: RunningHub) -> None:
    for _ in range(5):
        assert _login(hub.url, OWNER, "not-the-password").status_code == 401
    refused = _login(hub.url, OWNER, PASSWORD)
    assert refused.status_code == 429 and _message(refused.text).startswith("Too many failed attempts")


def test_an_unknown_name_is_limited_like_a_known_one(hub: RunningHub) -> None:
    for _ in range(5):
        _login(hub.url, "nobody-of-that-name", "guess")
    assert _login(hub.url, "nobody-of-that-name", "guess").status_code == 429


def test_one_address_trying_many_names_is_limited(hub: RunningHub) -> None:
    for i in range(5):
        assert _login(hub.url, f"guess-{i}", "guess").status_code == 401
    assert _login(hub.url, STAFF, PASSWORD).status_code == 429


def test_a_login_form_without_its_csrf_cookie_is_refused(hub: RunningHub) -> None:
    answer = requests.post(
        f"{hub.url}/dashboard/login",
        data={"csrf": "forged", "name": OWNER, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403 and "forged" in _message(answer.text)


def test_a_page_without_a_session_sends_to_the_login(hub: RunningHub) -> None:
    answer = requests.get(f"{hub.url}/dashboard/today", allow_redirects=False, timeout=10)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/login")


def test_an_expired_session_goes_back_to_the_login_saying_so(hub: RunningHub) -> None:
    client = logged_in(hub.url)
    with hub.hub.db.transaction() as conn:
        conn.execute(update(tables.sessions).values(expires_at=0.0))
    answer = client.get(f"{hub.url}/dashboard/money", allow_redirects=False, timeout=10)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/login?expired=1")
    assert "expired" in _message(client.get(f"{hub.url}{answer.headers['location']}", timeout=10).text)
    assert client.get(f"{hub.url}/dashboard/feed.json", timeout=10).status_code == 401
    with hub.hub.db.transaction() as conn:
        assert conn.execute(select(tables.sessions)).all() == []  # the expired session is gone


def test_logging_out_ends_the_session(hub: RunningHub) -> None:
    client = logged_in(hub.url)
    token = csrf_of(client.get(f"{hub.url}/dashboard/today", timeout=10).text)
    assert client.post(f"{hub.url}/dashboard/logout", data={"csrf": token}, timeout=10).url.endswith("/login")
    assert client.get(f"{hub.url}/dashboard/today", allow_redirects=False, timeout=10).status_code == 303


def _revoke(client: requests.Session, url: str, terminal: str, csrf: str | None = None) -> requests.Response:
    token = csrf if csrf is not None else csrf_of(client.get(f"{url}/dashboard/terminals", timeout=10).text)
    return client.post(
        f"{url}/dashboard/terminals/revoke",
        data={"csrf": token, "terminal": terminal},
        allow_redirects=False,
        timeout=10,
    )


def test_a_forged_csrf_token_is_refused_and_changes_nothing(hub: RunningHub) -> None:
    hub.enroll("T1")
    answer = _revoke(logged_in(hub.url), hub.url, "T1", csrf="forged-token")
    assert answer.status_code == 403 and "forged" in _message(answer.text)
    assert hub.fleet("/fleet/terminals")["terminals"][0]["state"] == "enrolled"


def test_the_owner_revokes_a_terminal(hub: RunningHub) -> None:
    hub.enroll("T1")
    answer = _revoke(logged_in(hub.url), hub.url, "T1")
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/terminals?revoked=T1")
    assert hub.fleet("/fleet/terminals")["terminals"][0]["state"] == "revoked"


def test_staff_calling_an_owner_action_is_refused_and_changes_nothing(hub: RunningHub) -> None:
    hub.enroll("T1")
    staff = logged_in(hub.url, STAFF)
    page = staff.get(f"{hub.url}/dashboard/terminals", timeout=10).text
    assert "Revoke" not in page and "Enroll a terminal" not in page
    answer = _revoke(staff, hub.url, "T1", csrf=csrf_of(page))
    assert answer.status_code == 403 and "Only an owner" in _message(answer.text)
    enroll = staff.post(
        f"{hub.url}/dashboard/terminals/enroll", data={"csrf": csrf_of(page), "terminal": "T9"}, timeout=10
    )
    assert enroll.status_code == 403
    assert [(t["id"], t["state"]) for t in hub.fleet("/fleet/terminals")["terminals"]] == [("T1", "enrolled")]


def test_the_owner_enrolls_a_terminal_and_sees_its_one_time_code_once(hub: RunningHub) -> None:
    client = logged_in(hub.url)
    token = csrf_of(client.get(f"{hub.url}/dashboard/terminals", timeout=10).text)
    page = client.post(
        f"{hub.url}/dashboard/terminals/enroll", data={"csrf": token, "terminal": "T7", "shop": "Dosa"}, timeout=10
    ).text
    code = re.search(r'class="code">([A-Z0-9-]+)<', page)
    assert code is not None
    assert requests.post(f"{hub.url}/v1/enroll", json={"code": code.group(1)}, timeout=5).json()["terminal_id"] == "T7"
    assert code.group(1) not in client.get(f"{hub.url}/dashboard/terminals", timeout=10).text


def test_a_bad_terminal_id_to_enroll_is_a_sentence(hub: RunningHub) -> None:
    client = logged_in(hub.url)
    token = csrf_of(client.get(f"{hub.url}/dashboard/terminals", timeout=10).text)
    answer = client.post(f"{hub.url}/dashboard/terminals/enroll", data={"csrf": token, "terminal": "<T 1>"}, timeout=10)
    assert answer.status_code == 400 and "terminal id" in _message(answer.text)


def test_a_terminal_silent_for_n_minutes_is_shown_down(hub: RunningHub) -> None:
    for terminal in ("T1", "T2"):
        heartbeat(hub, signed_terminal(hub, terminal)[1], queue=2)
    silent_since = time.time() - 5 * 60 - 1
    with hub.hub.db.transaction() as conn:  # T2's last heartbeat and last request, five minutes ago
        conn.execute(update(db.terminals).where(db.terminals.c.id == "T2").values(last_heartbeat_at=silent_since))
        conn.execute(update(db.nonces).where(db.nonces.c.terminal_id == "T2").values(seen_at=silent_since))
    page = logged_in(hub.url).get(f"{hub.url}/dashboard/terminals", timeout=10).text
    badges = dict(re.findall(r'<tr id="terminal-(T\d)">.*?class="badge \w+">(\w+)<', page, re.S))
    assert badges == {"T1": "online", "T2": "down"}


def test_a_terminal_without_heartbeats_is_online_while_it_makes_signed_requests(hub: RunningHub) -> None:
    hub.terminal("T1").settlement("2026-01-01")  # any signed request
    hub.enroll("T2")
    page = logged_in(hub.url).get(f"{hub.url}/dashboard/terminals", timeout=10).text
    badges = dict(re.findall(r'<tr id="terminal-(T\d)">.*?class="badge \w+">(\w+)<', page, re.S))
    assert badges == {"T1": "online", "T2": "down"}


def test_a_ten_year_range_is_clamped_to_366_days_with_a_message(hub: RunningHub) -> None:
    page = (
        logged_in(hub.url)
        .get(f"{hub.url}/dashboard/money", params={"from": "2016-01-01", "to": "2026-01-01"}, timeout=10)
        .text
    )
    assert "A range is at most 366 days: showing 2025-01-01 to 2026-01-01." in page
    assert 'id="from" name="from" type="date" value="2025-01-01"' in page


def test_a_date_that_is_no_date_is_a_sentence(hub: RunningHub) -> None:
    page = logged_in(hub.url).get(f"{hub.url}/dashboard/money", params={"from": "yesterday"}, timeout=10).text
    assert "A date is written YYYY-MM-DD" in page


def test_the_csv_export_has_every_order_and_no_formula(hub: RunningHub) -> None:
    terminal = hub.terminal("T1")
    sale(hub, terminal, "T1-A", 1250, payer="=HYPERLINK(1)@upi")
    sale(hub, terminal, "T1-B", 99900)
    answer = logged_in(hub.url).get(f"{hub.url}/dashboard/money.csv", timeout=10)
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["reference"], r["amount"], r["paid"], r["currency"], r["verdict"]) for r in rows] == [
        ("T1-B", "999.00", "999.00", "INR", "paid"),
        ("T1-A", "12.50", "12.50", "INR", "paid"),
    ]
    assert rows[1]["payers"] == "'=HYPERLINK(1)@upi"


def test_the_xlsx_export_has_exact_amounts(hub: RunningHub) -> None:
    sale(hub, hub.terminal("T1"), "T1-A", 1250)
    answer = logged_in(hub.url).get(f"{hub.url}/dashboard/money.xlsx", timeout=10)
    sheet = load_workbook(io.BytesIO(answer.content)).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    row = dict(zip(header, first, strict=True))
    assert (row["reference"], row["amount"], row["currency"]) == ("T1-A", 12.5, "INR")


def test_amounts_follow_the_shops_language(hub: RunningHub) -> None:
    terminal = hub.terminal("T1")
    sale(hub, terminal, "T1-A", 1234567)
    sale(hub, terminal, "T1-B", 1250, currency="BRL")
    client = logged_in(hub.url)
    hindi = client.get(f"{hub.url}/dashboard/today?lang=hi", timeout=10).text
    brazil = client.get(f"{hub.url}/dashboard/today?lang=pt-BR", timeout=10).text
    assert "₹12,345.67" in hindi and '<html lang="hi">' in hindi
    assert "R$\xa012,50" in brazil and "R$\xa012,50" not in hindi


def test_a_users_language_preference_is_used(hub: RunningHub) -> None:
    sale(hub, hub.terminal("T1"), "T1-A", 1250, currency="BRL")
    hub.hub.dashboard.users.add("ana", PASSWORD, "staff", "pt-BR")
    assert "R$\xa012,50" in logged_in(hub.url, "ana").get(f"{hub.url}/dashboard/today", timeout=10).text


def test_pages_forbid_framing_and_foreign_scripts(hub: RunningHub) -> None:
    headers = logged_in(hub.url).get(f"{hub.url}/dashboard/today", timeout=10).headers
    assert headers["x-frame-options"] == "DENY" and "script-src 'self'" in headers["content-security-policy"]


def test_user_add_reads_the_password_from_stdin_never_argv(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    hub_cli = [sys.executable, "-m", "hub"]
    subprocess.run([*hub_cli, "migrate", "--db", db], check=True, capture_output=True, timeout=60)
    added = subprocess.run(
        [*hub_cli, "user", "add", "asha", "--role", "owner", "--db", db],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0 and added.stdout.strip() == "user asha added (owner)"
    short = subprocess.run(
        [*hub_cli, "user", "add", "ravi", "--role", "staff", "--db", db],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    argv = subprocess.run(
        [*hub_cli, "user", "add", "ravi", "--role", "staff", "--password", "x", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert argv.returncode == 2 and "unrecognized arguments: --password" in argv.stderr
