"""The service report's chart, drawn on the server: tickets opened per week
as bars, tickets resolved as a line, with a value axis and week labels.
:func:`weekly_chart` computes the geometry; the template
``vivadesk_wagtail/staff/reports/_chart.html`` writes the SVG markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .report_queries import WeekFigures

#: The drawing's coordinate system (it scales with the page).
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 60
#: At most this many week labels under the axis.
MAX_LABELS = 13


@dataclass
class Bar:
    week: WeekFigures
    x: float
    y: float
    width: float
    height: float
    center: float
    line_y: float
    label: bool


@dataclass
class Tick:
    value: int
    y: float


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    base: int = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)

    @property
    def line_points(self) -> str:
        """The resolved line, as the ``points`` of a ``<polyline>``."""
        return " ".join(f"{bar.center:.1f},{bar.line_y:.1f}" for bar in self.bars)

    @property
    def label_y(self) -> int:
        return self.base + 8

    @property
    def axis_label_y(self) -> int:
        return self.height - 4

    @property
    def center_x(self) -> float:
        return (self.left + self.right) / 2


def nice_step(top: int, steps: int = 4) -> int:
    """A round step (1, 2, 5 × a power of ten) that divides ``0..top`` into
    at most ``steps`` parts."""
    raw = max(top, 1) / steps
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)  # pragma: no cover - the loop always returns


def weekly_chart(weeks: list[WeekFigures]) -> Chart:
    """Bars for opened, points of the line for resolved, and the value axis
    ticks, scaled to the largest figure of the period."""
    chart = Chart()
    peak = max([w.opened for w in weeks] + [w.resolved for w in weeks] + [1])
    step = nice_step(peak)
    scale_top = step * math.ceil(peak / step)
    plot_height = chart.base - chart.top
    slot = (chart.right - chart.left) / max(len(weeks), 1)
    every = math.ceil(len(weeks) / MAX_LABELS) if weeks else 1

    def y_of(value: int) -> float:
        return chart.base - plot_height * value / scale_top

    chart.ticks = [Tick(v, y_of(v)) for v in range(0, scale_top + 1, step)]
    for index, week in enumerate(weeks):
        x = chart.left + index * slot
        top = y_of(week.opened)
        chart.bars.append(
            Bar(
                week=week,
                x=round(x + slot * 0.2, 1),
                y=round(top, 1),
                width=round(slot * 0.6, 1),
                height=round(chart.base - top, 1),
                center=round(x + slot / 2, 1),
                line_y=round(y_of(week.resolved), 1),
                label=(len(weeks) - 1 - index) % every == 0,
            )
        )
    return chart
