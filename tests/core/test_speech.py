"""Spoken amounts, per language and currency, against hand-written expectations."""

import pytest

from terminal.core.money import Amount
from terminal.core.speech import SpeechError, failure, number_words, received, vocabulary


def said(value: str, currency: str, language: str) -> str:
    return received(Amount.parse(value, currency), language).text


@pytest.mark.parametrize(
    ("value", "currency", "language", "expected"),
    [
        ("250.00", "INR", "en-IN", "Received two hundred fifty rupees"),
        ("0.05", "INR", "en-IN", "Received five paise"),
        ("1.00", "INR", "en-IN", "Received one rupee"),
        ("0.01", "INR", "en", "Received one paisa"),
        ("12.50", "INR", "en-IN", "Received twelve rupees and fifty paise"),
        ("100000.00", "INR", "en-IN", "Received one lakh rupees"),
        (
            "12345678.90",
            "INR",
            "en-IN",
            "Received one crore twenty three lakh forty five thousand six hundred seventy eight rupees"
            " and ninety paise",
        ),
        ("100000.00", "INR", "en", "Received one hundred thousand rupees"),
        ("250.00", "INR", "hi", "दो सौ पचास रुपये प्राप्त हुए"),
        ("1.00", "INR", "hi", "एक रुपया प्राप्त हुआ"),
        ("0.05", "INR", "hi", "पाँच पैसे प्राप्त हुए"),
        ("100000.00", "INR", "hi", "एक लाख रुपये प्राप्त हुए"),
        ("12.50", "INR", "hi", "बारह रुपये और पचास पैसे प्राप्त हुए"),
        ("15099999.99", "INR", "hi", "एक करोड़ पचास लाख निन्यानबे हज़ार नौ सौ निन्यानबे रुपये और निन्यानबे पैसे प्राप्त हुए"),
        ("250.00", "INR", "ta", "இருநூற்று ஐம்பது ரூபாய் பெறப்பட்டது"),
        ("21.00", "INR", "ta", "இருபத்து ஒன்று ரூபாய் பெறப்பட்டது"),
        ("100000.00", "INR", "ta", "ஒரு இலட்சம் ரூபாய் பெறப்பட்டது"),
        ("1999.05", "INR", "ta", "ஆயிரத்து தொள்ளாயிரத்து தொண்ணூற்று ஒன்பது ரூபாய் ஐந்து பைசா பெறப்பட்டது"),
        ("12.50", "BRL", "pt-BR", "Recebido doze reais e cinquenta centavos"),
        ("1.00", "BRL", "pt-BR", "Recebido um real"),
        ("0.05", "BRL", "pt-BR", "Recebido cinco centavos"),
        ("1000000.00", "BRL", "pt-BR", "Recebido um milhão de reais"),
        ("2001.01", "BRL", "pt-BR", "Recebido dois mil e um reais e um centavo"),
        ("500", "JPY", "en", "Received five hundred yen"),
        ("1", "JPY", "en", "Received one yen"),
        ("250.00", "THB", "th", "ได้รับเงิน สองร้อยห้าสิบบาท"),
        ("21.25", "THB", "th", "ได้รับเงิน ยี่สิบเอ็ดบาทยี่สิบห้าสตางค์"),
        ("1.250", "KWD", "en", "Received one dinar and two hundred fifty fils"),
        ("0.00", "INR", "en", "Received zero rupees"),
    ],
)
def test_amounts_are_said_as_a_person_says_them(value, currency, language, expected):
    assert said(value, currency, language) == expected


def test_thai_numbers_are_split_into_parts_so_few_clips_say_every_amount():
    assert number_words(250, "th") == ["สอง", "ร้อย", "ห้า", "สิบ"]
    assert number_words(21, "th") == ["ยี่", "สิบ", "เอ็ด"]


def test_failures_and_unknown_languages():
    assert failure("failed", "en").text == "Payment failed"
    assert failure("expired", "pt-BR").text == "QR expirado, sem pagamento"
    with pytest.raises(SpeechError, match="does not speak 'ml'"):
        received(Amount(100, "INR"), "ml")


@pytest.mark.parametrize("language", ["en", "en-IN", "hi", "ta", "pt-BR", "th"])
def test_the_vocabulary_covers_every_amount_it_will_be_asked_to_say(language):
    currencies = {
        "en": ("INR", "JPY"),
        "en-IN": ("INR",),
        "hi": ("INR",),
        "ta": ("INR",),
        "pt-BR": ("BRL",),
        "th": ("THB",),
    }
    words = vocabulary(language, currencies[language])
    for value in (1, 7, 19, 250, 999, 1001, 45_678, 1_00_000, 12_34_567, 9_87_65_432, 123_456_789):
        for currency in currencies[language]:
            phrase = received(
                Amount(value * 10 ** Amount(0, currency).exponent + 37 % 10 ** Amount(0, currency).exponent, currency),
                language,
            )
            assert set(phrase.words) <= words, set(phrase.words) - words
