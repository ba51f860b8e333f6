"""Telling a filed wave's plaintiffs that their complaint is in court, with the court and its case number: one
message per plaintiff ("wave-filed:<wave id>:<claim id>"), on the channel each chose, queued in chunks of
WAVE_NOTIFY_CHUNK plaintiffs by filing/tasks/notifications.py. Cohorts and waves are also the audiences of the
admin's bulk messages (notifications/bulk.py)."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from accounts.models import User
from claims.models import Claim
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import cohort_claims
from notifications.bulk import audience
from notifications.messages import case_message_queue
from notifications.models import MessageTemplate

WAVE_NOTIFY_CHUNK = 1000


def wave_members_reachable(*, wave: FilingWave, after_number: int, chunk: int) -> tuple[list[WaveMember], int | None]:
    """The next `chunk` plaintiffs numbered above `after_number` that a message can reach (withdrawn claims and
    erased or closed accounts left out), with their claims and claimants, and the last number looked at (None when
    no plaintiff was left): how the wave's messages are queued chunk by chunk."""
    members = list(
        WaveMember.objects.filter(wave=wave, number__gt=after_number)
        .select_related("claim__claimant")
        .order_by("number")[:chunk]
    )
    if not members:
        return [], None
    reachable = [
        member
        for member in members
        if member.claim.claimant is not None
        and member.claim.claimant.is_active
        and member.claim.status != Claim.Status.WITHDRAWN
    ]
    return reachable, members[-1].number


def filing_wave_filed_notify(*, wave_id: int, after_number: int = 0) -> int | None:
    """Queue the message for the next WAVE_NOTIFY_CHUNK plaintiffs numbered above `after_number` (withdrawn claims
    and erased accounts skipped); returns the last number handled, or None when no plaintiff was left."""
    wave = FilingWave.objects.get(pk=wave_id, status=FilingWave.Status.FILED)
    members, last = wave_members_reachable(wave=wave, after_number=after_number, chunk=WAVE_NOTIFY_CHUNK)
    for member in members:
        claim = member.claim
        case_message_queue(
            kind=MessageTemplate.Kind.WAVE_FILED,
            user=claim.claimant,
            variables={"reference": claim.reference_code, "court": wave.court, "case_number": wave.case_number},
            idempotency_key=f"wave-filed:{wave.pk}:{claim.pk}",
        )
    return last


def _cohort_choices() -> list[tuple[int, str]]:
    return list(Cohort.objects.order_by("-created_at").values_list("pk", "name"))


def _wave_choices() -> list[tuple[int, str]]:
    return list(FilingWave.objects.order_by("-created_at").values_list("pk", "name"))


@audience("filing.cohort", label=gettext_lazy("원고 집단"), choices=_cohort_choices)
def cohort_recipients(cohort_id: int) -> QuerySet[User]:
    """The claimants of the claims the cohort selects now."""
    claims = cohort_claims(cohort=Cohort.objects.get(pk=cohort_id))
    return User.objects.filter(pk__in=claims.values("claimant_id"))


@audience("filing.wave", label=gettext_lazy("소 제기 차수"), choices=_wave_choices)
def wave_recipients(wave_id: int) -> QuerySet[User]:
    """The claimants of the wave's plaintiffs whose claims are not withdrawn."""
    members = WaveMember.objects.filter(wave_id=wave_id).exclude(claim__status="withdrawn")
    return User.objects.filter(pk__in=members.values("claim__claimant_id"))
