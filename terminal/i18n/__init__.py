"""The screen's languages: gettext catalogs (``.po`` in ``terminal/i18n/locale``, made with Babel) turned into
:class:`~terminal.core.i18n.Words` for the rules.

The ``.po`` files are the source. They are compiled on first use into the cache
(``$XDG_CACHE_HOME/qr-terminal/locale``, or ``/var/cache/qr-terminal`` under systemd's ``CACHE_DIRECTORY``), one
``.mo`` per catalog content, so an edited ``.po`` is recompiled by itself; when no cache can be written the
catalog is compiled in memory (a few milliseconds). To add or update strings::

    pybabel extract -F terminal/i18n/babel.cfg -k N_ -k Text -o terminal/i18n/messages.pot .
    pybabel update -i terminal/i18n/messages.pot -d terminal/i18n/locale
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
import os
import unicodedata
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from terminal.core.i18n import Words
from terminal.core.money import home_language

log = logging.getLogger(__name__)

#: The screen's languages (the voice's): tag → catalog folder (None: the code's own English).
LANGUAGES: dict[str, str | None] = {"en": None, "en-IN": None, "hi": "hi", "ta": "ta", "th": "th", "pt-BR": "pt_BR"}
DOMAIN = "messages"


def default_language(currency: str) -> str:
    """The language a shop taking ``currency`` most likely reads (like the voice's default)."""
    return home_language(currency)


def words_for(language: str, *, cache_dir: Path | None = None) -> Words:
    """The :class:`Words` of ``language`` (one of :data:`LANGUAGES`). Raises ValueError for another tag."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    folder = LANGUAGES[language]
    if folder is None:
        return Words(language)
    return Words(language, _catalog(folder, cache_dir).gettext)


def catalog_path(folder: str) -> Path:
    """The ``.po`` file of a catalog folder (``hi``, ``pt_BR``)."""
    return Path(str(resources.files("terminal.i18n").joinpath("locale", folder, "LC_MESSAGES", f"{DOMAIN}.po")))


def _catalog(folder: str, cache_dir: Path | None) -> gettext.GNUTranslations:
    source = catalog_path(folder).read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    base = cache_dir or _cache_home()
    compiled = base / folder / f"{DOMAIN}-{digest}.mo"
    try:
        return gettext.GNUTranslations(io.BytesIO(compiled.read_bytes()))
    except OSError:
        pass  # not compiled yet (or the cache was cleared)
    data = _compile(source)
    try:
        compiled.parent.mkdir(parents=True, exist_ok=True)
        partial = compiled.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(compiled)
    except OSError as exc:
        log.info("screen language %s compiled in memory (cache not writable: %s)", folder, exc)
    return gettext.GNUTranslations(io.BytesIO(data))


def _compile(source: bytes) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = io.BytesIO()
    write_mo(out, read_po(io.BytesIO(source)))
    return out.getvalue()


def _cache_home() -> Path:
    systemd = os.environ.get("CACHE_DIRECTORY")  # the unit's CacheDirectory=
    if systemd:
        return Path(systemd.split(":")[0]) / "locale"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qr-terminal" / "locale"


def paper_words(words: Words, can_print: Callable[[str], bool]) -> Words:
    """The words receipts are printed in, never a ``?``: the shop's language when the printer's code pages hold
    every sentence of its catalog (typographic dashes and ellipses made plain); the same sentences without
    accents when that is enough (``Situacao``); else the code's English. Amounts keep the shop's number format
    either way (ISO code, ASCII)."""
    folder = LANGUAGES.get(words.language or "")
    if folder is None:
        return words
    texts = [m.string for m in _messages(folder) if m.id and isinstance(m.string, str)]
    lookup = words.gettext
    folds: tuple[Callable[[str], str], ...] = (plain_punctuation, _plain_letters)
    for fold in folds:
        if all(can_print(fold(t)) for t in texts):
            return Words(words.language, _folded(fold, lookup))
    log.info("receipts print in English: the printer's code pages have no %s script", words.language)
    return Words(words.language)


#: Typography that thermal printers' code pages rarely have, and what stands for it on paper.
PLAIN_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u202f": " "}
)


def plain_punctuation(text: str) -> str:
    """``text`` with dashes, ellipses, curly quotes and no-break spaces made plain ASCII."""
    return text.translate(PLAIN_PUNCTUATION)


def without_accents(text: str) -> str:
    """``text`` with its accents dropped (``Situação`` → ``Situacao``, ``2ª`` → ``2a``)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _messages(folder: str) -> list:  # type: ignore[type-arg]
    from babel.messages.pofile import read_po

    return list(read_po(io.BytesIO(catalog_path(folder).read_bytes())))


def _plain_letters(text: str) -> str:
    """Plain punctuation and letters without accents (Portuguese on a code page without them)."""
    return without_accents(plain_punctuation(text))


def _folded(fold: Callable[[str], str], lookup: Callable[[str], str]) -> Callable[[str], str]:
    """A translation whose every sentence is folded to what the printer can print."""
    return lambda message: fold(lookup(message))
