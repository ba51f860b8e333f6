"""Consent documents, the consent ledger, the consents page, withdrawal and the consent admin."""

import hashlib

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.admin_consents import ConsentDocumentAdmin, ConsentRecordAdmin, PowerOfAttorneyAdmin
from accounts.decorators import claimant_required
from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney
from accounts.roles import Role
from accounts.selectors import (
    _cleared_key,
    claimant_readiness,
    claimant_readiness_cached,
    claimant_readiness_forget,
    consent_documents_missing,
    consent_documents_with_examples,
    power_of_attorney_current,
)
from accounts.services.consents import (
    ConsentError,
    consent_accept,
    consent_document_new_version,
    consent_document_publish,
    consent_withdraw,
)
from accounts.services.signing import power_of_attorney_sign
from accounts.tests.factories import ClaimantFactory, UserFactory, consent_documents_published, identity_verified
from claims.tests.staff import admin_login, staff_member
from core.audit import RequestMeta
from payments.tests.factories import retainer_settled_if_due

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.7", user_agent="Mozilla/5.0 (Linux; Android 14) TestBrowser/1.0")
# The guard's readiness: one query for the documents and the claimant's ledger, and one for the retainer (the step
# payments registers: accounts.selectors.journey_step_check_register).
READINESS_QUERIES = 2
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 KakaoTalk 10.4.5"


@pytest.fixture
def documents():
    return consent_documents_published()


@pytest.fixture
def claimant():
    return ClaimantFactory()


def _field(document: ConsentDocument) -> str:
    return f"document_{document.pk}"


def _publish_new_version(kind: str, *, body_suffix: str = "\n7. 추가된 조항") -> ConsentDocument:
    draft = consent_document_new_version(kind=kind)
    draft.body += body_suffix
    draft.save(update_fields=["body"])
    return consent_document_publish(document=draft)


def _fully_joined(claimant, documents) -> PowerOfAttorney:
    """Consents given, the power of attorney signed and the retainer its fee terms ask paid (payments' step)."""
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    identity_verified(claimant)
    signed = power_of_attorney_sign(
        user=claimant, document=documents["power_of_attorney"], meta=META, typed_name=claimant.legal_name
    )
    retainer_settled_if_due(claimant)
    return signed


@claimant_required
def _claimant_only_view(request):
    return HttpResponse("claim page")


# Versions ---------------------------------------------------------------------------------------------------


def test_seeded_documents_are_published_with_the_hash_of_their_exact_body(documents):
    assert set(documents) == {"privacy_required", "privacy_optional", "power_of_attorney"}
    for document in documents.values():
        assert document.published_at is not None
        assert document.text_sha256 == hashlib.sha256(document.body.encode("utf-8")).hexdigest()
    assert documents["privacy_required"].is_required and not documents["privacy_optional"].is_required
    privacy = documents["privacy_required"].body
    for required_statement in ("수집·이용 목적", "수집 항목", "보유·이용 기간", "거부할 권리", "참여하실 수 없습니다"):
        assert required_statement in privacy
    assert "주민등록번호는 받지 않습니다" in privacy
    poa = documents["power_of_attorney"].body
    for term in ("카카오 서비스 장애 손해배상 청구 공동소송", "복대리인의 선임", "20,000원", "20%", "{{ name }}"):
        assert term in poa


def test_a_new_version_is_a_draft_copied_from_the_latest_and_publishing_freezes_it(documents):
    draft = consent_document_new_version(kind=ConsentDocument.Kind.PRIVACY_REQUIRED)
    assert (draft.version, draft.published_at, draft.text_sha256) == (2, None, "")
    assert draft.body == documents["privacy_required"].body

    draft.body = draft.body.replace("5년간", "3년간")
    draft.save(update_fields=["body"])
    published = consent_document_publish(document=draft)

    assert published.published_at is not None
    assert published.text_sha256 == hashlib.sha256(draft.body.encode("utf-8")).hexdigest()
    with pytest.raises(ConsentError, match="이미 게시된"):
        consent_document_publish(document=published)


def test_only_one_draft_per_kind_and_no_publishing_an_older_version(documents):
    consent_document_new_version(kind=ConsentDocument.Kind.PRIVACY_OPTIONAL)
    with pytest.raises(ConsentError, match="초안"):
        consent_document_new_version(kind=ConsentDocument.Kind.PRIVACY_OPTIONAL)
    stale = ConsentDocument.objects.create(
        kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, version=0, title="old", body="old", is_required=True
    )
    with pytest.raises(ConsentError, match="이미 게시"):
        consent_document_publish(document=stale)


def test_publishing_refuses_unknown_placeholders_and_a_changed_required_flag(documents):
    draft = consent_document_new_version(kind=ConsentDocument.Kind.PRIVACY_REQUIRED)
    draft.body += "\n{{ resident_number }}"
    draft.save(update_fields=["body"])
    with pytest.raises(ConsentError, match="resident_number"):
        consent_document_publish(document=draft)
    draft.body = documents["privacy_required"].body
    draft.is_required = False
    draft.save(update_fields=["body", "is_required"])
    with pytest.raises(ConsentError, match="필수 여부"):
        consent_document_publish(document=draft)
    draft.refresh_from_db()
    assert draft.published_at is None


# Ledger -----------------------------------------------------------------------------------------------------


def test_accepting_on_the_page_records_ip_user_agent_and_the_exact_text_hash(client, claimant, documents):
    client.force_login(claimant)
    response = client.post(
        reverse("accounts:consents"),
        {_field(documents["privacy_required"]): "on", _field(documents["privacy_optional"]): "on"},
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT=PHONE_UA,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:power_of_attorney_sign")
    records = ConsentRecord.objects.filter(user=claimant).order_by("document__kind")
    assert [record.document.kind for record in records] == ["privacy_optional", "privacy_required"]
    for record in records:
        assert record.action == ConsentRecord.Action.ACCEPTED
        assert record.ip == "198.51.100.23"
        assert record.user_agent == PHONE_UA
        assert record.text_sha256 == hashlib.sha256(record.document.body.encode("utf-8")).hexdigest()
    assert consent_documents_missing(user=claimant) == [documents["power_of_attorney"]]


def test_behind_a_trusted_proxy_the_ledger_records_the_forwarded_client_address(client, claimant, documents, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(claimant)
    client.post(
        reverse("accounts:consents"),
        {_field(documents["privacy_required"]): "on"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert ConsentRecord.objects.get(user=claimant).ip == "203.0.113.99"


def test_the_page_shows_each_document_in_full_with_no_pre_ticked_box(client, claimant, documents):
    client.force_login(claimant)
    response = client.get(reverse("accounts:consents"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "checked" not in html
    assert "보유·이용 기간" in html and "소송 소식" in html
    assert f"{claimant.legal_name}님" in html  # placeholders are filled in
    assert "{{ name }}" not in html


def test_the_required_consent_must_be_ticked_and_nothing_is_recorded_until_it_is(client, claimant, documents):
    client.force_login(claimant)
    response = client.post(reverse("accounts:consents"), {_field(documents["privacy_optional"]): "on"})
    assert response.status_code == 200
    assert "필수 동의 항목입니다" in response.content.decode()
    assert "checked" in response.content.decode()  # the optional tick the user made is kept
    assert not ConsentRecord.objects.filter(user=claimant).exists()


def test_accepting_an_outdated_version_or_the_power_of_attorney_without_signing_is_refused(claimant, documents):
    _publish_new_version(ConsentDocument.Kind.PRIVACY_REQUIRED)
    with pytest.raises(ConsentError, match="최신 버전"):
        consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    with pytest.raises(ConsentError, match="서명"):
        consent_accept(user=claimant, document=documents["power_of_attorney"], meta=META)


def test_optional_consent_can_be_withdrawn_and_given_again_without_leaving_the_suit(client, claimant, documents):
    poa = _fully_joined(claimant, documents)
    optional = documents["privacy_optional"]
    consent_accept(user=claimant, document=optional, meta=META)
    client.force_login(claimant)

    response = client.post(reverse("accounts:consent_withdraw", args=[optional.pk]), REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 302
    withdrawal = ConsentRecord.objects.filter(user=claimant, document=optional).order_by("-at", "-id").first()
    assert (withdrawal.action, withdrawal.ip) == (ConsentRecord.Action.WITHDRAWN, "192.0.2.9")
    poa.refresh_from_db()
    assert poa.withdrawn_at is None
    assert claimant_readiness(user=claimant).ready

    client.post(reverse("accounts:consents"), {_field(optional): "on"})
    ledger = ConsentRecord.objects.filter(user=claimant, document=optional).order_by("at", "id")
    actions = list(ledger.values_list("action", flat=True))
    assert actions == ["accepted", "withdrawn", "accepted"]


# Re-acceptance ----------------------------------------------------------------------------------------------


def test_a_newly_published_required_version_forces_re_acceptance(rf, client, claimant, documents):
    _fully_joined(claimant, documents)
    request = rf.get("/claims/new/")
    request.user = claimant
    assert _claimant_only_view(request).status_code == 200

    version_2 = _publish_new_version(ConsentDocument.Kind.PRIVACY_REQUIRED)
    assert consent_documents_missing(user=claimant) == [version_2]
    response = _claimant_only_view(request)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:consents") + "?next=%2Fclaims%2Fnew%2F"

    client.force_login(claimant)
    page = client.get(response["Location"]).content.decode()
    assert "내용이 바뀌었습니다" in page and "버전 2" in page
    response = client.post(reverse("accounts:consents"), {_field(version_2): "on", "next": "/claims/new/"})
    assert response["Location"] == "/claims/new/"
    assert _claimant_only_view(request).status_code == 200


def test_a_new_power_of_attorney_version_sends_the_claimant_to_sign_again(rf, client, claimant, documents):
    _fully_joined(claimant, documents)
    _publish_new_version(ConsentDocument.Kind.POWER_OF_ATTORNEY)
    request = rf.get("/claims/new/")
    request.user = claimant
    response = _claimant_only_view(request)
    assert response["Location"].startswith(reverse("accounts:consents"))
    client.force_login(claimant)
    followed = client.get(response["Location"])
    assert followed["Location"] == reverse("accounts:power_of_attorney_sign") + "?next=%2Fclaims%2Fnew%2F"


def test_readiness_is_one_query_per_source_and_agrees_with_the_ledger_and_the_power_of_attorney(
    claimant, documents, django_assert_num_queries
):
    def agrees() -> bool:
        with django_assert_num_queries(READINESS_QUERIES):
            readiness = claimant_readiness(user=claimant)
        signed = power_of_attorney_current(user=claimant) is not None
        return readiness.consents_missing == consent_documents_missing(user=claimant) and (
            readiness.power_of_attorney_signed == signed
        )

    assert agrees() and not claimant_readiness(user=claimant).ready
    _fully_joined(claimant, documents)
    assert agrees() and claimant_readiness(user=claimant).ready
    _publish_new_version(ConsentDocument.Kind.POWER_OF_ATTORNEY)
    assert agrees() and not claimant_readiness(user=claimant).power_of_attorney_signed
    consent_withdraw(user=claimant, document=documents["privacy_required"], meta=META)
    assert agrees() and documents["privacy_required"] in claimant_readiness(user=claimant).consents_missing


def test_the_guards_cached_readiness_costs_no_query_once_every_consent_is_given(
    claimant, documents, django_assert_num_queries
):
    assert not claimant_readiness_cached(user=claimant).ready  # not cached while something is missing
    with django_assert_num_queries(READINESS_QUERIES):
        assert not claimant_readiness_cached(user=claimant).ready
    _fully_joined(claimant, documents)
    assert claimant_readiness_cached(user=claimant).ready
    with django_assert_num_queries(0):
        cached = claimant_readiness_cached(user=claimant)
    assert cached == claimant_readiness(user=claimant)


def test_the_cached_readiness_follows_the_email_and_profile_on_the_user_row(claimant, documents):
    _fully_joined(claimant, documents)
    assert claimant_readiness_cached(user=claimant).ready
    claimant.postal_code = ""
    assert not claimant_readiness_cached(user=claimant).profile_complete


@pytest.mark.parametrize("change", ["withdraw_consent", "withdraw_power_of_attorney", "new_required_version"])
def test_any_change_to_consents_or_documents_ends_the_cached_readiness_at_once(claimant, documents, change):
    _fully_joined(claimant, documents)
    assert claimant_readiness_cached(user=claimant).ready
    if change == "new_required_version":
        _publish_new_version(ConsentDocument.Kind.PRIVACY_REQUIRED)
    else:
        kind = "privacy_required" if change == "withdraw_consent" else "power_of_attorney"
        consent_withdraw(user=claimant, document=documents[kind], meta=META)
    assert not claimant_readiness_cached(user=claimant).ready


def test_rows_written_outside_the_services_also_end_the_cached_readiness(claimant, documents):
    """The admin, a shell or a data fix: a saved or deleted row is enough."""
    poa = _fully_joined(claimant, documents)
    assert claimant_readiness_cached(user=claimant).ready
    poa.delete()
    claimant.refresh_from_db()  # the next request loads the user row, with its new readiness stamp
    assert not claimant_readiness_cached(user=claimant).ready

    other = ClaimantFactory()
    _fully_joined(other, documents)
    assert claimant_readiness_cached(user=other).ready
    version_9 = ConsentDocument.objects.create(
        kind=ConsentDocument.Kind.PRIVACY_REQUIRED, version=9, title="v9", body="9", published_at=timezone.now()
    )
    assert claimant_readiness_cached(user=other).consents_missing == [version_9]


def test_a_readiness_read_before_a_withdrawal_is_not_used_after_it(claimant, documents):
    """A request that read the old state while the withdrawal committed may still write it to the cache; it is
    stamped with the claimant's old stamp, so it is never used."""
    from django.core.cache import cache

    _fully_joined(claimant, documents)
    claimant_readiness_cached(user=claimant)
    stale_entry = cache.get(_cleared_key(claimant.pk))
    old_stamp = claimant.readiness_stamp
    consent_withdraw(user=claimant, document=documents["privacy_required"], meta=META)
    cache.set(_cleared_key(claimant.pk), stale_entry)  # the slow request's write, after the withdrawal
    claimant.refresh_from_db()  # the next request loads the user row
    assert claimant.readiness_stamp != old_stamp
    assert not claimant_readiness_cached(user=claimant).ready


def test_forgetting_one_claimant_keeps_the_others_cached(claimant, documents, django_assert_num_queries):
    other = ClaimantFactory()
    for person in (claimant, other):
        _fully_joined(person, documents)
        claimant_readiness_cached(user=person)
    claimant_readiness_forget(user_id=claimant.pk)
    claimant.refresh_from_db()  # the next request loads the user row
    with django_assert_num_queries(0):
        assert claimant_readiness_cached(user=other).ready
    with django_assert_num_queries(READINESS_QUERIES):
        assert claimant_readiness_cached(user=claimant).ready


def test_a_claimant_page_in_another_session_stops_at_the_withdrawal(client, claimant, documents):
    """Withdrawing on one device: the next claimant page on another device sends the claimant to the consents."""
    _fully_joined(claimant, documents)
    client.force_login(claimant)
    assert client.get(reverse("claims:index")).status_code == 200
    consent_withdraw(user=claimant, document=documents["privacy_required"], meta=META)
    response = client.get(reverse("claims:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:consents"))


# Withdrawal -------------------------------------------------------------------------------------------------


def test_withdrawing_the_required_consent_explains_the_consequence_and_revokes_the_power_of_attorney(
    client, claimant, documents
):
    poa = _fully_joined(claimant, documents)
    client.force_login(claimant)
    url = reverse("accounts:consent_withdraw", args=[documents["privacy_required"].pk])

    confirm = client.get(url)
    assert "소송에서 빠지게 됩니다" in confirm.content.decode()
    assert ConsentRecord.objects.filter(action=ConsentRecord.Action.WITHDRAWN).count() == 0

    client.post(url, REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT=PHONE_UA)
    withdrawals = ConsentRecord.objects.filter(user=claimant, action=ConsentRecord.Action.WITHDRAWN)
    assert {record.document.kind for record in withdrawals} == {"privacy_required", "power_of_attorney"}
    assert all(record.ip == "192.0.2.44" and record.user_agent == PHONE_UA for record in withdrawals)
    assert withdrawals.get(document__kind="power_of_attorney").signed_content_sha256 == poa.content_sha256
    poa.refresh_from_db()
    assert poa.withdrawn_at is not None
    assert not claimant_readiness(user=claimant).ready


def test_withdrawing_the_power_of_attorney_sets_withdrawn_at_and_records_it(claimant, documents):
    poa = _fully_joined(claimant, documents)
    record = consent_withdraw(user=claimant, document=documents["power_of_attorney"], meta=META)
    assert record.action == ConsentRecord.Action.WITHDRAWN
    assert record.signed_content_sha256 == poa.content_sha256
    assert record.signed_document_sha256 == poa.pdf_sha256  # its PDF's too once rendered (here: not yet, "")
    poa.refresh_from_db()
    assert poa.withdrawn_at is not None
    assert claimant_readiness(user=claimant).consents_missing == [documents["power_of_attorney"]]
    with pytest.raises(ConsentError):
        consent_withdraw(user=claimant, document=documents["power_of_attorney"], meta=META)


def test_the_consents_page_needs_a_login(client, documents):
    response = client.get(reverse("accounts:consents"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


# Admin ------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_request(rf):
    request = rf.post("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    request._messages = CookieStorage(request)
    return request


def test_admin_edits_drafts_but_shows_published_versions_read_only(admin_request, documents):
    model_admin = ConsentDocumentAdmin(ConsentDocument, AdminSite())
    draft = consent_document_new_version(kind=ConsentDocument.Kind.PRIVACY_REQUIRED)
    assert "body" not in model_admin.get_readonly_fields(admin_request, draft)
    assert "body" in model_admin.get_readonly_fields(admin_request, documents["privacy_required"])
    assert model_admin.has_delete_permission(admin_request, draft)
    assert not model_admin.has_delete_permission(admin_request, documents["privacy_required"])


def test_admin_actions_publish_a_draft_and_make_a_new_version(admin_request, documents):
    model_admin = ConsentDocumentAdmin(ConsentDocument, AdminSite())
    model_admin.new_version(admin_request, ConsentDocument.objects.filter(pk=documents["privacy_optional"].pk))
    draft = ConsentDocument.objects.get(kind=ConsentDocument.Kind.PRIVACY_OPTIONAL, version=2)
    model_admin.publish(admin_request, ConsentDocument.objects.filter(pk=draft.pk))
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.text_sha256


def test_an_admin_action_the_rules_refuse_tells_staff_why(admin_request, documents):
    published = documents["privacy_required"]
    ConsentDocumentAdmin(ConsentDocument, AdminSite()).publish(
        admin_request, ConsentDocument.objects.filter(pk=published.pk)
    )
    assert [str(message) for message in get_messages(admin_request)] == [
        f"{published}: 이미 게시된 버전입니다. 고치려면 새 버전을 만드세요."
    ]


def test_ledger_and_power_of_attorney_admin_are_read_only(admin_request):
    for model, admin_class in ((ConsentRecord, ConsentRecordAdmin), (PowerOfAttorney, PowerOfAttorneyAdmin)):
        model_admin = admin_class(model, AdminSite())
        assert not model_admin.has_add_permission(admin_request)
        assert not model_admin.has_change_permission(admin_request)
        assert not model_admin.has_delete_permission(admin_request)
        assert model_admin.has_view_permission(admin_request)


# The example firm -------------------------------------------------------------------------------------------------


def test_the_admin_index_warns_lawyers_while_a_current_document_names_the_example_firm(client, documents):
    lawyer, paralegal = staff_member(Role.LAWYER), staff_member(Role.PARALEGAL)
    warning = 'data-testid="consent-example-warning"'
    html = admin_login(client, lawyer).get(reverse("admin:index")).content.decode()
    assert warning in html
    for document in documents.values():
        assert reverse("admin:accounts_consentdocument_change", args=[document.pk]) in html
    assert warning not in admin_login(Client(), paralegal).get(reverse("admin:index")).content.decode()

    for kind, document in documents.items():
        draft = consent_document_new_version(kind=kind)
        draft.body = document.body.replace("법무법인 ○○ (예시)", "법무법인 한빛").replace(" (예시)", "")
        draft.save(update_fields=["body"])
        consent_document_publish(document=draft)
    assert consent_documents_with_examples() == []
    assert warning not in client.get(reverse("admin:index")).content.decode()
