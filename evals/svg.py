"""Small hand-written SVG charts for the offline HTML report: grouped bars and a histogram. No dependencies."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2456a6", "#a3acb9", "#d9822b", "#3d9970", "#8e44ad")
FONT = "font-family=\"-apple-system,Segoe UI,Helvetica,Arial,sans-serif\""


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}"
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.2g}"


def grouped_bars(categories: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str,
                 y_max: float | None = 1.0, percent: bool = True, width: int = 900, height: int = 300,
                 y_label: str = "") -> str:
    """Bars per category, one per series, with a value on each bar; None is drawn as a hollow 'n/a' marker."""
    left, right, top, bottom = 48, 16, 40, 74
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = y_max if y_max is not None else _nice_ceiling(max(values) if values else 1.0)
    group_w = plot_w / max(1, len(categories))
    bar_w = min(28.0, group_w * 0.8 / max(1, len(series)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" {FONT}>',
             f'<text x="{left}" y="22" font-size="15" font-weight="600" fill="#1b2430">{escape(title)}</text>']
    for i in range(5):
        frac = i / 4
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ed"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#5b6675">'
                     f'{_fmt(top_value * frac, percent)}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="11" fill="#5b6675" '
                     f'transform="rotate(-90 12 {top + plot_h / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>')
    for c, category in enumerate(categories):
        gx = left + c * group_w + (group_w - bar_w * len(series)) / 2
        for s, (name, vs) in enumerate(series.items()):
            x = gx + s * bar_w
            value = vs[c] if c < len(vs) else None
            color = PALETTE[s % len(PALETTE)]
            if value is None:
                parts.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - 12:.1f}" width="{bar_w - 4:.1f}" height="12" '
                             f'fill="none" stroke="{color}" stroke-dasharray="2,2"><title>{escape(name)}: n/a'
                             f'</title></rect>')
                continue
            h = plot_h * min(1.0, max(0.0, value / top_value))
            parts.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'rx="2" fill="{color}"><title>{escape(category)} · {escape(name)}: '
                         f'{_fmt(value, percent)}{"%" if percent else ""}</title></rect>')
            if bar_w >= 14:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" font-size="9.5" '
                             f'text-anchor="middle" fill="#2b3441">{_fmt(value, percent)}</text>')
        label_x = left + c * group_w + group_w / 2
        parts.append(f'<text x="{label_x:.1f}" y="{top + plot_h + 14}" font-size="11" fill="#2b3441" '
                     f'text-anchor="end" transform="rotate(-30 {label_x:.1f} {top + plot_h + 14})">'
                     f'{escape(category)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa4b2"/>')
    parts.extend(_legend(list(series), width - right, 22))
    parts.append("</svg>")
    return "".join(parts)


def _nice_ceiling(value: float) -> float:
    """The smallest 'round' axis top at or above value whose quarters are round too (4, 8, 20, 40, 100 …)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (0.4, 0.8, 1.0, 2.0, 4.0, 8.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _legend(names: list[str], right_edge: float, y: float) -> list[str]:
    out = []
    x = right_edge
    for i, name in reversed(list(enumerate(names))):
        x -= 7 * len(name) + 26
        out.append(f'<rect x="{x:.0f}" y="{y - 10}" width="12" height="12" rx="2" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 17:.0f}" y="{y}" font-size="12" fill="#2b3441">{escape(name)}</text>')
    return out


def histogram(samples: Mapping[str, Sequence[float]], *, title: str, unit: str = "ms", bins: int = 16,
              width: int = 900, height: int = 260, log_x: bool = True) -> str:
    """Counts per bin for each series, side by side; logarithmic bins by default (latencies span decades)."""
    values = [v for vs in samples.values() for v in vs if v > 0]
    if not values:
        return f'<p class="muted">{escape(title)}: no samples</p>'
    lo, hi = min(values), max(values)
    if log_x:
        lo_l, hi_l = math.log10(lo), math.log10(hi) + 1e-9
        edges = [10 ** (lo_l + (hi_l - lo_l) * i / bins) for i in range(bins + 1)]
    else:
        edges = [lo + (hi - lo + 1e-9) * i / bins for i in range(bins + 1)]
    counts: dict[str, list[float | None]] = {}
    for name, vs in samples.items():
        row = [0.0] * bins
        for v in vs:
            if v <= 0:
                continue
            idx = next((i for i in range(bins) if v < edges[i + 1]), bins - 1)
            row[idx] += 1
        counts[name] = list(row)
    labels = [_edge_label(edges[i], unit) for i in range(bins)]
    return grouped_bars(labels, counts, title=title, y_max=None, percent=False, width=width, height=height,
                        y_label="questions")


def _edge_label(value: float, unit: str) -> str:
    if unit == "ms" and value >= 1000:
        return f"≥{value / 1000:.1f} s"
    return f"≥{value:.0f} {unit}" if value >= 10 else f"≥{value:.1f} {unit}"
