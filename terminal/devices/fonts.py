"""The screen's type: DejaVu Sans for Latin letters, digits and currency signs (₹ ฿ € R$), and the bundled Noto
Sans face of each Indian or Thai script a text contains, shaped by HarfBuzz (pygame-ce's ``Font.set_script``):
without shaping, Devanagari conjuncts and vowel signs and Tamil's come apart and read as other words. The riel sign
(៛), which no DejaVu has, comes from Noto Sans Khmer.

A text is drawn in runs — a run per script — on one baseline, so "संदर्भ T1-000001" or a Latin shop name on a
Thai screen each get the face that has their letters. Script faces are opened only when a text needs them.
"""

from __future__ import annotations

import re
from importlib import resources

import pygame

#: The font sizes used (about 12 % apart). Snapping to a ladder keeps the number of loaded faces small:
#: each FreeType face of DejaVu costs about 1 MB, and a Pi Zero 2 W has 512 MB for everything.
LADDER = (
    8,
    9,
    10,
    11,
    12,
    14,
    16,
    18,
    20,
    22,
    25,
    28,
    32,
    36,
    40,
    45,
    50,
    56,
    63,
    71,
    80,
    90,
    100,
    112,
    126,
    142,
    160,
    180,
    200,
    225,
    250,
)

LATIN = "DejaVuSans"
#: ISO 15924 script (HarfBuzz's tag) → the bundled face, and the Unicode blocks it draws.
SCRIPTS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "Deva": ("NotoSansDevanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))),
    "Taml": ("NotoSansTamil", ((0x0B80, 0x0BFF), (0x11FC0, 0x11FFF))),
    "Thai": ("NotoSansThai", ((0x0E00, 0x0E7F),)),
    # Only the riel sign, KHR's symbol, which no DejaVu has (the face is cut to it: no Khmer sentence is drawn).
    "Khmr": ("NotoSansKhmer", ((0x17DB, 0x17DB),)),
}
#: Any character a Noto face draws: a text without one is a single DejaVu run (every frame's common case, found
#: in one scan instead of a lookup per character).
_NOTO = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for _, blocks in SCRIPTS.values() for low, high in blocks) + "]"
)
#: Characters that belong to the run they are in: spaces and the joiners that steer conjuncts.
_JOINING = {" ", "\u00a0", "\u200c", "\u200d"}


def snap(size: float) -> int:
    """The largest ladder size not above ``size`` (at least the smallest)."""
    return max((s for s in LADDER if s <= size), default=LADDER[0])


def script_of(char: str) -> str | None:
    """The script tag of ``char`` if a bundled Noto face draws it (None: DejaVu's)."""
    point = ord(char)
    for tag, (_, blocks) in SCRIPTS.items():
        if any(low <= point <= high for low, high in blocks):
            return tag
    return None


def runs(text: str) -> list[tuple[str | None, str]]:
    """``text`` cut where the script changes: ``[(script or None, part), …]``."""
    if not _NOTO.search(text):
        return [(None, text)] if text else []
    out: list[tuple[str | None, str]] = []
    for char in text:
        script = out[-1][0] if out and char in _JOINING else script_of(char)
        if out and out[-1][0] == script:
            out[-1] = (script, out[-1][1] + char)
        else:
            out.append((script, char))
    return out


class Face:
    """One size and weight of the screen's type, measured and drawn like a ``pygame.font.Font``."""

    def __init__(self, fonts: Fonts, size: int, bold: bool) -> None:
        self._fonts, self._size, self._bold = fonts, size, bold
        self._latin = fonts.font(LATIN, size, bold)
        self._height = self._latin.get_height()

    def _font(self, script: str | None) -> pygame.font.Font:
        if script is None:
            return self._latin
        font = self._fonts.font(SCRIPTS[script][0], self._size, self._bold, script)
        self._height = max(self._height, font.get_height())
        return font

    def size(self, text: str) -> tuple[int, int]:
        """Width and height of ``text`` drawn in this face."""
        parts = [self._font(script).size(part) for script, part in runs(text)] or [(0, self._height)]
        return sum(w for w, _ in parts), max(self._height, *(h for _, h in parts))

    def get_height(self) -> int:
        """The line height (the tallest face this one has needed so far)."""
        return self._height

    def render(
        self,
        text: str,
        antialias: bool,
        colour: tuple[int, int, int],
        background: tuple[int, int, int] | None = None,
    ) -> pygame.Surface:
        """``text`` on a transparent surface (on ``background``, if given: an 8-bit image of one run), every run
        on one baseline."""
        pieces = [(self._font(script), part) for script, part in runs(text)]
        if len(pieces) <= 1:
            font, part = pieces[0] if pieces else (self._latin, text)
            return font.render(part, antialias, colour, background)
        ascent = max(font.get_ascent() for font, _ in pieces)
        images = [
            (font.render(part, antialias, colour, background), ascent - font.get_ascent()) for font, part in pieces
        ]
        height = max(image.get_height() + top for image, top in images)
        size = (sum(image.get_width() for image, _ in images), height)
        surface = pygame.Surface(size, pygame.SRCALPHA if background is None else 0)
        if background is not None:
            surface.fill(background)
        x = 0
        for image, top in images:
            surface.blit(image, (x, top))
            x += image.get_width()
        return surface


class Fonts:
    """The bundled faces, cached per ladder size."""

    def __init__(self) -> None:
        self._folder = resources.files("terminal.assets").joinpath("fonts")
        self._fonts: dict[tuple[str, bool, int], pygame.font.Font] = {}
        self._faces: dict[tuple[bool, int], Face] = {}

    def font(self, family: str, size: int, bold: bool, script: str | None = None) -> pygame.font.Font:
        """One bundled file at ``size`` pixels (shaped for ``script``)."""
        key = (family, bold, size)
        font = self._fonts.get(key)
        if font is None:
            weight = ("-Bold" if bold else "") if family == LATIN else ("-Bold" if bold else "-Regular")
            font = self._fonts[key] = pygame.font.Font(str(self._folder.joinpath(f"{family}{weight}.ttf")), size)
            if script is not None:
                font.set_script(script)
        return font

    def get(self, size: float, *, bold: bool = False) -> Face:
        """The face at ``size`` pixels (snapped down to the ladder)."""
        key = (bold, snap(size))
        face = self._faces.get(key)
        if face is None:
            face = self._faces[key] = Face(self, key[1], bold)
        return face

    def fit(self, text: str, size: float, width: int, *, bold: bool = False) -> Face:
        """The largest face up to ``size`` in which ``text`` fits ``width`` pixels."""
        face = self.get(size, bold=bold)
        wide = face.size(text)[0]
        if wide > width:
            # Text width grows in proportion to the size: one measurement finds the size, one checks it.
            step = LADDER.index(snap(size * width / wide))
            face = self.get(LADDER[step], bold=bold)
            while step > 0 and face.size(text)[0] > width:
                step -= 1
                face = self.get(LADDER[step], bold=bold)
        return face
