"""Charts as inline SVG text: lines, bars and a heat map, with axes, ticks and a legend. No JavaScript, no
fonts or files to fetch: a report that embeds them renders offline in any browser."""

from __future__ import annotations

import html
from collections.abc import Sequence

WIDTH, HEIGHT = 420, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 44
COLOURS = ("#1f5fa8", "#d2691e", "#2e8b57", "#8b1c62", "#6a5acd", "#b8860b")


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
        parts.append(_path([(box.x(low), box.y(low)), (box.x(high), box.y(high))], "#999", dashed=True))
    for k, (_, x_values, y_values) in enumerate(series):
        points = [(box.x(x), box.y(y)) for x, y in zip(x_values, y_values, strict=True)]
        parts.append(_path(points, COLOURS[k % len(COLOURS)], dashed=k > 0))
    parts.append(_legend([name for name, _, _ in series]))
    return _svg(chart, title, parts)


def bars(chart: str, title: str, labels: Sequence[str], groups: Sequence[tuple[str, Sequence[float]]]) -> str:
    """A bar chart: one group of bars per label, one bar per (name, values) series."""
    values = [v for _, series in groups for v in series] or [0.0]
    box = _Box(0, max(len(labels), 1), min(0.0, min(values)), max(values) if max(values) > 0 else 1.0)
    parts = [box.axes("", "", x_ticks=False)]
    width = 0.8 / max(len(groups), 1)
    for g, (_, series) in enumerate(groups):
        for i, value in enumerate(series):
            left = box.x(i + 0.1 + g * width)
            top, base = box.y(max(value, 0.0)), box.y(min(value, 0.0))
            parts.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.x(width) - box.x(0):.1f}" '
                f'height="{max(base - top, 0.5):.1f}" fill="{COLOURS[g % len(COLOURS)]}"/>'
            )
    step = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(_text(box.x(i + 0.5), HEIGHT - BOTTOM + 14, label[:14], anchor="middle", size=9))
    if len(groups) > 1:
        parts.append(_legend([name for name, _ in groups]))
    return _svg(chart, title, parts)


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
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w + 0.3:.1f}" height="{h + 0.3:.1f}" '
                    f'fill="{COLOURS[0]}" fill-opacity="{shade:.2f}"/>'
                )
    parts.append(_path([(box.x(edges[0]), box.y(edges[0])), (box.x(edges[-1]), box.y(edges[-1]))], "#999", True))
    return _svg(chart, title, parts)


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
            f'<path d="M{left},{TOP}V{bottom}H{WIDTH - RIGHT}" stroke="#333" fill="none"/>',
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


def _svg(chart: str, title: str, parts: list[str]) -> str:
    return (
        f'<svg id="{html.escape(chart)}" class="chart" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{html.escape(title)}">'
        f"<title>{html.escape(title)}</title>"
        f"{_text(WIDTH / 2, 18, title, anchor='middle', size=13)}{''.join(parts)}</svg>"
    )


def _path(points: Sequence[tuple[float, float]], colour: str, dashed: bool = False) -> str:
    if not points:
        return ""
    d = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return f'<path d="{d}" stroke="{colour}" stroke-width="1.8" fill="none"{dash}/>'


def _legend(names: Sequence[str]) -> str:
    parts = []
    for k, name in enumerate(names):
        y = TOP + 6 + 14 * k
        colour = COLOURS[k % len(COLOURS)]
        parts.append(f'<rect x="{WIDTH - RIGHT - 130}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(WIDTH - RIGHT - 116, y + 1, name[:22], size=10))
    return "".join(parts)


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11, rotate: bool = False) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{turn}>{html.escape(str(text))}</text>'
    )


def _tick(value: float) -> str:
    return f"{value:.3g}"
