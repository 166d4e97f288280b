"""Charts drawn on the server as SVG (no JavaScript charting library, nothing fetched from a CDN): bars by hour and
horizontal bars by name. Every label is escaped; each chart has a title and a description for screen readers, and
the same figures are always in a table beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

BAR = "#0b5394"
AXIS = "#595959"
TEXT = "#1a1a1a"


def hours(title: str, values: Sequence[int], label: Callable[[int], str]) -> Markup:
    """24 vertical bars (one per hour of the hub's zone's clock) of minor units; ``label`` writes an amount."""
    width, height, left, bottom = 600, 180, 10, 24
    top = max(values, default=0) or 1
    slot = (width - left * 2) / 24
    parts = []
    for hour, value in enumerate(values):
        h = round((height - bottom - 16) * value / top)
        x = left + hour * slot
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - bottom - h}" width="{slot - 4:.1f}" height="{h}" '
            f'fill="{BAR}"><title>{hour:02d}:00 {escape(label(value))}</title></rect>'
        )
        if hour % 3 == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
                f'fill="{TEXT}">{hour:02d}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="{AXIS}"/>'
    )
    parts.append(
        f'<text x="{width - left}" y="12" font-size="11" text-anchor="end" fill="{TEXT}">'
        f"{escape(label(top if any(values) else 0))}</text>"
    )
    return _svg(title, width, height, parts)


def bars(title: str, items: Sequence[tuple[str, int]], label: Callable[[int], str]) -> Markup:
    """One horizontal bar per (name, minor units)."""
    width, row, name_width = 600, 26, 180
    height = max(1, len(items)) * row + 8
    top = max((v for _, v in items), default=0) or 1
    parts = []
    for i, (name, value) in enumerate(items):
        y = 4 + i * row
        w = round((width - name_width - 150) * value / top)
        parts.append(
            f'<text x="{name_width - 8}" y="{y + 17}" font-size="13" text-anchor="end" fill="{TEXT}">'
            f"{escape(name[:28])}</text>"
        )
        parts.append(f'<rect x="{name_width}" y="{y + 3}" width="{w}" height="{row - 8}" fill="{BAR}"/>')
        parts.append(
            f'<text x="{name_width + w + 6}" y="{y + 17}" font-size="13" fill="{TEXT}">{escape(label(value))}</text>'
        )
    return _svg(title, width, height, parts)


def _svg(title: str, width: int, height: int, parts: list[str]) -> Markup:
    head = f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
    return Markup(f'{head}xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')
