"""Findings as shown: the claimant's feedback under each uploaded file, what the reading found (a date and time, or
none), said so that a claimant still on the page can upload a better screen; and the staff queue of claims whose
evidence the reading confirmed (`claims_evidence_confirmed`). docs/evidence-reading.md."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, Func, JSONField, OuterRef, Q
from django.utils.translation import gettext as _

from claims.models import Claim, Evidence, EvidenceFinding, Flag, InformationRequest, LossItem, Service

# The statuses a lawyer can accept from (claims.services.review.TRANSITIONS["accept"].sources).
ACCEPTABLE_STATUSES = frozenset({Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW})


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


def claims_evidence_confirmed() -> Q:
    """Claims awaiting a decision whose evidence the reading confirmed, for a lawyer to accept in bulk after seeing
    the list. Use as `Claim.objects.filter(claims_evidence_confirmed())`:

    - every loss item has a file read with its amount equal to the one claimed;
    - every service the claim names (at least one) has a file read as proof of use inside its outage window: a
      file supporting a loss item of that service, or a file in which the service's name was read;
    - no open flag and no unanswered information request.
    """
    read = {"finding__status": EvidenceFinding.Status.DONE}
    receipt = Evidence.objects.filter(
        loss_item=OuterRef("pk"), finding__amount_match=EvidenceFinding.AmountMatch.EQUAL, **read
    )
    service_named = Func(OuterRef("slug"), function="jsonb_build_array", output_field=JSONField())
    proof = Evidence.objects.filter(
        Q(loss_item__service=OuterRef("pk")) | Q(finding__services__contains=service_named),
        claim=OuterRef(OuterRef("pk")),
        finding__proof_of_use=EvidenceFinding.ProofOfUse.YES,
        **read,
    )
    claimed_services = Service.objects.filter(claims=OuterRef("pk"))
    return Q(
        Exists(claimed_services),
        ~Exists(claimed_services.exclude(Exists(proof))),
        ~Exists(LossItem.objects.filter(claim=OuterRef("pk")).exclude(Exists(receipt))),
        ~Exists(Flag.objects.filter(claim=OuterRef("pk"), status=Flag.Status.OPEN)),
        ~Exists(InformationRequest.objects.filter(claim=OuterRef("pk"), answered_at__isnull=True)),
        status__in=ACCEPTABLE_STATUSES,
    )
