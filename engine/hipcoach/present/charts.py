"""Bar charts as inline SVG, written when a survey report is made.

A chart is a few dozen SVG elements written out directly: the same figures give the same bytes
on every machine and with every library version, a chart costs well under a millisecond (a
report's charts never weigh on a scoring run), and its words (labels, legend, axis, a title per
bar with its value) stay text, which a screen reader, a PDF and a search can read. Every text is
escaped; nothing in the SVG refers to anything outside it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

#: One colour per series, dark enough for text beside it and distinct in greyscale print.
COLOURS = ("#1d4e6e", "#d08c2f", "#6c9a3b", "#a33b3b", "#7a5c99", "#3b8a8a", "#8a8a8a")
WIDTH = 680
FONT = 11  # px
CHAR = 6.4  # the width of an average character at FONT, for laying labels out
BAR = 16  # the thickness of one bar
GAP = 8  # between the bars of two labels
LABEL_MAX = 42  # characters of a label shown; longer ones end in "…"
#: Characters XML cannot hold, even escaped (a survey cell may have them)
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], unit: str,
         stacked: bool = False, title: str = "", description: str = "") -> str:
    """A horizontal bar chart of ``series`` (name, one value per label) over ``labels``, side by
    side or ``stacked``, as one ``<svg>`` element whose ``<title>`` and ``<desc>`` say what it
    shows."""
    shown = [_short(label) for label in labels]
    left = 16 + CHAR * max((len(label) for label in shown), default=1)
    right = WIDTH - 16
    keys = _legend(series, left, right) if len(series) > 1 else []
    legend = 6 + 16 * (keys[-1][1] + 1) if keys else 0
    per_label = BAR if stacked else BAR * max(1, len(series))
    top = 8 + legend
    plot_height = len(labels) * (per_label + GAP)
    height = top + plot_height + 40
    if stacked:
        largest = max((sum(v[i] for _, v in series) for i in range(len(labels))), default=0.0)
    else:
        largest = max((max(v, default=0.0) for _, v in series), default=0.0)
    step = _step(largest)
    ceiling = step * max(1, math.ceil(largest / step)) if largest else 1.0

    def x(value: float) -> float:
        return left + (right - left) * value / ceiling

    out = [f'<svg role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" font-family="DejaVu Sans, Liberation Sans, Arial, '
           f'sans-serif" font-size="{FONT}">',
           f"<title>{_xml(title)}</title><desc>{_xml(description)}</desc>"]
    tick = 0.0
    while tick <= ceiling + step / 2:
        at = _n(x(tick))
        out.append(f'<line x1="{at}" y1="{top}" x2="{at}" y2="{top + plot_height}" '
                   f'stroke="#d5dadd" stroke-width="1"/>'
                   f'<text x="{at}" y="{top + plot_height + 14}" text-anchor="middle">'
                   f"{_n(tick)}</text>")
        tick += step
    out.append(f'<text x="{_n((left + right) / 2)}" y="{top + plot_height + 32}" '
               f'text-anchor="middle">{_xml(unit)}</text>')
    for row, label in enumerate(shown):
        y = top + GAP / 2 + row * (per_label + GAP)
        out.append(f'<text x="{_n(left - 6)}" y="{_n(y + per_label / 2 + FONT / 2 - 1)}" '
                   f'text-anchor="end">{_xml(label)}</text>')
        start = 0.0
        for number, (name, values) in enumerate(series):
            value = values[row]
            colour = COLOURS[number % len(COLOURS)]
            if stacked:
                x0, y0 = x(start), y
                start += value
            else:
                x0, y0 = x(0), y + number * BAR
            width = x(value) - x(0)
            if width > 0:
                out.append(f'<rect x="{_n(x0)}" y="{_n(y0 + 1)}" width="{_n(width)}" '
                           f'height="{BAR - 2}" fill="{colour}"><title>{_xml(labels[row])}, '
                           f'{_xml(name)}: {_n(value)}</title></rect>')
    out.append(f'<line x1="{_n(left)}" y1="{top}" x2="{_n(left)}" y2="{top + plot_height}" '
               f'stroke="#333" stroke-width="1"/>')
    for number, ((name, _), (place, line)) in enumerate(zip(series, keys)):
        colour = COLOURS[number % len(COLOURS)]
        y = 6 + 16 * line
        out.append(f'<rect x="{_n(place)}" y="{y}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{_n(place + 14)}" y="{y + 9}">{_xml(_short(name, 24))}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend(series: Sequence[tuple[str, Sequence[float]]], left: float,
            right: float) -> list[tuple[float, int]]:
    """Where each series' key goes: ``(x, line)``, as many to a line as fit between ``left`` and
    ``right``."""
    keys: list[tuple[float, int]] = []
    place, line = left, 0
    for name, _ in series:
        width = 24 + CHAR * len(_short(name, 24))
        if place + width > right and place > left:
            place, line = left, line + 1
        keys.append((place, line))
        place += width
    return keys


def _step(largest: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most six ticks up to ``largest``."""
    if largest <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(largest / 6)) if largest > 6 else 1
    return float(next(m * power for m in (1, 2, 5, 10) if largest / (m * power) <= 6))


def _n(value: float) -> str:
    """A coordinate or value, the same text on every machine: at most one decimal."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _short(label: str, most: int = LABEL_MAX) -> str:
    return label if len(label) <= most else label[:most - 1] + "…"


def _xml(text: str) -> str:
    """``text`` escaped for XML, without the control characters XML cannot hold at all."""
    text = _UNWRITABLE.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

