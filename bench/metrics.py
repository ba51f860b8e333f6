"""One benchmark figure, set beside a reference measured in the same run, and the target it must meet."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass


@dataclass
class Metric:
    metric: str
    value: float | None
    unit: str
    n: int | None = None  # claims in the table, rows exported, requests made...
    reference: float | None = None  # the same quantity for the reference (the framework's or database's floor)
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: informative, no target
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def not_measured(metric: str, why: str) -> Metric:
    """A row that says plainly why there is no figure (never a made-up number)."""
    return Metric(metric, None, "", target="", met=None, note=f"not measured: {why}")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)
