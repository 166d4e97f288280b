"""The screen's Latin face is DejaVu Sans cut to what the screen writes with it (scripts/subset-fonts): every
character of every screen sentence in every language, and of every amount in every locale and currency, is in
both weights; the cut is real (each open size holds half the tables of the whole face)."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont

from terminal.core import money_cldr
from terminal.core.money import Amount, format_money, format_typed
from terminal.devices.fonts import LATIN, SCRIPTS, script_of

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "terminal" / "assets" / "fonts"
I18N = ROOT / "terminal" / "i18n"


@pytest.fixture(scope="module", params=["", "-Bold"])
def cmap(request) -> set[int]:
    return set(TTFont(FONTS / f"{LATIN}{request.param}.ttf").getBestCmap())


def _drawn_by_latin(texts) -> set[str]:
    """The characters of ``texts`` the Latin face draws (not those of a bundled Noto face; not line breaks)."""
    return {char for text in texts for char in text if script_of(char) is None and char not in "\n\r\t"}


def _screen_sentences() -> list[str]:
    texts = []
    for catalog in [I18N / "messages.pot", *sorted(I18N.glob("locale/*/LC_MESSAGES/messages.po"))]:
        with catalog.open("rb") as file:
            for message in read_po(file):
                for text in (message.id, message.string):
                    texts += [text] if isinstance(text, str) else list(text)  # plurals are tuples
    return texts


def _amounts() -> list[str]:
    written = []
    for (_, currency), locale in money_cldr.LOCALES.items():
        written += [format_money(Amount(123456789, currency), locale), format_typed("1234.5", currency, locale)]
        written.append(format_money(Amount(123456789, currency), locale, code=True))
    return written


def test_every_screen_sentence_in_every_language_is_in_the_latin_face(cmap):
    sentences = _screen_sentences()
    assert len(sentences) > 400  # the catalogs were read
    assert {c for c in _drawn_by_latin(sentences) if ord(c) not in cmap} == set()


def test_every_amount_in_every_locale_and_currency_is_in_the_latin_face(cmap):
    amounts = _amounts()
    assert any("₹" in a for a in amounts) and any("฿" in a for a in amounts) and any("៛" in a for a in amounts)
    assert {c for c in _drawn_by_latin(amounts) if ord(c) not in cmap} == set()


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_the_riel_sign_no_dejavu_has_is_drawn_by_the_bundled_khmer_face(weight):
    assert script_of("៛") == "Khmr" and 0x17DB not in set(TTFont(FONTS / f"{LATIN}.ttf").getBestCmap())
    khmer = TTFont(FONTS / f"{SCRIPTS['Khmr'][0]}-{weight}.ttf")
    assert set(khmer.getBestCmap()) == {0x20, 0x17DB}  # the sign alone: no Khmer sentence is drawn
    assert khmer["glyf"]["uni17DB"].numberOfContours > 0  # a drawn glyph, not an empty one


def test_shop_names_in_european_and_vietnamese_letters_are_in_the_latin_face(cmap):
    names = ["Café Zürich", "Łódź Ørsted Ærø", "Кофейня", "Καφενείο", "Phở Hà Nội", "Սրճարան", "ყავა"]
    assert {c for c in _drawn_by_latin(names) if ord(c) not in cmap} == set()


def test_the_face_is_cut_to_those_scripts(cmap):
    assert ord("ا") not in cmap and ord("∀") in cmap  # Arabic (never shaped here) is out; maths stays
    font = TTFont(FONTS / f"{LATIN}.ttf")
    assert len(font.getGlyphOrder()) < 3000  # the whole DejaVu Sans has 6253 glyphs
    assert {"GPOS", "GSUB", "fpgm", "prep"} <= set(font.keys())  # kerning, marks, ligatures and hinting kept
