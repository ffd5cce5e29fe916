"""Charts as inline SVG, drawn on the server: no script, nothing fetched, nothing to vendor.

Each chart is an ``<svg class="chart">`` whose series carry ``data-series`` and whose
points (``<circle>`` or ``<rect>``) carry ``data-value``, so that a test (or a curator with
the inspector) can count and read them. Text goes through markupsafe's escaping.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Colours a curator tells apart, colour-blind safe (Okabe and Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40


# Steps of the y axis: four of them from 0, each a round number.
_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)


def _nice_max(value: float) -> float:
    """A round top for the y axis at or above ``value``: four round steps."""
    scale = 1.0
    while True:
        for step in _STEPS:
            if step * scale * 4 >= value:
                return step * scale * 4
        scale *= 10


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:g}" if value != int(value) else str(int(value))


def _frame(labels: Sequence[str], top: float, percent: bool, title: str,
           x_at: Sequence[float]) -> list[str]:
    """The axes, grid lines, y ticks and every few x labels."""
    parts = [f'<title>{escape(title)}</title>']
    plot_h = HEIGHT - TOP - BOTTOM
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                     f'y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#555">{_fmt(value, percent)}</text>')
    every = max(1, -(-len(labels) // 8))
    last = len(labels) - 1
    for i, (label, x) in enumerate(zip(labels, x_at, strict=True)):
        # Every few labels, and the last one, which ends at the right edge; one close before
        # it is left out rather than overlapped.
        if i == last or (i % every == 0 and last - i >= max(1, every * 2 // 3)):
            anchor = "end" if i == last and last > 0 else "middle"
            parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                         f'text-anchor="{anchor}" font-size="11" fill="#555">'
                         f'{escape(label)}</text>')
    return parts


def _colour(i: int, colours: Sequence[str]) -> str:
    return colours[i] if i < len(colours) else PALETTE[i % len(PALETTE)]


def _legend(names: Sequence[str], colours: Sequence[str]) -> list[str]:
    parts = []
    x = LEFT
    for i, name in enumerate(names):
        colour = _colour(i, colours)
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="11" fill="#333">'
                     f'{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def _svg(parts: list[str], kind: str, label: str) -> Markup:
    body = "".join(parts)
    return Markup(f'<svg class="chart" data-kind="{kind}" role="img" aria-label="{escape(label)}" '
                  f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
               title: str, percent: bool = False, colours: Sequence[str] = ()) -> Markup:
    """One line per series over ``labels`` (days, or runs), a point per label each;
    ``colours``: the series' own, in order (default: the palette's)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = len(labels)
    step = plot_w / (n - 1) if n > 1 else 0.0
    x_at = [LEFT + (i * step if n > 1 else plot_w / 2) for i in range(n)]
    peak = max((v for _name, values in series for v in values), default=0.0)
    top = 1.0 if percent else _nice_max(peak)
    parts = _frame(labels, top, percent, title, x_at)
    for s, (name, values) in enumerate(series):
        colour = _colour(s, colours)
        points = [(x, TOP + plot_h - plot_h * (v / top)) for x, v in zip(x_at, values,
                                                                         strict=True)]
        parts.append(f'<g class="series" data-series="{escape(name)}" '
                     f'data-points="{len(points)}">')
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
        for (x, y), label, v in zip(points, labels, values, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" '
                         f'data-value="{v:g}"><title>{escape(name)}, {escape(label)}: '
                         f'{_fmt(v, percent)}</title></circle>')
        parts.append("</g>")
    parts += _legend([name for name, _ in series], colours)
    return _svg(parts, "line", title)


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
                 title: str, colours: Sequence[str] = ()) -> Markup:
    """A bar per label, its series stacked in order; a ``<rect>`` per label and series."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = max(1, len(labels))
    slot = plot_w / n
    bar = max(1.0, slot * 0.7)
    x_at = [LEFT + slot * i + slot / 2 for i in range(len(labels))]
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0.0))
    parts = _frame(labels, top, False, title, x_at)
    base = [0.0] * len(labels)
    for s, (name, values) in enumerate(series):
        colour = _colour(s, colours)
        parts.append(f'<g class="series" data-series="{escape(name)}" '
                     f'data-points="{len(values)}">')
        for i, (x, v) in enumerate(zip(x_at, values, strict=True)):
            h = plot_h * v / top
            y = TOP + plot_h - plot_h * base[i] / top - h
            base[i] += v
            parts.append(f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}" data-value="{v:g}"><title>'
                         f'{escape(name)}, {escape(labels[i])}: {_fmt(v, False)}</title>'
                         f'</rect>')
        parts.append("</g>")
    parts += _legend([name for name, _ in series], colours)
    return _svg(parts, "bars", title)
