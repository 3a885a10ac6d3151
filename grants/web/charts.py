"""Small bar charts as inline SVG, drawn on the server: no script, no external library, and
each chart comes with its numbers as a table for screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class Bar:
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float
    series: int


def grouped_bars(labels: list[str], series: list[list[Decimal]], *, width: int = 640, height: int = 220,
                 pad: int = 28) -> tuple[list[Bar], Decimal]:
    """Bars for each label, one per series, scaled to the largest value."""
    top = max([v for s in series for v in s] + [Decimal("1")])
    n, k = max(len(labels), 1), max(len(series), 1)
    slot = (width - 2 * pad) / n
    bar_w = max(slot / (k + 1), 2)
    bars = []
    for i, label in enumerate(labels):
        for j, values in enumerate(series):
            v = values[i]
            h = float(v / top) * (height - 2 * pad) if top else 0
            bars.append(Bar(label, v, pad + i * slot + j * bar_w + bar_w / 2, height - pad - h, bar_w * 0.9, h, j))
    return bars, top
