"""The sandbox identity backend's requests (integrations/identity/sandbox.py): what a provider would hold while the
person answers on their phone. Development and demonstrations only; production refuses the sandbox backend."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.identity import IdentityMethod, IdentityState


def sandbox_receipt_id() -> str:
    """A receipt id nobody can guess (128 random bits): it is the address of the phone page."""
    return secrets.token_hex(16)


class SandboxIdentityRequest(models.Model):
    class Kind(models.TextChoices):
        IDENTITY = "identity", _("본인인증")
        SIGNATURE = "signature", _("전자서명")

    receipt_id = models.CharField(_("접수 번호"), max_length=32, unique=True, default=sandbox_receipt_id)
    kind = models.CharField(_("종류"), max_length=16, choices=Kind.choices)
    method = models.CharField(_("인증 수단"), max_length=16, choices=IdentityMethod.choices)
    name = models.CharField(_("이름"), max_length=80)
    birth_date = models.DateField(_("생년월일"))
    phone = models.CharField(_("휴대전화"), max_length=11)
    document_title = models.CharField(_("문서 제목"), max_length=40, blank=True)
    document_sha256 = models.CharField(_("문서 SHA-256"), max_length=64, blank=True)
    state = models.CharField(_("상태"), max_length=16, choices=IdentityState.choices, default=IdentityState.PENDING)
    expires_at = models.DateTimeField(_("만료 시각"))
    created_at = models.DateTimeField(_("요청 시각"), auto_now_add=True)
    decided_at = models.DateTimeField(_("응답 시각"), null=True, blank=True)
    verified_at = models.DateTimeField(_("검증 시각"), null=True, blank=True)

    class Meta:
        verbose_name = _("샌드박스 인증 요청")
        verbose_name_plural = _("샌드박스 인증 요청")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "expires_at"], name="sandbox_identity_pending")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.receipt_id[:8]}"
