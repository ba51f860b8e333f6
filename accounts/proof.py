"""How strongly a plaintiff's identity and mandate are proved (docs/identity.md, "Proof levels"): the one rule,
as a query expression so lists and exports get it in the same query.

From strongest to weakest:
4 certified signature: the power of attorney (current, not withdrawn) signed with a 간편인증 certificate (Electronic
  Signature Act): who signed what, proved by the provider;
3 verified identity: a 간편인증 identity check matching the profile, but the power of attorney signed by drawing or
  typing (the court may ask for more);
2 verified phone: the mobile number proved by a one-time code (User.phone_verified_at), nothing more;
1 email only: an email address and a drawn or typed signature: what the courts found insufficient in the 5G suits.
A level reached through the sandbox provider is marked (`proof_level_sandbox`): it proves nothing.
"""

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import IdentityVerification, PowerOfAttorney


class ProofLevel(models.IntegerChoices):
    EMAIL = 1, _("이메일만")
    PHONE = 2, _("휴대전화 인증")
    IDENTITY = 3, _("본인인증")
    CERTIFIED = 4, _("인증서 전자서명")


PROOF_LEVEL_MEANINGS = {
    ProofLevel.CERTIFIED: _("간편인증 인증서로 소송위임장에 전자서명: 전자서명법상 서명으로 본인과 위임 사실이 증명됨"),
    ProofLevel.IDENTITY: _("간편인증으로 본인 확인, 위임장은 손글씨·이름 입력 서명: 법원이 추가 확인을 요구할 수 있음"),
    ProofLevel.PHONE: _("휴대전화 문자 인증만: 5G 소송에서 법원이 부족하다고 본 수준"),
    ProofLevel.EMAIL: _("이메일과 손글씨·이름 입력 서명만: 공증 위임장 등 추가 증명이 필요할 수 있음"),
}


def proof_level_annotations(user_path: str = "") -> dict[str, models.Expression]:
    """`proof_level` (a ProofLevel value) and `proof_level_sandbox` (reached through the sandbox) for a queryset
    whose rows reach the user through `user_path` ("claimant__" from claims, "" from users)."""
    user = OuterRef(f"{user_path}pk" if user_path else "pk")
    certified = PowerOfAttorney.objects.filter(
        user=user,
        withdrawn_at__isnull=True,
        signature_method=PowerOfAttorney.SignatureMethod.CERTIFIED,
        certified_signature__isnull=False,
    )
    identity = IdentityVerification.objects.filter(
        user=user,
        kind=IdentityVerification.Kind.IDENTITY,
        status=IdentityVerification.Status.VERIFIED,
        profile_mismatch=[],
    )
    phone_verified = Q(**{f"{user_path}phone_verified_at__isnull": False})
    return {
        "proof_level": Case(
            When(Exists(certified), then=Value(ProofLevel.CERTIFIED)),
            When(Exists(identity), then=Value(ProofLevel.IDENTITY)),
            When(phone_verified, then=Value(ProofLevel.PHONE)),
            default=Value(ProofLevel.EMAIL),
            output_field=models.IntegerField(),
        ),
        "proof_level_sandbox": Exists(certified.filter(certified_signature__sandbox=True))
        | Exists(identity.filter(sandbox=True)),
    }


def proof_level_label(level: int, *, sandbox: bool = False) -> str:
    """The level's name, marked SANDBOX when it was reached through the sandbox provider."""
    label = str(ProofLevel(level).label)
    return f"{label} (SANDBOX)" if sandbox and level >= ProofLevel.IDENTITY else label
