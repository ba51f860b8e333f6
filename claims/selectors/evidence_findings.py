"""Findings as shown: the claimant's feedback under each uploaded file, what the reading found (a date and time, or
none), said so that a claimant still on the page can upload a better screen. docs/evidence-reading.md."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from claims.models import Evidence, EvidenceFinding


@dataclass(frozen=True)
class Feedback:
    """`level` is "pending", "found", "outside", "missing" or "failed"; `pending` rows are polled for news."""

    level: str
    message: str

    @property
    def pending(self) -> bool:
        return self.level == "pending"


def _shown_moment(finding: EvidenceFinding) -> str:
    """The moment to name: the one the judgement rests on, else the first date (with its time) read."""
    if finding.moment is not None:
        return finding.moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M")
    for moment in finding.moments:
        if moment["date"]:
            shown = date.fromisoformat(moment["date"]).isoformat()
            return f"{shown} {moment['time'][:5]}" if moment["time"] else shown
    return ""


def finding_feedback(evidence: Evidence) -> Feedback | None:
    """What to tell the claimant about one file; None for a file uploaded before files were read."""
    try:
        finding = evidence.finding
    except EvidenceFinding.DoesNotExist:
        return None
    if finding.status == EvidenceFinding.Status.PENDING:
        return Feedback("pending", _("파일을 읽고 있습니다. 잠시 뒤 결과가 여기에 나옵니다."))
    if finding.status == EvidenceFinding.Status.FAILED:
        return Feedback("failed", _("파일을 자동으로 읽지 못했습니다. 담당자가 직접 확인합니다."))
    shown = _shown_moment(finding)
    if not shown:
        return Feedback("missing", _("날짜를 찾지 못했습니다: 날짜가 보이는 화면을 올려 주세요"))
    if evidence.content_type == "application/pdf":
        message = _("이 파일에서 %(moment)s가 확인됩니다") % {"moment": shown}
    else:
        message = _("이 캡처에서 %(moment)s가 확인됩니다") % {"moment": shown}
    if finding.proof_of_use == EvidenceFinding.ProofOfUse.NO:
        outside = _("장애 시간 밖의 시각입니다. 장애 중의 화면이 있으면 함께 올려 주세요.")
        return Feedback("outside", f"{message}. {outside}")
    return Feedback("found", message)
