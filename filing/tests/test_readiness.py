"""Filing readiness per plaintiff (filing/selectors/readiness.py): each rule one by one, where it applies, the
override (filing/services/readiness.py) and what a freeze takes."""

import pytest
from django.utils import timezone

from accounts.models import ConsentDocument, PowerOfAttorney
from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory, StaffFactory, power_of_attorney_certified_signed
from claims.models import Claim, EvidenceFinding, Flag, InformationRequest
from claims.tests.factories import (
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    service_by_slug,
)
from core.models import AuditEntry
from filing.models import ReadinessOverride
from filing.selectors.readiness import (
    ESTIMATE,
    FLAGS,
    IDENTITY,
    POWER_OF_ATTORNEY,
    PROOF_OF_USE,
    REQUESTS,
    RETAINER,
    claim_readiness,
    claims_readiness,
    readiness_rules,
)
from filing.services.readiness import ReadinessError, readiness_override_grant, readiness_override_revoke
from filing.tests.readiness import claim_ready, plaintiff_ready
from payments.models import RetainerOrder
from payments.tests.factories import retainer_settled_if_due, retainer_terms_seeded

pytestmark = pytest.mark.django_db
UNCONFIGURED_IDENTITY = "integrations.identity.UnconfiguredIdentityBackend"
UNCONFIGURED_PAYMENTS = "integrations.payments.UnconfiguredPaymentGateway"


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def unmet(claim: Claim) -> set[str]:
    return {check.key for check in claim_readiness(claim=claim).unmet}


def test_a_complete_claim_is_ready():
    readiness = claim_readiness(claim=claim_ready())
    assert readiness.ready
    assert {check.key for check in readiness.checks} >= {IDENTITY, POWER_OF_ATTORNEY, PROOF_OF_USE, ESTIMATE}


def test_identity_needs_proof_level_three_when_an_identity_provider_is_configured(settings):
    claim = claim_ready(claimant=claimant_ready())  # signed by typing, identity not verified
    assert unmet(claim) == {IDENTITY}
    check = claim_readiness(claim=claim).unmet[0]
    assert "본인인증" in check.reason and "본인인증" in check.claimant_todo
    settings.IDENTITY_BACKEND = UNCONFIGURED_IDENTITY
    assert IDENTITY not in {rule.key for rule in readiness_rules()}
    assert claim_readiness(claim=claim).ready


def test_a_certified_signature_without_an_identity_check_meets_the_identity_condition():
    claimant = power_of_attorney_certified_signed(ClaimantFactory())  # no identity check: the certificate's app checked
    retainer_settled_if_due(claimant)
    claim = claim_ready(claimant=claimant)
    assert unmet(claim) == set()
    assert claim_readiness(claim=claim).ready


def test_the_power_of_attorney_must_be_signed_current_and_not_withdrawn():
    claim = claim_ready()
    power = PowerOfAttorney.objects.get(user=claim.claimant)
    power.withdrawn_at = timezone.now()
    power.save(update_fields=["withdrawn_at"])
    assert unmet(claim) == {POWER_OF_ATTORNEY}
    power.withdrawn_at = None
    power.save(update_fields=["withdrawn_at"])
    assert claim_readiness(claim=claim).ready
    current = power.document
    newer = ConsentDocument.objects.create(
        kind=current.kind,
        version=current.version + 1,
        title=current.title,
        body=current.body + "\n개정",
        is_required=True,
        published_at=timezone.now(),
    )
    assert newer.pk
    assert POWER_OF_ATTORNEY in unmet(claim)  # signed on an older text


def test_a_signed_power_of_attorney_whose_pdf_is_not_rendered_yet_is_not_ready_and_says_why():
    claim = claim_ready()
    power = PowerOfAttorney.objects.get(user=claim.claimant)
    rendered = (power.pdf.name, power.pdf_sha256)
    PowerOfAttorney.objects.filter(pk=power.pk).update(pdf="", pdf_sha256="")  # as right after signing
    assert unmet(claim) == {POWER_OF_ATTORNEY}
    check = claim_readiness(claim=claim).unmet[0]
    assert "PDF를 아직 만들고 있습니다" in check.reason
    assert "만들고 있습니다" in check.claimant_todo and "서명해 주세요" not in check.claimant_todo
    assert not claims_readiness(queryset=Claim.objects.filter(pk=claim.pk))[0][1].ready
    PowerOfAttorney.objects.filter(pk=power.pk).update(pdf=rendered[0], pdf_sha256=rendered[1])
    assert claim_readiness(claim=claim).ready


def test_a_claimant_without_any_power_of_attorney_is_not_ready(settings):
    settings.IDENTITY_BACKEND = UNCONFIGURED_IDENTITY
    claim = claim_ready(claimant=ClaimantFactory())
    assert POWER_OF_ATTORNEY in unmet(claim)


def test_proof_of_use_is_needed_for_each_claimed_service():
    claim = claim_ready(proof_of_use=False)
    assert unmet(claim) == {PROOF_OF_USE}
    # The claim names one service: a proof-of-use file not linked to a loss item is for that service.
    EvidenceFactory(claim=claim)
    assert claim_readiness(claim=claim).ready
    # A second service needs its own proof: the unlinked file no longer says which service it shows.
    melon = service_by_slug("melon")
    claim.services.add(melon)
    readiness = claim_readiness(claim=claim)
    assert {check.key for check in readiness.unmet} == {PROOF_OF_USE}
    assert "멜론" in readiness.unmet[0].reason and "카카오" in readiness.unmet[0].reason
    item = LossItemFactory(claim=claim, service=melon, monthly_fee=10_900)
    EvidenceFactory(claim=claim, loss_item=item)
    assert unmet(claim) == {PROOF_OF_USE}  # Kakao T still has no file of its own
    EvidenceFactory(claim=claim, loss_item=claim.loss_items.get(service__slug="kakao-t"))
    assert claim_readiness(claim=claim).ready


def test_a_file_read_inside_the_outage_window_is_proof_of_use_for_the_service_it_names():
    claim = claim_ready(proof_of_use=False)
    other = EvidenceFactory(claim=claim, tag="other", loss_item=None)
    finding = EvidenceFinding.objects.create(
        evidence=other, status=EvidenceFinding.Status.DONE, proof_of_use="no", services=["kakao-t"]
    )
    assert unmet(claim) == {PROOF_OF_USE}  # read, but outside the window
    finding.proof_of_use = EvidenceFinding.ProofOfUse.YES
    finding.save()
    assert claim_readiness(claim=claim).ready
    finding.services = ["melon"]
    finding.save()
    assert unmet(claim) == {PROOF_OF_USE}  # it shows another service


def test_the_estimate_must_exist_and_be_accepted():
    claim = claim_ready(status=Claim.Status.IN_REVIEW)
    readiness = claim_readiness(claim=claim)
    assert {check.key for check in readiness.unmet} == {ESTIMATE}
    assert "승인" in readiness.unmet[0].reason
    unestimated = SubmittedClaimFactory(claimant=plaintiff_ready(), status=Claim.Status.ACCEPTED)
    unestimated.services.add(service_by_slug("kakao-t"))
    EvidenceFactory(claim=unestimated)
    readiness = claim_readiness(claim=unestimated)
    assert {check.key for check in readiness.unmet} == {ESTIMATE}
    assert "산정" in readiness.unmet[0].reason


def test_the_retainer_counts_only_where_the_gateway_and_fee_terms_ask_for_one(settings):
    retainer_terms_seeded()
    claim = claim_ready()
    assert RETAINER in {check.key for check in claim_readiness(claim=claim).checks}
    assert claim_readiness(claim=claim).ready  # paid in the sandbox by the fixture
    order = RetainerOrder.objects.get(claimant=claim.claimant)
    order.status = RetainerOrder.Status.PENDING
    order.save(update_fields=["status"])
    assert unmet(claim) == {RETAINER}
    order.status = RetainerOrder.Status.WAIVED
    order.save(update_fields=["status"])
    assert claim_readiness(claim=claim).ready
    order.status = RetainerOrder.Status.PENDING
    order.save(update_fields=["status"])
    settings.PAYMENT_BACKEND = UNCONFIGURED_PAYMENTS
    assert claim_readiness(claim=claim).ready
    assert RETAINER not in {rule.key for rule in readiness_rules()}


def test_an_open_flag_blocks_until_reviewed():
    claim = claim_ready()
    flag = Flag.objects.create(claim=claim, code=Flag.Code.AMOUNT_OUTLIER, severity=Flag.Severity.MEDIUM)
    assert unmet(claim) == {FLAGS}
    flag.status = Flag.Status.REVIEWED
    flag.save(update_fields=["status"])
    assert claim_readiness(claim=claim).ready


def test_an_unanswered_information_request_blocks(lawyer):
    claim = claim_ready()
    request = InformationRequest.objects.create(
        claim=claim, requested_by=lawyer, message="캡처를 올려 주세요", due_date=timezone.localdate()
    )
    assert unmet(claim) == {REQUESTS}
    request.answered_at = timezone.now()
    request.save(update_fields=["answered_at"])
    assert claim_readiness(claim=claim).ready


def test_readiness_of_a_list_is_one_query_whatever_its_size(django_assert_num_queries):
    def count_for(size: int) -> int:
        for _ in range(size):
            claim_ready(proof_of_use=False)
        with django_assert_num_queries(2):  # the fee terms, then the claims with every condition
            rows = claims_readiness(queryset=Claim.objects.order_by("pk"))
        return len(rows)

    assert count_for(2) == 2
    assert count_for(8) == 10
    assert all(PROOF_OF_USE in {c.key for c in r.unmet} for _claim, r in claims_readiness(queryset=Claim.objects))


# --- the override ------------------------------------------------------------------------------------------------


def test_a_lawyer_overrides_with_a_reason_audited_and_revocable(lawyer):
    claim = claim_ready(proof_of_use=False)
    with pytest.raises(ReadinessError, match="사유"):
        readiness_override_grant(claim=claim, reason="  ", actor=lawyer)
    override = readiness_override_grant(claim=claim, reason="원본 영수증을 우편으로 받음", actor=lawyer)
    readiness = claim_readiness(claim=claim)
    assert (readiness.ready, readiness.overridden, readiness.takes_part) == (False, True, True)
    with pytest.raises(ReadinessError, match="이미 예외"):
        readiness_override_grant(claim=claim, reason="두 번째", actor=lawyer)
    granted = AuditEntry.objects.get(object_type="filing.readinessoverride", data__readiness_override="granted")
    assert (granted.actor, granted.claim_id) == (lawyer, claim.pk)
    assert granted.data["reason"] == "원본 영수증을 우편으로 받음"

    readiness_override_revoke(override=override, actor=lawyer, reason="착오")
    assert not claim_readiness(claim=claim).overridden
    override.refresh_from_db()
    assert (override.revoked_by, override.revoke_reason) == (lawyer, "착오")
    assert AuditEntry.objects.filter(data__readiness_override="revoked", claim_id=claim.pk).exists()
    with pytest.raises(ReadinessError, match="이미 취소"):
        readiness_override_revoke(override=override, actor=lawyer)
    readiness_override_grant(claim=claim, reason="다시 예외", actor=lawyer)  # a new one after the revocation
    assert ReadinessOverride.objects.filter(claim=claim).count() == 2


@pytest.mark.parametrize("role", [Role.PARALEGAL, Role.VIEWER])
def test_only_lawyers_may_override(role, lawyer):
    claim = claim_ready(proof_of_use=False)
    with pytest.raises(ReadinessError, match="변호사만"):
        readiness_override_grant(claim=claim, reason="사유", actor=StaffFactory(role=role))
    override = readiness_override_grant(claim=claim, reason="사유", actor=lawyer)
    with pytest.raises(ReadinessError, match="변호사만"):
        readiness_override_revoke(override=override, actor=StaffFactory(role=role))
    assert not ReadinessOverride.objects.filter(revoked_at__isnull=False).exists()
