"""Reads for the court-cost sheet: a wave's plaintiffs with the amount each claims."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce

from filing.models import FilingWave
from filing.selectors.cohorts import wave_takes


class WavePlaintiff(NamedTuple):
    number: int
    name: str
    amount_claimed: int


def wave_claim_value(*, wave: FilingWave) -> tuple[int, int]:
    """(number of plaintiffs, 소가) of the wave in one aggregate query: the frozen amounts, or for a draft wave the
    estimate totals of the claims a freeze now would take."""
    if wave.status != FilingWave.Status.DRAFT:
        totals = wave.members.aggregate(count=Count("pk"), total=Coalesce(Sum("amount_claimed"), 0))
    else:
        totals = wave_takes(cohort=wave.cohort).aggregate(count=Count("pk"), total=Coalesce(Sum("estimate_total"), 0))
    return totals["count"], totals["total"]


def wave_plaintiffs(*, wave: FilingWave) -> Iterator[WavePlaintiff]:
    """A frozen or filed wave's members with their frozen amounts; for a draft wave, the claims a freeze now would
    take, numbered in the freeze's order (submission time, then id) with the estimate total it would copy (0 while
    a claim has no estimate)."""
    if wave.status != FilingWave.Status.DRAFT:
        rows = wave.members.order_by("number").values_list("number", "name", "amount_claimed")
        yield from (WavePlaintiff(*row) for row in rows.iterator(chunk_size=2000))
        return
    candidates = (
        wave_takes(cohort=wave.cohort)
        .order_by("submitted_at", "pk")
        .values_list(F("claimant__legal_name"), Coalesce(F("estimate_total"), 0))
    )
    for number, (name, amount) in enumerate(candidates.iterator(chunk_size=2000), start=1):
        yield WavePlaintiff(number, name, amount)
