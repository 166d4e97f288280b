"""The dashboard in the shop's language: its sentences (templates and code) are all in its template
(terminal/i18n/dashboard.pot), the Hindi and Brazilian Portuguese catalogs translate every one keeping its
placeholders, and a page asked in a language reads that language — words and numbers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hub.dashboard.i18n import catalog_path, words_for
from tests.hub.dashboard import PASSWORD, add_users, logged_in, sale
from tests.hub.running import RunningHub

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ["hi", "pt_BR"]


def _code_sentences() -> set[str]:
    found = extract_from_dir(
        str(ROOT / "hub" / "dashboard"),
        keywords={"_": None, "N_": None, "said": None},
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
    )
    return {message for _file, _line, message, _comments, _context in found}


def _catalog(folder: str):  # type: ignore[no-untyped-def]
    return read_po(io.BytesIO(catalog_path(folder).read_bytes()))


def test_the_template_lists_exactly_the_sentences_of_the_pages() -> None:
    template = read_po((ROOT / "terminal" / "i18n" / "dashboard.pot").open("rb"))
    assert {m.id for m in template if m.id} == _code_sentences()


@pytest.mark.parametrize("folder", TRANSLATED)
def test_every_sentence_of_the_pages_is_translated(folder: str) -> None:
    translated = {m.id: m.string for m in _catalog(folder) if m.id}
    assert sorted(m for m in _code_sentences() if not translated.get(m)) == []


@pytest.mark.parametrize("folder", TRANSLATED)
def test_every_translation_keeps_the_placeholders_of_its_sentence(folder: str) -> None:
    wrong = [
        (m.id, m.string)
        for m in _catalog(folder)
        if m.id and set(re.findall(r"{(\w+)}", m.id)) != set(re.findall(r"{(\w+)}", m.string))
    ]
    assert wrong == []


def test_a_language_without_a_dashboard_catalog_reads_english() -> None:
    assert words_for("ta")("Today") == "Today" and words_for("pt-BR")("Today") == "Hoje"


@pytest.fixture
def hub(sqlite_url: str) -> Iterator[RunningHub]:
    with RunningHub(sqlite_url) as running:
        add_users(running)
        terminal = running.terminal("T1")
        sale(running, terminal, "T1-A", 123456, currency="BRL")
        sale(running, terminal, "T1-B", 700, paid=(500,))
        yield running


def test_a_brazilian_page_reads_portuguese_words_and_numbers(hub: RunningHub) -> None:
    page = logged_in(hub.url).get(f"{hub.url}/dashboard/today?lang=pt-BR", timeout=10).text
    assert '<html lang="pt-BR">' in page and ">Hoje<" in page and "Pagamentos a conferir" in page
    assert "R$\xa01.234,56" in page
    assert "peça o restante ao cliente" in page  # the advice for the underpaid sale


def test_a_hindi_users_pages_read_hindi(hub: RunningHub) -> None:
    hub.hub.dashboard.users.add("meera", PASSWORD, "staff", "hi")
    page = logged_in(hub.url, "meera").get(f"{hub.url}/dashboard/terminals", timeout=10).text
    assert "<h1>टर्मिनल</h1>" in page and "स्टाफ़" in page


def test_a_refusal_reads_in_the_language_asked(hub: RunningHub) -> None:
    client = logged_in(hub.url)
    answer = client.post(f"{hub.url}/dashboard/terminals/revoke?lang=pt-BR", data={"csrf": "forged"}, timeout=10)
    assert answer.status_code == 403 and "Este formulário estava vencido ou foi forjado." in answer.text
