"""The shop's language: catalogs complete and consistent with the code, Hindi and Brazilian shops see their words
and number format on the screen and on paper, and every script is drawn shaped (read back by Tesseract)."""

from __future__ import annotations

import difflib
import io
import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import pygame
import pytest
import requests
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from terminal.core.events import OrderCreated, OrderUpdated
from terminal.core.i18n import PLAIN, Words
from terminal.core.machine import initial, step
from terminal.core.money import Amount, format_money
from terminal.core.orders import OrderStatus, OrderUpdate, Payment
from terminal.core.receipt import ShopDetails, as_text, receipt_for
from terminal.core.report import Ended, as_lines, summarise
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for
from terminal.devices.fonts import LATIN, Fonts, runs
from terminal.i18n import LANGUAGES, catalog_path, paper_words, words_for

from .core.helpers import HOST, SETTINGS, at, order_for, paid_update, type_keys

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = [folder for folder in LANGUAGES.values() if folder]
NBSP = "\u00a0"


def _code_messages() -> set[str]:
    found = extract_from_dir(
        str(ROOT),
        method_map=[("terminal/core/**.py", "python"), ("terminal/app.py", "python")],
        keywords={"_": None, "N_": None, "Text": None},
    )
    return {message for _file, _line, message, _comments, _context in found}


def _catalog(folder: str):
    return read_po(io.BytesIO(catalog_path(folder).read_bytes()))


@pytest.mark.parametrize("folder", CATALOGS)
def test_every_sentence_in_the_code_is_translated(folder):
    translated = {m.id: m.string for m in _catalog(folder) if m.id}
    missing = sorted(m for m in _code_messages() if not translated.get(m))
    assert missing == []


@pytest.mark.parametrize("folder", CATALOGS)
def test_every_translation_keeps_the_placeholders_of_its_sentence(folder):
    wrong = [
        (m.id, m.string)
        for m in _catalog(folder)
        if m.id and set(re.findall(r"{(\w+)}", m.id)) != set(re.findall(r"{(\w+)}", m.string))
    ]
    assert wrong == []


def test_the_template_lists_exactly_the_sentences_of_the_code():
    template = read_po((ROOT / "terminal" / "i18n" / "messages.pot").open("rb"))
    assert {m.id for m in template if m.id} == _code_messages()


def test_a_catalog_is_compiled_once_into_the_cache(tmp_path):
    words = words_for("hi", cache_dir=tmp_path)
    compiled = list(tmp_path.glob("hi/messages-*.mo"))
    assert words("Scan to pay") == "भुगतान के लिए स्कैन करें" and len(compiled) == 1
    compiled[0].chmod(0o444)
    assert words_for("hi", cache_dir=tmp_path)("Paid") == "भुगतान हो गया"  # read back from the cache


def test_an_unwritable_cache_still_gives_the_language(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert words_for("pt-BR", cache_dir=blocked)("Scan to pay") == "Escaneie para pagar"


def test_a_damaged_translation_falls_back_to_the_english_sentence_not_a_traceback():
    words = Words("hi", {"to {payee}": "{payee_name} को"}.get)
    assert words("to {payee}", payee="Chai Point") == "to Chai Point"


def test_an_empty_sentence_stays_empty_not_the_catalogs_header():
    assert words_for("hi")("") == ""


def test_an_unknown_language_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="pt-BR"):
        words_for("pt-PT")


# --- a Hindi shop and a Brazilian shop ---------------------------------------------------------------------
def _paid_sale(minor: int = 999999900):
    big = replace(SETTINGS, maximum=Amount(10**12, "INR"))
    state = type_keys(initial(big), f"{minor // 100}.{minor % 100:02d}E")
    state, _ = step(state, OrderCreated(state.sale.id, order_for(state)), at(1))
    state, _ = step(state, OrderUpdated(state.sale.id, paid_update(minor=minor)), at(30))
    return state


def test_a_hindi_shop_reads_its_words_and_lakh_grouping_on_the_screen():
    screen = screen_for(_paid_sale(), at(30), words=words_for("hi"))
    assert (screen.title, screen.amount) == ("भुगतान हो गया", "₹99,99,999.00")
    assert "भुगतान संदर्भ UTR123" in screen.lines


def test_a_brazilian_shop_reads_portuguese_and_its_number_format_on_the_screen_and_receipt():
    words = words_for("pt-BR")
    state = type_keys(initial(replace(SETTINGS, currency="BRL", maximum=Amount(10**8, "BRL"))), "1234.56")
    typing = screen_for(state, at(1), words=words)
    assert (typing.title, typing.amount) == ("Valor", f"R${NBSP}1.234,56")
    state = type_keys(state, "E")
    reference = state.sale.reference
    payload = f"https://{HOST}/pay/ord_1?am=1234.56&cu=BRL&tr={reference}"
    state, _ = step(state, OrderCreated(state.sale.id, order_for(state, scheme="url", payload=payload)), at(1))
    assert screen_for(state, at(2), words=words).title == "Escaneie para pagar"
    paid = OrderUpdate("ord_1", OrderStatus.PAID, (Payment(Amount(123456, "BRL"), provider_ref="E2E123"),))
    state, _ = step(state, OrderUpdated(state.sale.id, paid), at(30))
    assert (screen_for(state, at(30), words=words).title, state.sale.status) == ("Pago", SaleStatus.PAID)
    text = as_text(receipt_for(state.sale, shop=ShopDetails("Padaria", words=words), local_time="-", columns=32), 32)
    assert "PAGO" in text and "Data" in text and "BRL 1.234,56" in text


def test_the_hindi_receipt_carries_hindi_words_and_indian_grouping():
    shop = ShopDetails("Chai Point", words=words_for("hi"))
    text = as_text(receipt_for(_paid_sale().sale, shop=shop, local_time="-", columns=48), 48)
    assert "INR 99,99,999.00" in text and "भुगतान हुआ" in text


def test_reports_for_people_are_translated_but_the_tills_lines_never_change():
    report = summarise("x", "", "2026-11-27 18:00", [Ended("paid", Amount(123456, "BRL"))])
    assert as_lines(report, words_for("pt-BR"))[-2:] == [
        "pago            1  BRL 1.234,56",
        "líquido            BRL 1.234,56",
    ]
    assert as_lines(report)[-2:] == ["paid            1  BRL 1,234.56", "net                BRL 1,234.56"]
    assert as_lines(report, PLAIN)[0] == "X report"


# --- every script drawn shaped, read back by a real OCR engine ------------------------------------------------
PHRASES = {
    "hin": "भुगतान के लिए स्कैन करें",
    "tam": "செலுத்த ஸ்கேன் செய்யவும்",
    "tha": "สแกนเพื่อชำระเงิน",
    "por": "Escaneie para pagar",
}


def _ocr(surface, language: str) -> str:
    tesseract = shutil.which("tesseract")
    packages = "tesseract-ocr tesseract-ocr-hin tesseract-ocr-tam tesseract-ocr-tha"
    assert tesseract, f"the OCR tests need Tesseract: sudo apt install {packages}"
    page = pygame.Surface((surface.get_width() + 80, surface.get_height() + 80))
    page.fill((255, 255, 255))
    page.blit(surface, (40, 40))
    buffer = io.BytesIO()
    pygame.image.save(page, buffer, "png")
    tessdata_lang = "eng" if language == "por" else language
    done = subprocess.run(
        [tesseract, "stdin", "stdout", "-l", tessdata_lang, "--psm", "7"],
        input=buffer.getvalue(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


def _same(text: str) -> str:
    """Tesseract writes joiners after a virama and decomposes ำ: compare what a reader sees."""
    return re.sub(r"[\u200b-\u200d\s]+", " ", unicodedata.normalize("NFKC", text)).strip()


def _similarity(read: str, expected: str) -> float:
    return difflib.SequenceMatcher(None, _same(read), _same(expected)).ratio()


@pytest.fixture(scope="module")
def fonts():
    pygame.font.init()
    return Fonts()


@pytest.mark.parametrize("language", PHRASES)
def test_each_language_drawn_on_the_screen_reads_back_with_tesseract(fonts, language):
    text = PHRASES[language]
    read = _ocr(fonts.get(56).render(text, True, (17, 17, 17)), language)
    assert _similarity(read, text) >= 0.9, read


@pytest.mark.parametrize("language", ["hin", "tam"])
def test_without_shaping_the_same_words_read_wrong(language):
    # The check above has teeth: the bundled face drawn without HarfBuzz's script (vowel signs left where
    # typed, no conjuncts) reads as other words. Its own Fonts: the shared one holds the shaped faces.
    pygame.font.init()
    face = Fonts().font({"hin": "NotoSansDevanagari", "tam": "NotoSansTamil"}[language], 56, False)
    text = {"hin": "क्षमा कीजिए, स्थिति प्रिंटर", "tam": "பணம் கிடைத்தது"}[language]
    assert _similarity(_ocr(face.render(text, True, (17, 17, 17)), language), text) < 0.9


def test_mixed_scripts_are_drawn_in_runs_each_with_its_face():
    assert runs("संदर्भ T1-000001") == [("Deva", "संदर्भ "), (None, "T1-000001")]
    assert runs("₹12.50 ชำระแล้ว") == [(None, "₹12.50 "), ("Thai", "ชำระแล้ว")]
    assert runs("៛12,500.00") == [("Khmr", "៛"), (None, "12,500.00")]


def test_a_riel_amount_draws_its_sign_not_the_latin_faces_missing_glyph_box(fonts):
    amount = format_money(Amount(1250000, "KHR"), "en")
    ink, paper = (17, 17, 17), (255, 255, 255)
    drawn = pygame.image.tobytes(fonts.get(56).render(amount, True, ink, paper), "RGB")
    boxed = pygame.image.tobytes(fonts.font(LATIN, 56, False).render(amount, True, ink, paper), "RGB")  # DejaVu's
    assert "៛" in amount and drawn != boxed


# --- receipts on printers without the shop's script: printed in the printer's language, never a "?" -----------
GOLDEN = Path(__file__).parent / "golden"
BIG = Amount(1234567800, "INR")  # ₹1,23,45,678.00: lakh and crore


def _big_sale():
    from .receipts import SALE

    return replace(SALE, amount=BIG, payments=(replace(SALE.payment, amount=BIG),))


def _printed(language: str, profile: str, sale=None) -> tuple[bytes, str]:
    from terminal.devices.printer import PrinterConfig, ReceiptPrinter

    from .receipts import SALE, SHOP

    printer = ReceiptPrinter(PrinterConfig(profile=profile), cache_dir=Path("/tmp") / "qr-terminal-test-escpos")
    words = words_for(language)
    shop = replace(SHOP, words=words, paper=paper_words(words, printer.can_print))
    receipt = receipt_for(sale or SALE, shop=shop, local_time="2026-11-27 15:30", columns=printer.columns)
    return printer.render(receipt), as_text(receipt, printer.columns)


@pytest.mark.parametrize(
    ("language", "profile", "golden"),
    [
        ("hi", "POS-5890", "receipt-hi-on-POS-5890.txt"),  # no Devanagari code page: English, Indian grouping
        ("ta", "TM-T20II", "receipt-ta-on-TM-T20II.txt"),  # no Tamil code page: English, Indian grouping
        ("th", "default", "receipt-th-on-default.txt"),  # CP874: Thai on paper
        ("pt-BR", "TM-U220", "receipt-pt-BR-on-TM-U220.txt"),
    ],  # CP437 only: Portuguese without accents
)
def test_a_receipt_prints_in_a_language_the_printer_has_never_a_question_mark(language, profile, golden):
    sale = _big_sale() if language in ("hi", "ta") else None
    data, text = _printed(language, profile, sale)
    assert text == (GOLDEN / golden).read_text()
    assert b"?" not in data.replace(b"https://r.example.test/T1-000042", b"")


def test_a_printer_with_the_script_prints_the_shops_language():
    _data, text = _printed("th", "default")
    assert "ชำระแล้ว" in text and "วันที่" in text


def test_a_hindi_shops_x_report_reads_hindi_on_screen_and_prints_in_the_printers_language(tmp_path, sandbox):
    from terminal.devices.printer import PrinterConfig
    from terminal.manager_pin import hash_pin, write_hash

    from .terminal_app import make_terminal
    from .test_shop_operations import PIN, pay, printed, unlock

    write_hash(tmp_path / "secrets.toml", hash_pin(PIN))
    paper = PrinterConfig(connection="file", device=str(tmp_path / "lp0"), profile="TM-T88III", auto_print="never")
    terminal = make_terminal(
        tmp_path, sandbox.url, secrets_path=tmp_path / "secrets.toml", printer=paper, language="hi"
    )
    pay(terminal, "123456.5")
    unlock(terminal)
    terminal.press("2")
    terminal.until(
        lambda: terminal.screen.name == "menu-report" and "INR 1,23,456.50" in " ".join(terminal.screen.lines)
    )
    assert terminal.screen.title == "X रिपोर्ट" and any(line.startswith("भुगतान हुआ") for line in terminal.screen.lines)
    terminal.press("E")
    terminal.until(lambda: ("X report", "printed") in printed(terminal))
    paper = (tmp_path / "lp0").read_bytes()
    assert b"X report" in paper and b"paid            1  INR 1,23,456.50" in paper and b"?" not in paper


@pytest.mark.parametrize("language", ["hi", "ta", "th", "pt-BR"])
def test_every_result_screen_draws_translated_at_every_size(language):
    from terminal.devices.display import Display

    from .test_display import OTHERS, SIZES

    words = words_for(language)
    models = [
        replace(m, title=words(m.title), lines=tuple(words(line) for line in m.lines), hint=words(m.hint))
        for m in OTHERS
    ]
    assert all(m.title != o.title for m, o in zip(models[2:], OTHERS[2:], strict=True))  # translated indeed
    for size in SIZES:
        display = Display(size=size)
        seen = set()
        for model in models:
            display.draw(model)
            seen.add(pygame.image.tobytes(display.screen, "RGB"))
        display.close()
        assert len(seen) == len(models)


@pytest.mark.parametrize(
    ("language", "currency", "typed", "expected"),
    [
        (
            "hi",
            "INR",
            "123456.5",
            ("भुगतान मिला — सहेजा जा रहा है…", "₹1,23,456.50", "रिकॉर्ड नहीं लिखा जा सकता: सपोर्ट को कॉल करें", "भुगतान हो गया"),
        ),
        (
            "pt-BR",
            "BRL",
            "123456.5",
            (
                "Pagamento recebido — salvando…",
                f"R${NBSP}123.456,50",
                "Não foi possível gravar o registro: ligue para o suporte",
                "Pago",
            ),
        ),
    ],
)
def test_a_payment_being_saved_is_told_in_the_shops_words_on_a_real_terminal(
    tmp_path, sandbox, language, currency, typed, expected
):
    from .terminal_app import make_terminal
    from .test_atomic_step import allow, refuse

    terminal = make_terminal(tmp_path, sandbox.url, currency=currency, language=language)
    refuse(terminal.journal, "not_paid", "UPDATE ON sales WHEN NEW.status = 'paid'")
    terminal.press(typed + "E")
    qr = terminal.until_screen("qr")
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)

    saving = terminal.until_screen("saving")
    assert (saving.title, saving.amount, saving.lines) == (expected[0], expected[1], (expected[2],))
    allow(terminal.journal, "not_paid")
    assert terminal.until_screen("paid").title == expected[3]
    causes = [e["cause"] for e in terminal.journal.events() if e["kind"] == "sale"]
    assert causes[-1] == "paid"  # the journal stays English
