"""Charts drawn on the server as inline SVG: no JavaScript, nothing to download, and the
numbers are the page's own. Every chart is a picture of a table that the page shows
beside it (the accessible version, and the one that exports to CSV), so a chart is
an image named by its title, and a bar links to the same rows as its table cell. Where
bars or points are links, the chart is a group instead (a screen reader then reaches
each link), and every link is named by its figure ("Sales: % compliant 80%") in an
`aria-label`, so nothing is told by colour alone: the legend names each colour too.

Three shapes cover the dashboards: bars (grouped or stacked, optionally linked), lines
over months, and a horizontal bar of consecutive stretches (the exposure window).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe (Okabe–Ito), in the order series are given.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 56


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]
    # One link per value (or None): where the bar's rows are listed.
    links: Sequence[str | None] = field(default_factory=tuple)

    def link(self, index: int) -> str | None:
        return self.links[index] if index < len(self.links) else None


def _nice_max(value: float) -> float:
    """A round number at or above `value` for the top of the scale."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _legend(legend: Sequence[Series], top: int) -> tuple[list[str], int]:
    """Legend entries in rows under the chart; returns them and the height they take."""
    if len(legend) < 2:
        return [], 0
    items, x, y = [], LEFT, top
    for index, series in enumerate(legend):
        width = 24 + 6.5 * len(series.name)
        if x + width > WIDTH and x > LEFT:
            x, y = LEFT, y + 16
        colour = PALETTE[index % len(PALETTE)]
        items.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 9}" class="chart-legend">{escape(series.name)}</text>'
        )
        x += width
    return items, y + 16 - top


def _frame(
    title: str, body: list[str], legend: Sequence[Series], height: int = HEIGHT
) -> SafeString:
    items, extra = _legend(legend, height - 18)
    height += max(0, extra - 18)
    # A chart of links is a group, so that its links stay reachable; otherwise one image.
    role = "group" if any('class="chart-link"' in part for part in body) else "img"
    # Every text put into the parts was escaped where it was added; numbers are ours.
    return mark_safe(  # noqa: S308
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="{role}" '
        f'aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>{''.join(body)}{''.join(items)}</svg>"
    )


def _axis(top: float, unit: str, plot_height: float) -> list[str]:
    parts = []
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_height - plot_height * step / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="chart-grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-tick">'
            f"{escape(_number(round(value, 1)))}{escape(unit)}</text>"
        )
    return parts


def _labels(labels: Sequence[str], slot: float, plot_height: float) -> list[str]:
    # Long runs of labels (12 months, 40 departments) are thinned to stay legible.
    every = max(1, math.ceil(len(labels) / 14))
    parts = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = LEFT + slot * (index + 0.5)
        text = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_height + 16}" text-anchor="middle" '
            f'class="chart-tick">{escape(text)}</text>'
        )
    return parts


def _bar(x, y, width, height, colour, tip: str, link: str | None) -> str:
    rect = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 1):.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{escape(tip)}</title></rect>'
    )
    if link:
        return f'<a href="{escape(link)}" class="chart-link" aria-label="{escape(tip)}">{rect}</a>'
    return rect


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    unit: str = "",
    max_value: float | None = None,
) -> SafeString:
    """Bars per label: side by side for several series, or stacked."""
    plot_height = HEIGHT - TOP - BOTTOM
    totals = [
        sum((s.values[i] or 0) for s in series)
        if stacked
        else max([(s.values[i] or 0) for s in series] or [0])
        for i in range(len(labels))
    ]
    top = max_value or _nice_max(max(totals or [0]))
    if max_value is None and all(float(t).is_integer() for t in totals):
        top = max(top, 4)  # counts: whole-number ticks
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    body = _axis(top, unit, plot_height)
    per = 1 if stacked else max(len(series), 1)
    bar_width = slot * 0.7 / per
    for i, label in enumerate(labels):
        base = TOP + plot_height
        for j, s in enumerate(series):
            value = s.values[i] or 0
            if not value:
                continue
            height = plot_height * value / top
            colour = PALETTE[j % len(PALETTE)]
            tip = f"{label}: {s.name} {_number(value)}{unit}"
            if stacked:
                x = LEFT + slot * i + slot * 0.15
                base -= height
                body.append(_bar(x, base, bar_width, height, colour, tip, s.link(i)))
            else:
                x = LEFT + slot * i + slot * 0.15 + bar_width * j
                body.append(_bar(x, base - height, bar_width, height, colour, tip, s.link(i)))
    body += _labels(labels, slot, plot_height)
    return _frame(title, body, series)


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    max_value: float | None = None,
) -> SafeString:
    """A line per series over the labels (months); a missing value breaks the line."""
    plot_height = HEIGHT - TOP - BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top = max_value or _nice_max(max(values or [0]))
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    lines, points = [], []
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + slot * (i + 0.5)
            y = TOP + plot_height - plot_height * value / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
            tip = f"{labels[i]}: {s.name} {_number(round(value, 1))}{unit}"
            point = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
            link = s.link(i)
            points.append(
                f'<a href="{escape(link)}" class="chart-link" aria-label="{escape(tip)}">'
                f"{point}</a>"
                if link
                else point
            )
        lines += [
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            for run in runs
            if len(run) > 1
        ]
    body = _axis(top, unit, plot_height) + lines + points + _labels(labels, slot, plot_height)
    return _frame(title, body, series)


def span_chart(
    *, title: str, stretches: Sequence[tuple[str, float | None]], unit: str = ""
) -> SafeString:
    """One horizontal bar of consecutive stretches (posted → noticed → contained →
    closed), each as long as its value; a missing stretch is left out."""
    height = 70
    present = [(name, value) for name, value in stretches if value]
    total = sum(value for _, value in present) or 1
    width = WIDTH - LEFT - RIGHT
    body, x = [], float(LEFT)
    legend = []
    for j, (name, value) in enumerate(stretches):
        legend.append(Series(name, ()))
        if not value:
            continue
        length = width * value / total
        tip = f"{name}: {_number(round(value, 1))}{unit}"
        body.append(_bar(x, 8, length, 28, PALETTE[j % len(PALETTE)], tip, None))
        x += length
    return _frame(title, body, legend, height=height)
