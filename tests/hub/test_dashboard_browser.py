"""The dashboard in a real browser: headless Chromium (the Debian packages chromium and chromium-driver, driven
by selenium; nothing downloaded) against a real hub on 127.0.0.1 with an SQLite file. Sales are made by enrolled
terminals and paid by signed webhooks. Screenshots of each page go to docs/screenshots/hub/ when
QR_HUB_SCREENSHOTS=1 (else to a temporary folder)."""

from __future__ import annotations

import csv
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import update

from hub.dashboard import tables
from hub.dashboard.auth import LoginLimits
from tests.hub.dashboard import OWNER, PASSWORD, STAFF, add_users, heartbeat, paid_at, sale, signed_terminal
from tests.hub.running import RunningHub

ROOT = Path(__file__).resolve().parents[2]
SHOP_WITH_HTML = '<img src=x id="pwned-shop">Dosa & Co'
KOLKATA = ZoneInfo("Asia/Kolkata")
PAYER_WITH_HTML = '<b id="pwned-payer">vpa</b>@okbank'


@dataclass
class Browser:
    hub: RunningHub
    driver: WebDriver
    downloads: Path
    shots: Path

    def open(self, path: str) -> None:
        self.driver.get(self.hub.url + path)

    def wait_for(self, condition, timeout: float = 10):  # type: ignore[no-untyped-def]
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition)

    def login(self, name: str = OWNER, password: str = PASSWORD) -> None:
        self.driver.delete_all_cookies()
        self.open("/dashboard/login")
        self.driver.find_element(By.ID, "name").send_keys(name)
        self.driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
        self.wait_for(lambda d: "/dashboard/login" not in d.current_url or d.find_elements(By.ID, "message"))

    def message(self) -> str:
        return self.driver.find_element(By.ID, "message").text

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))


def _chromium() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.fail(
            "the browser tests need Chromium: apt-get install -y chromium chromium-driver "
            "(scripts/test installs them when it runs as root)",
            pytrace=False,
        )
    return browser, driver


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebDriver, Path]]:
    """One headless Chromium for the module, and its download folder."""
    binary, chromedriver = _chromium()
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1500",
        "--lang=en-US",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    try:
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    except WebDriverException as exc:
        pytest.fail(f"headless Chromium did not start: {exc.msg}", pytrace=False)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()


@pytest.fixture
def page(chromium: tuple[WebDriver, Path], tmp_path: Path) -> Iterator[Browser]:
    """A hub of its own for the test (two shops, four terminals, a day of sales, an owner and a staff user),
    seen through the module's browser."""
    yield from _page(chromium, tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_page(request: pytest.FixtureRequest, chromium: tuple[WebDriver, Path], tmp_path: Path) -> Iterator[Browser]:
    """The same, on SQLite and on a real PostgreSQL server (the owner's questions answered on both)."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_cluster").database()
    yield from _page(chromium, tmp_path, url)


@pytest.fixture
def kolkata_page(chromium: tuple[WebDriver, Path], tmp_path: Path) -> Iterator[Browser]:
    """The same day of sales at a hub whose chain is in Asia/Kolkata (``timezone`` setting)."""
    yield from _page(chromium, tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", timezone="Asia/Kolkata")


def _page(chromium: tuple[WebDriver, Path], tmp_path: Path, url: str, **settings: Any) -> Iterator[Browser]:
    driver, downloads = chromium
    shots = ROOT / "docs" / "screenshots" / "hub" if os.environ.get("QR_HUB_SCREENSHOTS") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with RunningHub(url, **settings) as hub:
        add_users(hub)
        _a_day_of_sales(hub)
        try:
            yield Browser(hub, driver, downloads, shots)
        finally:
            driver.get("about:blank")  # the live feed stops polling before the hub stops


def _a_day_of_sales(hub: RunningHub) -> None:
    (t1, token1), (t2, token2) = signed_terminal(hub, "T1"), signed_terminal(hub, "T2")
    heartbeat(hub, token1)
    heartbeat(hub, token2, version="0.1.1", printer="paper low", till="none", queue=3)
    t3 = hub.terminal("T3", SHOP_WITH_HTML)  # the shop's name is free text: it must stay text
    hub.enroll("T4", "Chai Point")
    for i, minor in enumerate((1250, 4000, 1800, 60000)):
        sale(hub, (t1, t2)[i % 2], f"S-{i}", minor)
    sale(hub, t2, "S-short", 700, paid=(500,), payer="short@okbank")
    sale(hub, t1, "S-twice", 300, paid=(300, 300), payer="twice@okbank")
    sale(hub, t3, "S-html", 900, payer=PAYER_WITH_HTML)
    sale(hub, t3, "S-brl", 2550, currency="BRL")


def test_the_owner_logs_in_and_sees_todays_takings(any_page: Browser) -> None:
    page = any_page
    page.driver.delete_all_cookies()
    page.open("/dashboard/login")
    page.shot("login")
    page.login()
    assert page.driver.current_url.endswith("/dashboard/today")
    rows = {
        r.find_element(By.TAG_NAME, "th").text: [c.text for c in r.find_elements(By.TAG_NAME, "td")]
        for r in page.driver.find_elements(By.CSS_SELECTOR, "#totals tbody tr")
    }
    assert rows["INR"] == ["8", "₹690.50", "₹0.00", "₹690.50"] and rows["BRL"][0] == "1"
    problems = page.driver.find_element(By.ID, "problems").text
    assert "underpaid" in problems and "ask the customer for the rest" in problems
    assert "paid twice" in problems and "refund the extra ₹3.00" in problems
    assert len(page.driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 6
    page.shot("today")


def test_a_sale_paid_by_a_signed_webhook_appears_in_the_live_feed_without_reload(any_page: Browser) -> None:
    page = any_page
    page.login()
    page.driver.execute_script("window.notReloaded = true;")
    assert "S-live" not in page.driver.find_element(By.ID, "feed").text
    terminal = page.hub.terminal("T1", "Chai Point")
    sale(page.hub, terminal, "S-live", 4200, payer="live@okbank")
    row = page.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "#feed tbody tr") if "S-live" in r.text])
    assert "₹42.00" in row[0].text and "live@okbank" in row[0].text
    assert page.driver.execute_script("return window.notReloaded === true;")


def test_a_chain_in_kolkata_reads_its_hours_and_live_sales_on_its_own_clock(kolkata_page: Browser) -> None:
    page = kolkata_page
    page.login()
    captions = [e.text for e in page.driver.find_elements(By.TAG_NAME, "figcaption")]
    assert "By hour (Asia/Kolkata)" in captions
    at = float(int(time.time()) - 3 * 3600)
    paid_at(page.hub, page.hub.terminal("T1", "Chai Point"), "S-late", 4200, "INR", at)
    row = page.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "#feed tbody tr") if "S-late" in r.text])
    assert row[0].find_elements(By.TAG_NAME, "td")[0].text == datetime.fromtimestamp(at, KOLKATA).strftime("%H:%M:%S")


def test_html_in_a_payers_vpa_and_a_shops_name_is_shown_as_text(page: Browser) -> None:
    page.login()
    payers = [e.text for e in page.driver.find_elements(By.CSS_SELECTOR, "#feed td.payer")]
    assert PAYER_WITH_HTML in payers
    assert page.driver.find_elements(By.ID, "pwned-payer") == []
    page.open("/dashboard/terminals")
    assert page.driver.find_element(By.CSS_SELECTOR, "#terminal-T3 td.shop").text == SHOP_WITH_HTML
    assert page.driver.find_elements(By.ID, "pwned-shop") == []
    page.open("/dashboard/money?q=S-html")
    assert page.driver.find_element(By.CSS_SELECTOR, "#orders td.payer").text == PAYER_WITH_HTML
    assert page.driver.find_elements(By.ID, "pwned-payer") == []


def test_the_csv_export_downloads_the_orders_shown(page: Browser) -> None:
    page.login()
    page.open("/dashboard/money")
    page.shot("money")
    page.driver.find_element(By.ID, "export-csv").click()
    files = page.wait_for(lambda d: [f for f in page.downloads.glob("*.csv") if f.stat().st_size > 0])
    with files[0].open(newline="", encoding="utf-8") as handle:
        rows = {r["reference"]: r for r in csv.DictReader(handle)}
    assert {"S-0", "S-3", "S-short", "S-twice", "S-html", "S-brl"} <= set(rows)
    assert (rows["S-3"]["amount"], rows["S-3"]["currency"], rows["S-3"]["terminal"]) == ("600.00", "INR", "T2")
    assert (rows["S-short"]["paid"], rows["S-short"]["verdict"]) == ("5.00", "underpaid")
    assert rows["S-html"]["payers"] == PAYER_WITH_HTML


def test_the_owner_revokes_a_terminal_from_the_page(page: Browser) -> None:
    page.login()
    page.open("/dashboard/terminals")
    page.shot("terminals")
    states = {t: page.driver.find_element(By.CSS_SELECTOR, f"#terminal-{t} .badge").text for t in ("T1", "T2", "T4")}
    assert states == {"T1": "online", "T2": "online", "T4": "down"}
    assert "paper low" in page.driver.find_element(By.ID, "terminal-T2").text
    page.driver.find_element(By.CSS_SELECTOR, "button[aria-label='Revoke T4']").click()
    page.wait_for(lambda d: "T4 is revoked" in d.find_element(By.ID, "message").text)
    assert "revoked" in page.driver.find_element(By.ID, "terminal-T4").text
    states = {t["id"]: t["state"] for t in page.hub.fleet("/fleet/terminals")["terminals"]}
    assert (states["T4"], states["T1"]) == ("revoked", "enrolled")


def test_staff_see_no_owner_buttons_and_are_refused_an_owner_action(page: Browser) -> None:
    page.login(STAFF)
    page.open("/dashboard/terminals")
    assert page.driver.find_elements(By.CSS_SELECTOR, "form[action$='/revoke'], form[action$='/enroll']") == []
    csrf = page.driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/logout'] input[name=csrf]")
    page.driver.execute_script(
        "var f = document.createElement('form'); f.method = 'post'; f.action = '/dashboard/terminals/revoke';"
        "[['csrf', arguments[0]], ['terminal', 'T1']].forEach(function (p) { var i = document.createElement('input');"
        "i.type = 'hidden'; i.name = p[0]; i.value = p[1]; f.appendChild(i); }); document.body.appendChild(f);"
        "f.submit();",
        csrf.get_attribute("value"),
    )
    page.wait_for(lambda d: d.find_elements(By.ID, "message"))
    assert page.message() == "Only an owner can do this: staff accounts can look, not change."
    assert {t["id"]: t["state"] for t in page.hub.fleet("/fleet/terminals")["terminals"]}["T1"] == "enrolled"


def test_a_forged_csrf_token_is_refused(page: Browser) -> None:
    page.login()
    page.open("/dashboard/terminals")
    page.driver.execute_script("document.querySelector(\"#terminal-T1 input[name=csrf]\").value = 'forged';")
    page.driver.find_element(By.CSS_SELECTOR, "button[aria-label='Revoke T1']").click()
    page.wait_for(lambda d: d.find_elements(By.ID, "message"))
    assert page.message() == "This form was stale or forged. Reload the page and try again."
    assert {t["id"]: t["state"] for t in page.hub.fleet("/fleet/terminals")["terminals"]}["T1"] == "enrolled"


def test_a_wrong_password_is_one_sentence_for_any_name_and_limited(page: Browser) -> None:
    try:
        page.login(OWNER, "not-the-password")
        wrong = page.message()
        page.login("nobody-of-that-name", "not-the-password")
        assert page.message() == wrong == "Wrong name or password."
        for _ in range(3):
            page.login(OWNER, "not-the-password")
        page.login(OWNER, PASSWORD)
        assert page.message().startswith("Too many failed attempts. Try again in")
        assert page.driver.current_url.endswith("/dashboard/login")
    finally:
        page.hub.hub.dashboard.limits = LoginLimits()


def test_an_expired_session_goes_back_to_the_login(page: Browser) -> None:
    page.login()
    with page.hub.hub.db.transaction() as conn:
        conn.execute(update(tables.sessions).values(expires_at=0.0))
    page.open("/dashboard/money")
    assert page.driver.current_url.endswith("/dashboard/login?expired=1")
    assert page.message() == "Your session has expired: log in again."


def test_a_ten_year_range_is_bounded_with_a_message(page: Browser) -> None:
    page.login()
    page.open("/dashboard/money")
    page.driver.execute_script(
        "document.getElementById('from').value = '2016-01-01';document.getElementById('to').value = '2026-01-01';"
    )
    page.driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    note = page.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".note"))
    assert note[0].text == "A range is at most 366 days: showing 2025-01-01 to 2026-01-01."
    assert page.driver.find_element(By.ID, "from").get_attribute("value") == "2025-01-01"


@pytest.mark.parametrize("path", ["/dashboard/today", "/dashboard/terminals", "/dashboard/money"])
def test_every_input_has_a_label(page: Browser, path: str) -> None:
    page.login()
    page.open(path)
    unlabelled = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))"
        ".filter(function (e) { return !(e.id && document.querySelector('label[for=\"' + e.id + '\"]'))"
        " && !e.getAttribute('aria-label'); }).map(function (e) { return e.outerHTML; });"
    )
    assert unlabelled == []


def test_every_button_has_a_name(page: Browser) -> None:
    page.login()
    page.open("/dashboard/terminals")
    nameless = [
        b.get_attribute("outerHTML")
        for b in page.driver.find_elements(By.TAG_NAME, "button")
        if not (b.text.strip() or b.get_attribute("aria-label"))
    ]
    assert nameless == []


@pytest.mark.parametrize("path", ["/dashboard/terminals", "/dashboard/money"])
def test_the_tab_key_reaches_every_control_in_order(page: Browser, path: str) -> None:
    page.login()
    page.open(path)
    controls = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden])'))"
        ".filter(function (e) { return e.getClientRects().length > 0 || e.classList.contains('skip'); });"
    )
    reached: list[WebElement] = []
    page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(len(controls) * 4):  # a date field takes three presses (day, month, year)
        focused = page.driver.switch_to.active_element
        if not reached or reached[-1] != focused:
            reached.append(focused)
        if len(reached) > len(controls):
            break
        focused.send_keys(Keys.TAB)
    assert reached[: len(controls)] == controls


def test_the_skip_link_moves_the_focus_to_the_page(page: Browser) -> None:
    page.login()
    page.open("/dashboard/money")
    page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = page.driver.switch_to.active_element
    assert first.get_attribute("class") == "skip"
    first.send_keys(Keys.ENTER)
    assert page.driver.switch_to.active_element.get_attribute("id") == "main"
