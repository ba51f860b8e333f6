"""Telling a filed wave's plaintiffs that their complaint is in court, with the court and its case number: one
message per plaintiff ("wave-filed:<wave id>:<claim id>"), on the channel each chose, queued in chunks of
WAVE_NOTIFY_CHUNK plaintiffs by filing/tasks/notifications.py."""

from filing.models import FilingWave, WaveMember
from notifications.messages import case_message_queue
from notifications.models import MessageTemplate

WAVE_NOTIFY_CHUNK = 1000


def filing_wave_filed_notify(*, wave_id: int, after_number: int = 0) -> int | None:
    """Queue the message for the next WAVE_NOTIFY_CHUNK plaintiffs numbered above `after_number` (withdrawn claims
    and erased accounts skipped); returns the last number handled, or None when no plaintiff was left."""
    wave = FilingWave.objects.get(pk=wave_id, status=FilingWave.Status.FILED)
    members = list(
        WaveMember.objects.filter(wave=wave, number__gt=after_number)
        .select_related("claim__claimant")
        .order_by("number")[:WAVE_NOTIFY_CHUNK]
    )
    if not members:
        return None
    for member in members:
        claim = member.claim
        claimant = claim.claimant
        if claimant is None or not claimant.is_active or claim.status == claim.Status.WITHDRAWN:
            continue
        case_message_queue(
            kind=MessageTemplate.Kind.WAVE_FILED,
            user=claimant,
            variables={"reference": claim.reference_code, "court": wave.court, "case_number": wave.case_number},
            idempotency_key=f"wave-filed:{wave.pk}:{claim.pk}",
        )
    return members[-1].number
