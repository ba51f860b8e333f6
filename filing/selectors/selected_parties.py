"""Reads for the selected parties (선정당사자) and the 선정서: the claimant's open requests, the wave page's
counts, and the rows of the exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Exists, F, OuterRef

from accounts.models import User
from claims.models import Claim
from filing.models import Designation, DesignationRequest, FilingWave, SelectedParty, WaveMember
from filing.selectors.cohorts import MEMBER_LIST_FIELDS, STREAM_CHUNK_SIZE


def designation_requests_open(*, user: User) -> list[DesignationRequest]:
    """The claimant's 선정서 requests still to sign, for the portal."""
    return list(
        DesignationRequest.objects.filter(user=user, designation__isnull=True, wave__status=FilingWave.Status.FROZEN)
        .exclude(member__claim__status=Claim.Status.WITHDRAWN)
        .select_related("wave")
        .order_by("requested_at")
    )


def designation_request_for_user(*, user: User, pk: int) -> DesignationRequest | None:
    return DesignationRequest.objects.filter(pk=pk, user=user).select_related("wave", "member", "designation").first()


def selected_parties_for_wave(*, wave: FilingWave) -> list[WaveMember]:
    """The wave's selected parties, as its plaintiffs by number."""
    return list(
        WaveMember.objects.filter(wave=wave, selected_party__isnull=False).only(*MEMBER_LIST_FIELDS).order_by("number")
    )


def designation_counts(*, wave: FilingWave) -> dict[str, int]:
    """How many plaintiffs were asked to sign the 선정서 and how many signed."""
    requests = DesignationRequest.objects.filter(wave=wave)
    return {"requested": requests.count(), "signed": requests.filter(designation__isnull=False).count()}


def designations_for_wave(*, wave: FilingWave) -> Iterator[Designation]:
    """The wave's signed 선정서 with their signature evidence, by plaintiff number, streamed."""
    return (
        Designation.objects.filter(request__wave=wave)
        .select_related("request__member", "certified_signature")
        .order_by("request__member__number")
        .iterator(chunk_size=200)
    )


def selectors_annex_rows(*, wave: FilingWave) -> Iterator[dict[str, Any]]:
    """The plaintiffs who designated the selected parties (선정자: a signed 선정서), by number, with their amounts
    and whether they are themselves a selected party."""
    return (
        WaveMember.objects.filter(wave=wave, designation_request__designation__isnull=False)
        .order_by("number")
        .values(
            *MEMBER_LIST_FIELDS,
            signed_at=F("designation_request__designation__signed_at"),
            method=F("designation_request__designation__signature_method"),
            status=F("claim__status"),
            selected=Exists(SelectedParty.objects.filter(member=OuterRef("pk"))),
        )
        .iterator(chunk_size=STREAM_CHUNK_SIZE)
    )


def selected_party_count(*, wave: FilingWave) -> int:
    return SelectedParty.objects.filter(wave=wave).count()


def selectors_count(*, wave: FilingWave) -> int:
    return Designation.objects.filter(request__wave=wave).count()
