"""The dashboard on the admin index: the aggregates of claims/selectors/dashboard.py laid out as server-side SVG
charts (templates/admin/claims/charts/), so they need no JavaScript and work under a strict CSP.

Only aggregates are shown, so anyone with `claims.view_dashboard` (Viewers included) may see it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from claims.selectors.dashboard import Row, dashboard_summary_cached

PERMISSION_DASHBOARD = "claims.view_dashboard"
CHART_WIDTH = 480
COLUMN_AREA_HEIGHT = 160
AXIS_LABEL_HEIGHT = 20
BAR_HEIGHT = 22
BAR_GAP = 8
BAR_LABEL_WIDTH = 180
BAR_VALUE_WIDTH = 60


@dataclass(frozen=True)
class Shape:
    """One bar or column in SVG user units (whole numbers, so templates print them as they are)."""

    row: Row
    x: int
    y: int
    width: int
    height: int
    text_x: int = 0
    text_y: int = 0
    show_label: bool = True


def _scale(value: int, peak: int, length: int) -> int:
    return round(value / peak * length) if peak else 0


def column_chart(rows: Sequence[Row], *, label_every: int = 5) -> dict:
    """Vertical columns, one per row (e.g. per day), with every `label_every`-th label under the axis."""
    peak = max((row.count for row in rows), default=0)
    step = CHART_WIDTH / max(len(rows), 1)
    width = max(round(step * 0.7), 1)
    shapes = []
    for index, row in enumerate(rows):
        height = _scale(row.count, peak, COLUMN_AREA_HEIGHT)
        x = round(index * step + (step - width) / 2)
        shapes.append(
            Shape(
                row,
                x,
                COLUMN_AREA_HEIGHT - height,
                width,
                height,
                text_x=x,
                text_y=COLUMN_AREA_HEIGHT + AXIS_LABEL_HEIGHT - 5,
                show_label=index % label_every == 0,
            )
        )
    return {
        "width": CHART_WIDTH,
        "height": COLUMN_AREA_HEIGHT + AXIS_LABEL_HEIGHT,
        "axis_y": COLUMN_AREA_HEIGHT,
        "peak": peak,
        "shapes": shapes,
    }


def bar_chart(rows: Sequence[Row]) -> dict:
    """Horizontal bars with the label on the left and the count just after the bar."""
    peak = max((row.count for row in rows), default=0)
    length = CHART_WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    shapes = []
    for index, row in enumerate(rows):
        y = index * (BAR_HEIGHT + BAR_GAP)
        width = _scale(row.count, peak, length)
        shapes.append(
            Shape(row, BAR_LABEL_WIDTH, y, width, BAR_HEIGHT, text_x=BAR_LABEL_WIDTH + width + 6, text_y=y + 16)
        )
    return {
        "width": CHART_WIDTH,
        "height": max(len(rows) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP, BAR_HEIGHT),
        "label_x": BAR_LABEL_WIDTH - 8,
        "shapes": shapes,
    }


def dashboard_context() -> dict:
    summary = dashboard_summary_cached()
    return {
        "summary": summary,
        "status_chart": bar_chart(summary.by_status),
        "per_day_chart": column_chart(summary.per_day),
        "service_chart": bar_chart(summary.per_service),
        "claimant_type_chart": bar_chart(summary.per_claimant_type),
        "estimate_chart": bar_chart(summary.estimate_histogram),
    }
