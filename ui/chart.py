"""A deal-analytics chart (the Vega-Lite spec the API returns) drawn as inline SVG for a chat bubble.

The page must work offline and behind a strict content policy, so no charting script is loaded: the spec's
shape is small and fixed (one ordinal x, one quantitative y, bars or a line with points), and drawing it
directly keeps the chart and the API's chart the same data.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

WIDTH, HEIGHT = 520, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 58
BAR, LINE, GRID, INK = "#1f4e79", "#b5651d", "#e3e7ec", "#334155"


def _ticks(value: float, count: int = 4, *, whole: bool = False) -> list[float]:
    """Round axis ticks from 0 to at least `value`: steps of 1, 2, 2.5 or 5 times a power of ten (whole
    numbers only when `whole`, as for counts)."""
    if value <= 0:
        return [0.0, 1.0]
    rough = value / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if rough <= m * power)
    if (whole or value >= 4) and step < 1:
        step = 1.0
    return [step * i for i in range(math.ceil(value / step - 1e-9) + 1)]


def _label(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg_chart(spec: dict[str, Any] | None) -> str:
    """Inline SVG for a bar or line spec; "" when there is nothing to draw (or a shape this does not know)."""
    if not spec:
        return ""
    try:
        encoding = spec["encoding"]
        x_field, y_field = encoding["x"]["field"], encoding["y"]["field"]
        points = [(str(row[x_field]), float(row[y_field] or 0)) for row in spec["data"]["values"]]
        mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else str(spec["mark"])
    except (KeyError, TypeError, ValueError):
        return ""
    if not points or mark not in ("bar", "line"):
        return ""
    ticks = _ticks(max(v for _, v in points), whole=all(v == int(v) for _, v in points))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    title = escape(str(spec.get("title", "")))
    y_title = escape(str(encoding["y"].get("title", y_field)))
    x_title = escape(str(encoding["x"].get("title", x_field)))
    parts = [f'<svg class="mr-chart" role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" preserveAspectRatio="xMinYMin meet" '
             'xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="11">',
             f"<title>{title}</title>",
             f'<text x="{LEFT}" y="16" font-size="12" font-weight="600" fill="{INK}">{escape(_short(y_title, 60))}'
             "</text>"]
    for tick in ticks:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{INK}">{_label(tick)}'
                     "</text>")
    centres = [LEFT + slot * (i + 0.5) for i in range(len(points))]
    if mark == "bar":
        width = min(48.0, slot * 0.7)
        for (key, value), cx in zip(points, centres, strict=True):
            parts.append(f'<rect x="{cx - width / 2:.1f}" y="{y(value):.1f}" width="{width:.1f}" '
                         f'height="{TOP + plot_h - y(value):.1f}" fill="{BAR}" rx="2">'
                         f"<title>{escape(key)}: {_label(value)}</title></rect>")
    else:
        path = " ".join(f"{cx:.1f},{y(v):.1f}" for (_, v), cx in zip(points, centres, strict=True))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
        for (key, value), cx in zip(points, centres, strict=True):
            parts.append(f'<circle cx="{cx:.1f}" cy="{y(value):.1f}" r="3.5" fill="{LINE}">'
                         f"<title>{escape(key)}: {_label(value)}</title></circle>")
    for (_key, value), cx in zip(points, centres, strict=True):
        parts.append(f'<text x="{cx:.1f}" y="{y(value) - 5:.1f}" text-anchor="middle" fill="{INK}">'
                     f"{_label(value)}</text>")
    rotate = sum(len(_short(k)) for k, _ in points) * 7 > plot_w
    for (key, _), cx in zip(points, centres, strict=True):
        base = TOP + plot_h + 14
        transform = f' transform="rotate(-35 {cx:.1f} {base})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        parts.append(f'<text x="{cx:.1f}" y="{base}" text-anchor="{anchor}" fill="{INK}"{transform}>'
                     f"{escape(_short(key))}</text>")
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" fill="{INK}">{x_title}'
                 "</text></svg>")
    return "".join(parts)
