"""Charts as inline SVG text: lines, bars (vertical for numeric bins, horizontal for named ones) and a heat map,
with axes, ticks and a legend. No JavaScript, no fonts or files to fetch: a report that embeds them renders
offline in any browser. Every mark (bar, point, line, cell) carries a ``<title>`` (the browser's hover text)
with its name and value, and the class ``mark``."""

from __future__ import annotations

import html
from collections.abc import Sequence

WIDTH, HEIGHT = 420, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 44
COLOURS = ("#1f5fa8", "#d2691e", "#2e8b57", "#8b1c62", "#6a5acd", "#b8860b")
POINTS = 50  # a line of at most this many points also draws each point (with its own title)
# Horizontal bars: one row per name, names right-aligned in a column on the left, the chart as tall as its rows.
H_WIDTH, NAMES, NAME_SIZE, ROW = 640, 270, 10, 16
H_BOTTOM = 40


def lines(
    chart: str,
    title: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    x_label: str,
    y_label: str,
    diagonal: bool = False,
) -> str:
    """A line chart of ``series`` (name, xs, ys), the first drawn solid and the others dashed."""
    xs = [x for _, values, _ in series for x in values] or [0.0, 1.0]
    ys = [y for _, _, values in series for y in values] or [0.0, 1.0]
    box = _Box(min(xs), max(xs), min(0.0, min(ys)), max(ys))
    parts = [box.axes(x_label, y_label)]
    if diagonal:
        low, high = max(box.x0, box.y0), min(box.x1, box.y1)
        line = [(box.x(low), box.y(low)), (box.x(high), box.y(high))]
        parts.append(_path(line, "#999", dashed=True, tip=f"{y_label} = {x_label}"))
    for k, (name, x_values, y_values) in enumerate(series):
        pairs = list(zip(x_values, y_values, strict=True))
        points = [(box.x(x), box.y(y)) for x, y in pairs]
        colour = COLOURS[k % len(COLOURS)]
        parts.append(_path(points, colour, dashed=k > 0, tip=f"{name}: {y_label} against {x_label}"))
        if len(points) <= POINTS:
            for (x, y), (px, py) in zip(pairs, points, strict=True):
                tip = f"{name}: {x_label} {_tick(x)}, {y_label} {_tick(y)}"
                parts.append(
                    f'<circle class="mark" cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}">{_title(tip)}</circle>'
                )
    parts.append(_legend([name for name, _, _ in series]))
    return _svg(chart, title, parts)


def bars(chart: str, title: str, labels: Sequence[str], groups: Sequence[tuple[str, Sequence[float]]]) -> str:
    """A vertical bar chart (for ordered bins: a histogram, lift per share): one group of bars per label, one
    bar per (name, values) series. Labels that would touch their neighbours are thinned out (every bar keeps
    its label in its title)."""
    values = [v for _, series in groups for v in series] or [0.0]
    box = _Box(0, max(len(labels), 1), min(0.0, min(values)), max(values) if max(values) > 0 else 1.0)
    parts = [box.axes("", "", x_ticks=False)]
    width = 0.8 / max(len(groups), 1)
    for g, (name, series) in enumerate(groups):
        for i, value in enumerate(series):
            left = box.x(i + 0.1 + g * width)
            top, base = box.y(max(value, 0.0)), box.y(min(value, 0.0))
            label = labels[i] if i < len(labels) else str(i)
            parts.append(
                f'<rect class="mark" x="{left:.1f}" y="{top:.1f}" width="{box.x(width) - box.x(0):.1f}" '
                f'height="{max(base - top, 0.5):.1f}" fill="{COLOURS[g % len(COLOURS)]}">'
                f"{_title(_tip(label, name, value, len(groups)))}</rect>"
            )
    slot = box.x(1) - box.x(0)
    shown = [_fit(label, 90, 9) for label in labels]
    widest = max((text_width(label, 9) for label in shown), default=0.0)
    step = max(1, -(-int(widest + 6) // max(int(slot), 1)))  # every step-th label: each has room for itself
    for i, label in enumerate(shown):
        if i % step == 0:
            parts.append(
                _text(box.x(i + 0.5), HEIGHT - BOTTOM + 14, label, anchor="middle", size=9, tip=labels[i], css="name")
            )
    if len(groups) > 1:
        parts.append(_legend([name for name, _ in groups]))
    return _svg(chart, title, parts)


def hbars(
    chart: str, title: str, labels: Sequence[str], groups: Sequence[tuple[str, Sequence[float]]], x_label: str = ""
) -> str:
    """A horizontal bar chart (for named things: features, cells, segments): one row per label, its name
    right-aligned on the left (cut with an ellipsis when wider than the column, whole in its title), one bar
    per (name, values) series; the chart grows with the number of rows."""
    values = [v for _, series in groups for v in series] or [0.0]
    low, high = min(0.0, min(values)), max(values) if max(values) > 0 else 1.0
    high = high if high > low else low + 1.0
    count = max(len(labels), 1)
    row = max(ROW, 4 + 11 * len(groups))
    legend = 14 * len(groups) if len(groups) > 1 else 0
    top = TOP + legend
    height = top + count * row + H_BOTTOM
    left, right = NAMES, H_WIDTH - RIGHT - 24

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    bottom = top + count * row
    parts = [f'<path class="axis" d="M{left},{top}V{bottom}H{right}" stroke="#333" fill="none"/>']
    for k in range(5):
        at = low + (high - low) * k / 4
        parts.append(_text(x(at), bottom + 14, _tick(at), anchor="middle", size=9))
    parts.append(_text((left + right) / 2, height - 8, x_label, anchor="middle"))
    bar = (row - 4) / max(len(groups), 1)
    for i, label in enumerate(labels):
        y = top + i * row
        parts.append(
            _text(
                left - 6, y + row / 2 + 3.5, _fit(label, left - 12), anchor="end", size=NAME_SIZE, tip=label, css="name"
            )
        )
        for g, (name, series) in enumerate(groups):
            if i >= len(series):
                continue
            value = series[i]
            start, end = x(min(value, 0.0)), x(max(value, 0.0))
            parts.append(
                f'<rect class="mark" x="{start:.1f}" y="{y + 2 + g * bar:.1f}" width="{max(end - start, 0.5):.1f}" '
                f'height="{bar:.1f}" fill="{COLOURS[g % len(COLOURS)]}">'
                f"{_title(_tip(label, name, value, len(groups)))}</rect>"
            )
    if len(groups) > 1:
        parts.append(_legend([name for name, _ in groups], H_WIDTH))
    return _svg(chart, title, parts, H_WIDTH, height)


def heatmap(
    chart: str, title: str, counts: Sequence[Sequence[int]], edges: Sequence[float], x_label: str, y_label: str
) -> str:
    """A square 2-D histogram: ``counts[row][column]`` over ``edges`` on both axes (row: y), darker for more."""
    box = _Box(edges[0], edges[-1], edges[0], edges[-1])
    top = max((v for row in counts for v in row), default=0) or 1
    parts = [box.axes(x_label, y_label)]
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if value:
                x, y = box.x(edges[c]), box.y(edges[r + 1])
                w, h = box.x(edges[c + 1]) - x, box.y(edges[r]) - y
                shade = 0.12 + 0.88 * (value / top) ** 0.5
                tip = (
                    f"{x_label} ({_tick(edges[c])}, {_tick(edges[c + 1])}], "
                    f"{y_label} ({_tick(edges[r])}, {_tick(edges[r + 1])}]: {value:,} rows"
                )
                parts.append(
                    f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{w + 0.3:.1f}" height="{h + 0.3:.1f}" '
                    f'fill="{COLOURS[0]}" fill-opacity="{shade:.2f}">{_title(tip)}</rect>'
                )
    diagonal = [(box.x(edges[0]), box.y(edges[0])), (box.x(edges[-1]), box.y(edges[-1]))]
    parts.append(_path(diagonal, "#999", True, tip=f"{y_label} = {x_label}"))
    return _svg(chart, title, parts)


def text_width(text: str, size: float) -> float:
    """A generous estimate of ``text``'s width in pixels at font ``size`` in a sans-serif font (the wider of
    the usual ones, DejaVu Sans): no font is embedded, so the page cannot measure, only leave room."""
    return sum(_WIDTHS.get(ch, 0.62 if ch.islower() or ch.isdigit() else 0.78) for ch in text) * size


def _fit(text: str, room: float, size: float = NAME_SIZE) -> str:
    """``text`` as it fits in ``room`` pixels: whole, or cut with an ellipsis."""
    if text_width(text, size) <= room:
        return text
    cut = text
    while cut and text_width(cut + "…", size) > room:
        cut = cut[:-1]
    return cut + "…"


_WIDTHS = {
    **dict.fromkeys("ijl.,:;'|!` ", 0.34),
    **dict.fromkeys("frt()[]{}-/\\", 0.44),
    **dict.fromkeys("mw", 0.98),
    **dict.fromkeys("MW", 1.0),
    "_": 0.52,
    "…": 1.0,
}


class _Box:
    """The plotting area and the data range it shows."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1.0
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1.0

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def axes(self, x_label: str, y_label: str, x_ticks: bool = True) -> str:
        bottom, left = HEIGHT - BOTTOM, LEFT
        parts = [
            f'<path class="axis" d="M{left},{TOP}V{bottom}H{WIDTH - RIGHT}" stroke="#333" fill="none"/>',
            _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, x_label, anchor="middle"),
            _text(14, (TOP + bottom) / 2, y_label, anchor="middle", rotate=True),
        ]
        for k in range(5):
            value = self.y0 + (self.y1 - self.y0) * k / 4
            parts.append(_text(left - 4, self.y(value) + 3, _tick(value), anchor="end", size=9))
            if x_ticks:
                at = self.x0 + (self.x1 - self.x0) * k / 4
                parts.append(_text(self.x(at), bottom + 14, _tick(at), anchor="middle", size=9))
        return "".join(parts)


def _svg(chart: str, title: str, parts: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg id="{html.escape(chart)}" class="chart" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
        f"<title>{html.escape(title)}</title>"
        f"{_text(width / 2, 18, _fit(title, width - 20, 13), anchor='middle', size=13, tip=title)}"
        f"{''.join(parts)}</svg>"
    )


def _path(points: Sequence[tuple[float, float]], colour: str, dashed: bool = False, tip: str | None = None) -> str:
    if not points:
        return ""
    d = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    titled = f' class="mark">{_title(tip)}</path>' if tip else "/>"
    return f'<path d="{d}" stroke="{colour}" stroke-width="1.8" fill="none"{dash}{titled}'


def _legend(names: Sequence[str], width: int = WIDTH) -> str:
    parts = []
    for k, name in enumerate(names):
        y = TOP + 6 + 14 * k
        colour = COLOURS[k % len(COLOURS)]
        parts.append(
            f'<rect class="legend" x="{width - RIGHT - 130}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(_text(width - RIGHT - 116, y + 1, _fit(name, 112, 10), size=10, tip=name))
    return "".join(parts)


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    size: float = 11,
    rotate: bool = False,
    tip: str | None = None,
    css: str = "",
) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    titled = _title(tip) if tip is not None and tip != text else ""
    named = f' class="{css}"' if css else ""
    return (
        f'<text{named} x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}"{turn}>'
        f"{titled}{html.escape(str(text))}</text>"
    )


def _title(text: str) -> str:
    return f"<title>{html.escape(text)}</title>"


def _tip(label: str, series: str, value: float, groups: int) -> str:
    return f"{label}, {series}: {_tick(value)}" if groups > 1 else f"{label}: {_tick(value)} ({series})"


def _tick(value: float) -> str:
    return f"{value:.3g}"
