"""What the terminal says out loud: "Received two hundred fifty rupees", per language and currency.

A phrase is a tuple of *words*, each one a short clip synthesised once (at install time) and cached, so the
announcement is assembled at run time without synthesis. Numbers become words with num2words where it covers the
language (English, Indian English with lakh and crore, Brazilian Portuguese, Thai) and with our own table for Hindi
(num2words has none). Thai is written without spaces: its number words are split into their parts (สอง ร้อย ห้า สิบ)
so a small set of clips says every amount. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import Amount

#: The languages the terminal speaks, with the espeak-ng voice each uses by default.
LANGUAGES = {"en": "en-gb", "en-IN": "en-gb", "hi": "hi", "ta": "ta", "pt-BR": "pt-br", "th": "th"}

#: Currency names: (one major, many major, one minor, many minor). Missing: the English names, then the code.
CURRENCY_WORDS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "en": {
        "INR": ("rupee", "rupees", "paisa", "paise"),
        "USD": ("dollar", "dollars", "cent", "cents"),
        "SGD": ("Singapore dollar", "Singapore dollars", "cent", "cents"),
        "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
        "EUR": ("euro", "euros", "cent", "cents"),
        "GBP": ("pound", "pounds", "penny", "pence"),
        "BRL": ("real", "reais", "centavo", "centavos"),
        "THB": ("baht", "baht", "satang", "satang"),
        "JPY": ("yen", "yen", "", ""),
        "KRW": ("won", "won", "", ""),
        "VND": ("dong", "dong", "", ""),
        "MYR": ("ringgit", "ringgit", "sen", "sen"),
        "IDR": ("rupiah", "rupiah", "sen", "sen"),
        "PHP": ("peso", "pesos", "centavo", "centavos"),
        "KWD": ("dinar", "dinars", "fils", "fils"),
        "BHD": ("dinar", "dinars", "fils", "fils"),
        "OMR": ("rial", "rials", "baisa", "baisa"),
        "JOD": ("dinar", "dinars", "fils", "fils"),
        "CNY": ("yuan", "yuan", "fen", "fen"),
        "CHF": ("franc", "francs", "centime", "centimes"),
        "KHR": ("riel", "riels", "sen", "sen"),
    },
    "hi": {"INR": ("रुपया", "रुपये", "पैसा", "पैसे")},
    "ta": {"INR": ("ரூபாய்", "ரூபாய்", "பைசா", "பைசா")},
    "pt-BR": {
        "BRL": ("real", "reais", "centavo", "centavos"),
        "USD": ("dólar", "dólares", "centavo", "centavos"),
        "EUR": ("euro", "euros", "cêntimo", "cêntimos"),
    },
    "th": {"THB": ("บาท", "บาท", "สตางค์", "สตางค์")},
}

#: The sentences around the amount: before it, after it, and the "and" between major and minor units.
RECEIVED = {
    "en": ("Received", "", "and"),
    "en-IN": ("Received", "", "and"),
    "hi": ("", "प्राप्त हुए", "और"),
    "ta": ("", "பெறப்பட்டது", ""),
    "pt-BR": ("Recebido", "", "e"),
    "th": ("ได้รับเงิน", "", ""),
}
#: Short lines for a sale that did not go through.
FAILURES = {
    "en": {"failed": "Payment failed", "expired": "QR expired, no payment"},
    "en-IN": {"failed": "Payment failed", "expired": "QR expired, no payment"},
    "hi": {"failed": "भुगतान असफल", "expired": "क्यूआर की समय सीमा समाप्त"},
    "ta": {"failed": "பணம் செலுத்துதல் தோல்வி", "expired": "கியூஆர் காலாவதியானது"},
    "pt-BR": {"failed": "Pagamento recusado", "expired": "QR expirado, sem pagamento"},
    "th": {"failed": "การชำระเงินไม่สำเร็จ", "expired": "คิวอาร์หมดอายุ"},
}

_NUM2WORDS = {"en": "en", "en-IN": "en_IN", "pt-BR": "pt_BR", "th": "th"}
_THAI_PARTS = (
    "หนึ่ง",
    "สอง",
    "สาม",
    "สี่",
    "ห้า",
    "หก",
    "เจ็ด",
    "แปด",
    "เก้า",
    "สิบ",
    "ยี่",
    "ร้อย",
    "พัน",
    "หมื่น",
    "แสน",
    "ล้าน",
    "เอ็ด",
    "ศูนย์",
)
_PT_SCALES = ("milhão", "milhões", "bilhão", "bilhões", "trilhão", "trilhões")


class SpeechError(ValueError):
    """A language the terminal cannot speak, or an amount it cannot say."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """What to say: its words (one cached clip each) and the language's voice."""

    language: str
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The phrase as a person reads it (Thai without spaces between a number's parts)."""
        if self.language == "th" and len(self.words) > 1:
            return f"{self.words[0]} {''.join(self.words[1:])}"
        return " ".join(self.words)


def received(amount: Amount, language: str) -> Phrase:
    """ "Received <amount in words> <currency>" in ``language``."""
    before, after, joiner = _sentence(language)
    major, minor = divmod(amount.minor, 10**amount.exponent) if amount.exponent else (amount.minor, 0)
    one, many, one_minor, many_minor = _currency(language, amount.currency)
    parts: list[str] = []
    if major or not minor:
        parts += number_words(major, language) + _unit(language, major, one, many)
    if minor:
        if parts and joiner:
            parts.append(joiner)
        minor_name = (one_minor, many_minor) if one_minor else ("", "")
        parts += number_words(minor, language) + _unit(language, minor, *minor_name)
    if language == "hi" and (major, minor) in ((1, 0), (0, 1)):
        after = "प्राप्त हुआ"  # one rupee, one paisa: the verb agrees
    words = ([before] if before else []) + parts + (after.split() if after else [])
    return Phrase(language, tuple(w for w in words if w))


def failure(kind: str, language: str) -> Phrase:
    """The short line for a sale that ``failed`` or ``expired``."""
    _sentence(language)
    return Phrase(language, tuple(FAILURES[language][kind].split()))


def number_words(n: int, language: str) -> list[str]:
    """``n`` (≥ 0) in words, one clip each: Indian numbering for Hindi and Indian English."""
    if n < 0:
        raise SpeechError("amounts are never negative")
    if language == "hi":
        return _hindi(n)
    if language == "ta":
        return _tamil(n)
    try:
        text = str(_num2words(n, _NUM2WORDS[language]))
    except (OverflowError, NotImplementedError) as exc:
        raise SpeechError(f"cannot say {n} in {language}: {exc}") from None
    if language == "th":
        return _thai_parts(text)
    if language in ("en", "en-IN"):
        # Spoken at a counter: "two hundred fifty", not "two hundred and fifty,"; hyphens joined by a space.
        text = text.replace(",", "").replace("-", " ")
        return [w for w in text.split() if w != "and"]
    return text.replace(",", "").split()


def vocabulary(language: str, currencies: tuple[str, ...]) -> set[str]:
    """Every word ``language`` can say about amounts in ``currencies`` and the failures: the clips to cache."""
    words: set[str] = set()
    samples = [
        *range(0, 101),
        *range(100, 1000, 100),
        *(10**k for k in range(3, 10)),
        *(2 * 10**k for k in range(3, 10)),
        *range(101, 1000, 100),
        1001,
        100_001,
        1_000_001,
        2_000_001,
        10_000_001,
    ]
    for n in samples:
        words.update(number_words(n, language))
    for currency in currencies:
        unit = 10 ** Amount(0, currency).exponent
        # one and many of each unit, alone and together, and a round million (Portuguese says "de reais")
        for minor in (1, 2, unit, 2 * unit, unit + 1, 2 * unit + 2, 1_000_000 * unit):
            words.update(received(Amount(minor, currency), language).words)
    for kind in ("failed", "expired"):
        words.update(failure(kind, language).words)
    return words


def _sentence(language: str) -> tuple[str, str, str]:
    if language not in RECEIVED:
        raise SpeechError(f"the terminal does not speak {language!r}: one of {', '.join(LANGUAGES)}")
    return RECEIVED[language]


def _currency(language: str, code: str) -> tuple[str, str, str, str]:
    base = language.split("-")[0] if language not in CURRENCY_WORDS else language
    table = CURRENCY_WORDS.get(base, {})
    if code in table:
        return table[code]
    if language.startswith("en") and code in CURRENCY_WORDS["en"]:
        return CURRENCY_WORDS["en"][code]
    return (code, code, "", "")  # a currency we have no words for: its code, letter by letter by the voice


def _unit(language: str, n: int, one: str, many: str) -> list[str]:
    if not one:
        return []
    name = one if n == 1 else many
    if language == "pt-BR" and name == many and str(_num2words(n, "pt_BR")).split()[-1] in _PT_SCALES:
        return ["de", *name.split()]  # "um milhão de reais"
    return name.split()


def _num2words(n: int, lang: str) -> str:
    # Imported on first use: num2words loads every language it knows (~4 MB), which only a terminal that
    # speaks needs.
    from num2words import num2words  # type: ignore[import-untyped]

    return str(num2words(n, lang=lang))


def _thai_parts(text: str) -> list[str]:
    parts, rest = [], text
    while rest:
        part = next((p for p in _THAI_PARTS if rest.startswith(p)), None)
        if part is None:
            raise SpeechError(f"cannot split the Thai number {text!r}")
        parts.append(part)
        rest = rest[len(part) :]
    return parts


# --- Hindi (num2words has no Hindi): our own table, Indian numbering -------------------------------

_HI_WORDS = (
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस बीस "
    "इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस छत्तीस "
    "सैंतीस अड़तीस उनतालीस चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास पचास "
    "इक्यावन बावन तिरपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ साठ इकसठ बासठ तिरसठ चौंसठ पैंसठ छियासठ सड़सठ "
    "अड़सठ उनहत्तर सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी अस्सी इक्यासी "
    "बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी नब्बे इक्यानबे बानबे तिरानबे चौरानबे पचानबे छियानबे "
    "सत्तानबे अट्ठानबे निन्यानबे"
)
_HI_0_99 = tuple(_HI_WORDS.split())
_HI_SCALES = ((10**7, "करोड़"), (10**5, "लाख"), (10**3, "हज़ार"), (10**2, "सौ"))


def _hindi(n: int) -> list[str]:
    if n == 0:
        return [_HI_0_99[0]]
    words: list[str] = []
    for size, name in _HI_SCALES:
        count, n = divmod(n, size)
        if count:
            words += (_hindi(count) if count > 99 else [_HI_0_99[count]]) + [name]
    if n:
        words.append(_HI_0_99[n])
    return words


# --- Tamil (num2words has no Tamil): our own table, Indian numbering -------------------------------
# A number word takes its joining form when another follows (இருநூறு → இருநூற்று ஐம்பது, ஆயிரம் → ஆயிரத்து …).

_TA_WORDS = (
    "பூஜ்ஜியம் ஒன்று இரண்டு மூன்று நான்கு ஐந்து ஆறு ஏழு எட்டு ஒன்பது பத்து பதினொன்று பன்னிரண்டு பதிமூன்று "
    "பதினான்கு பதினைந்து பதினாறு பதினேழு பதினெட்டு பத்தொன்பது"
)
_TA_0_19 = tuple(_TA_WORDS.split())
#: Tens: alone, and joined to the unit that follows (இருபத்து ஒன்று).
_TA_TENS = {
    2: ("இருபது", "இருபத்து"),
    3: ("முப்பது", "முப்பத்து"),
    4: ("நாற்பது", "நாற்பத்து"),
    5: ("ஐம்பது", "ஐம்பத்து"),
    6: ("அறுபது", "அறுபத்து"),
    7: ("எழுபது", "எழுபத்து"),
    8: ("எண்பது", "எண்பத்து"),
    9: ("தொண்ணூறு", "தொண்ணூற்று"),
}
#: Hundreds: alone, and joined to what follows (நூற்று ஒன்று).
_TA_HUNDREDS = {
    1: ("நூறு", "நூற்று"),
    2: ("இருநூறு", "இருநூற்று"),
    3: ("முந்நூறு", "முந்நூற்று"),
    4: ("நானூறு", "நானூற்று"),
    5: ("ஐந்நூறு", "ஐந்நூற்று"),
    6: ("அறுநூறு", "அறுநூற்று"),
    7: ("எழுநூறு", "எழுநூற்று"),
    8: ("எண்ணூறு", "எண்ணூற்று"),
    9: ("தொள்ளாயிரம்", "தொள்ளாயிரத்து"),
}
#: Scales above a hundred: alone, and joined (ஆயிரத்து).
_TA_SCALES = ((10**7, ("கோடி", "கோடியே")), (10**5, ("இலட்சம்", "இலட்சத்து")), (10**3, ("ஆயிரம்", "ஆயிரத்து")))


def _tamil(n: int) -> list[str]:
    if n == 0:
        return [_TA_0_19[0]]
    words: list[str] = []
    for size, (alone, joined) in _TA_SCALES:
        count, n = divmod(n, size)
        if count:
            # one thousand is just ஆயிரம்; one lakh, one crore are ஒரு இலட்சம், ஒரு கோடி
            if count > 1:
                words += _tamil(count)
            elif size > 10**3:
                words.append("ஒரு")
            words.append(joined if n else alone)
    hundreds, n = divmod(n, 100)
    if hundreds:
        alone, joined = _TA_HUNDREDS[hundreds]
        words.append(joined if n else alone)
    if n >= 20:
        tens, unit = divmod(n, 10)
        alone, joined = _TA_TENS[tens]
        words += [joined, _TA_0_19[unit]] if unit else [alone]
    elif n:
        words.append(_TA_0_19[n])
    return words
