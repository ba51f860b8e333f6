"""What was read in an evidence file (issue 22, docs/evidence-reading.md): one finding per file."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from claims.models.claims import Evidence


class EvidenceFinding(models.Model):
    """What the reading task found in one evidence file, and why: every judgement keeps the words it rests on
    (their text and boxes in the upright picture). The file's full text is not kept: only the parts matched."""

    class Status(models.TextChoices):
        PENDING = "pending", _("읽는 중")
        DONE = "done", _("읽음")
        FAILED = "failed", _("읽지 못함")

    class Source(models.TextChoices):
        OCR = "ocr", _("그림의 글자 (OCR)")
        PDF_TEXT = "pdf_text", _("PDF의 글자")
        NONE = "none", _("읽을 수 없는 형식")

    class ProofOfUse(models.TextChoices):
        YES = "yes", _("장애 시간 안의 시각이 보임")
        NO = "no", _("장애 시간 밖의 시각만 보임")
        UNKNOWN = "unknown", _("알 수 없음")

    class AmountMatch(models.TextChoices):
        EQUAL = "equal", _("손해 항목 금액과 같음")
        DIFFERENT = "different", _("손해 항목 금액과 다름")
        NOT_FOUND = "not_found", _("금액을 찾지 못함")
        NO_LOSS_ITEM = "no_loss_item", _("연결된 손해 항목 없음")

    evidence = models.OneToOneField(Evidence, on_delete=models.CASCADE, related_name="finding")
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(_("읽은 방법"), max_length=10, choices=Source.choices, blank=True)
    failure = models.CharField(_("읽지 못한 이유"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("시도 횟수"), default=0)
    # When the last attempt began: the sweep (claims.services.recovery) queues a pending finding again only once
    # its last attempt (or the upload, before any) is older than a run and a retry's backoff could take.
    attempted_at = models.DateTimeField(_("마지막 시도 시각"), null=True, blank=True)
    engine = models.CharField(_("OCR 엔진"), max_length=40, blank=True)
    image_width = models.PositiveIntegerField(_("그림 너비"), null=True, blank=True)
    image_height = models.PositiveIntegerField(_("그림 높이"), null=True, blank=True)
    taken_at = models.DateTimeField(_("촬영 시각 (EXIF)"), null=True, blank=True)
    # The moment shown to the claimant: inside the window when one is, else the first full date and time read.
    moment = models.DateTimeField(_("확인된 시각"), null=True, blank=True)
    moments = models.JSONField(_("읽은 날짜·시각"), default=list, blank=True)
    proof_of_use = models.CharField(
        _("장애 시간 중 이용 증빙"), max_length=10, choices=ProofOfUse.choices, default=ProofOfUse.UNKNOWN
    )
    proof_reason = models.JSONField(_("판단 근거"), default=list, blank=True)
    amounts = models.JSONField(_("읽은 금액"), default=list, blank=True)
    amount_match = models.CharField(_("금액 대조"), max_length=12, choices=AmountMatch.choices, blank=True)
    services = models.JSONField(_("읽은 서비스 이름"), default=list, blank=True)
    # Only where the resident numbers stand (the boxes of their last seven digits) and how many: never the digits.
    # A picture: per number, its boxes in pixels. A PDF: per number, {"page", "boxes" in points, "whole_page"}.
    resident_number_boxes = models.JSONField(_("주민등록번호 위치"), default=list, blank=True)
    # The original upload, encrypted (config.crypto), when resident numbers were masked in the file staff see:
    # its storage name. Only the claimant's own download opens it.
    sealed_original = models.CharField(_("암호화한 원본"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("읽은 시각"), null=True, blank=True)

    class Meta:
        verbose_name = _("증빙 판독 결과")
        verbose_name_plural = _("증빙 판독 결과")

    def __str__(self) -> str:
        return str(self.evidence)
