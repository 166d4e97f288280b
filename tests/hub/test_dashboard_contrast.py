"""The dashboard's palette (the CSS variables of hub/dashboard/static/dashboard.css) keeps every text colour
readable on the background it is drawn on: WCAG 2 contrast ratio of at least 4.5:1, computed here from the
relative luminance (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.dashboard import charts

CSS = Path(__file__).resolve().parents[2] / "hub" / "dashboard" / "static" / "dashboard.css"
#: (text, background) as the stylesheet pairs them.
PAIRS = [
    ("text", "page"),
    ("muted", "page"),
    ("link", "page"),
    ("head-text", "head"),
    ("flag-text", "flag"),
    ("bad-text", "bad"),
    ("good-text", "good"),
    ("button-text", "button"),
    ("danger-text", "danger"),
]
# (the header's Log out button is the link colour on the page colour: the pair ("link", "page") above)


def palette() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS.read_text("utf-8"))
    assert root is not None
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", root.group(1)))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_gives_the_known_extremes() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the famous just-too-light grey


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_each_text_colour_has_a_contrast_of_at_least_4_5_on_its_background(text: str, background: str) -> None:
    colours = palette()
    assert contrast(colours[text], colours[background]) >= 4.5, (text, background)


def test_the_charts_bars_and_labels_are_readable_on_the_page() -> None:
    page = palette()["page"]
    assert min(contrast(charts.TEXT, page), contrast(charts.AXIS, page), contrast(charts.BAR, page)) >= 4.5


def test_the_focus_ring_stands_out_from_the_page_and_the_header() -> None:
    colours = palette()  # a non-text contrast: 3:1 (WCAG 2.1, 1.4.11)
    assert min(contrast(colours["focus"], colours["page"]), contrast(colours["focus"], colours["head"])) >= 3.0
