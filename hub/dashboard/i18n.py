"""The dashboard's sentences in the shop's language: the ``dashboard`` gettext domain beside the terminal's
``messages`` in ``terminal/i18n/locale/<folder>/LC_MESSAGES/`` (same languages, same folders), compiled in memory
from its ``.po`` on first use. A language without a dashboard catalog yet (Tamil, Thai) reads English sentences
with its own number format. To add or update sentences::

    pybabel extract -F hub/dashboard/babel.cfg -k said -k N_ -o terminal/i18n/dashboard.pot --no-location \\
        --omit-header .
    pybabel update -D dashboard -i terminal/i18n/dashboard.pot -d terminal/i18n/locale
"""

from __future__ import annotations

import gettext
import io
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from terminal.core.i18n import Words
from terminal.i18n import LANGUAGES

DOMAIN = "dashboard"


def catalog_path(folder: str) -> Path:
    """The dashboard's ``.po`` of a catalog folder (``hi``, ``pt_BR``)."""
    return Path(str(resources.files("terminal.i18n").joinpath("locale", folder, "LC_MESSAGES", f"{DOMAIN}.po")))


def words_for(language: str) -> Words:
    """The dashboard's :class:`Words` in ``language`` (a tag of ``terminal.i18n.LANGUAGES``)."""
    folder = LANGUAGES[language]
    path = catalog_path(folder) if folder is not None else None
    if path is None or not path.is_file():
        return Words(language)
    with path.open("rb") as source:
        catalog = read_po(source, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Words(language, gettext.GNUTranslations(compiled).gettext)
