"""The claim wizard: eligibility before sign-up, each step saved, business numbers, loss items, submission."""

import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.forms import ClaimantForm
from claims.models import Claim, ClaimEvent, Flag, LossItem, OutageWindow
from claims.services import intake
from claims.services.intake import ClaimError
from claims.tests.factories import (
    ClaimFactory,
    EvidenceFactory,
    LossItemFactory,
    claimant_ready,
    default_incident,
    service_by_slug,
)
from claims.validators import business_registration_number_is_valid, validate_business_registration_number, won_parse

pytestmark = pytest.mark.django_db


def window_id(slug: str) -> int:
    return OutageWindow.objects.get(incident=default_incident(), service__slug=slug).pk


@pytest.fixture
def draft(claimant):
    claim = ClaimFactory(claimant=claimant, wizard_step="losses")
    claim.services.set([service_by_slug("kakao-t"), service_by_slug("kakao-hairshop")])
    return claim


# --- business registration number --------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["2208162517", "1234567891", "1048167898", "2118700125"])
def test_business_number_with_a_correct_check_digit_is_accepted(number):
    assert business_registration_number_is_valid(number)
    validate_business_registration_number(f"{number[:3]}-{number[3:5]}-{number[5:]}")


@pytest.mark.parametrize("number", ["2208162518", "1234567890", "123456789", "12345678901", "abcdefghij"])
def test_check_digit_rejects_a_wrong_business_number(number):
    assert not business_registration_number_is_valid(number)
    with pytest.raises(ValidationError):
        validate_business_registration_number(number)


def test_every_example_business_number_the_site_shows_passes_its_own_check():
    """The help text and the format error show an example number: a claimant who copies it is not refused."""
    texts = [str(ClaimantForm().fields["business_registration_number"].help_text)]
    with pytest.raises(ValidationError) as too_short:
        validate_business_registration_number("12345")
    texts += too_short.value.messages
    examples = [example for text in texts for example in re.findall(r"\d{3}-\d{2}-\d{5}", text)]
    assert len(examples) == 2
    for example in examples:
        validate_business_registration_number(example)
    assert ClaimantForm(
        data={
            "claimant_type": "sole_proprietor",
            "business_registration_number": examples[0],
            "business_name": "하늘 미용실",
            "business_sector": "미용실",
        }
    ).is_valid()


def test_claimant_form_refuses_a_wrong_business_number_and_keeps_the_other_answers():
    form = ClaimantForm(
        data={
            "claimant_type": "sole_proprietor",
            "business_registration_number": "220-81-62518",
            "business_name": "하늘 미용실",
            "business_sector": "미용실",
        }
    )
    assert not form.is_valid()
    assert "사업자등록번호가 올바르지 않습니다" in form.errors["business_registration_number"][0]
    html = form.as_div()
    assert "하늘 미용실" in html and "220-81-62518" in html


def test_business_claimant_must_give_name_and_sector():
    form = ClaimantForm(data={"claimant_type": "company", "business_registration_number": "2208162517"})
    assert not form.is_valid()
    assert set(form.errors) == {"business_name", "business_sector"}


def test_individual_needs_no_business_details():
    form = ClaimantForm(data={"claimant_type": "individual"})
    assert form.is_valid()


# --- amounts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "won"), [("1,234,000", 1_234_000), ("1234000", 1_234_000), (" 39,000원 ", 39_000), ("1", 1)]
)
def test_amounts_accept_commas_and_the_won_sign(typed, won):
    assert won_parse(typed) == won


@pytest.mark.parametrize("typed", ["0", "-5,000", "12.5", "abc", "1,000,000,001"])
def test_amounts_must_be_whole_positive_won_under_the_ceiling(typed):
    with pytest.raises(ValidationError):
        won_parse(typed)


# --- eligibility before sign-up ----------------------------------------------------------------------------


def test_public_eligibility_check_explains_why_someone_not_using_a_service_cannot_join(client):
    response = client.post(
        reverse("claims:eligibility_check"), {"windows": [window_id("kakaotalk")], "was_using": "no"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="eligibility-problems"' in html
    assert "이용하고 있지 않았다면" in html
    assert not Claim.objects.exists()


def test_public_eligibility_check_says_when_the_incident_is_closed(client):
    incident = default_incident()
    incident.accepting_claims = False
    incident.save()
    response = client.post(reverse("claims:eligibility_check"), {"windows": [window_id("kakao-t")], "was_using": "yes"})
    assert "참여 신청은 현재 받고 있지 않습니다" in response.content.decode()


def test_eligible_answers_wait_in_the_session_and_start_the_claim_after_login(client):
    check = client.post(
        reverse("claims:eligibility_check"),
        {"windows": [window_id("kakao-t"), window_id("talk-channel")], "was_using": "yes"},
    )
    # Straight on to sign-up (no page in between), the way back to the claim carried in `next`.
    assert check.status_code == 302
    assert check.url == reverse("accounts:signup") + "?next=%2Fclaims%2Fstart%2F"
    signup = client.get(check.url).content.decode()
    assert "참여하실 수 있습니다" in signup and "앞선 소송이 기각되었습니다" in signup
    assert not Claim.objects.exists()

    user = claimant_ready()
    client.force_login(user)  # login keeps the session's data
    response = client.get(reverse("claims:start"))  # the answers are not asked again: the claim starts from them

    claim = Claim.objects.get(claimant=user)
    assert response.url == reverse("claims:wizard_claimant", args=[claim.pk])
    assert {s.slug for s in claim.services.all()} == {"kakao-t", "talk-channel"}
    assert claim.was_using_during_outage is True
    assert claim.status == Claim.Status.DRAFT and claim.wizard_step == "claimant"
    assert claim.events.get().kind == ClaimEvent.Kind.CREATED
    page = client.get(response.url).content.decode()
    assert "가입 전에 답하신 내용으로 신청서를 만들었습니다" in page
    assert 'data-testid="journey-checklist"' in page


def test_an_individual_answered_on_the_check_skips_the_who_you_are_screen(client):
    client.post(
        reverse("claims:eligibility_check"),
        {"windows": [window_id("kakao-t")], "was_using": "yes", "applicant_kind": "individual"},
    )
    user = claimant_ready()
    client.force_login(user)

    response = client.get(reverse("claims:start"))

    claim = Claim.objects.get(claimant=user)
    assert claim.claimant_type == Claim.ClaimantType.INDIVIDUAL and claim.wizard_step == "losses"
    assert response.url == reverse("claims:wizard_losses", args=[claim.pk])
    assert claim.events.filter(kind=ClaimEvent.Kind.CREATED).exists()


def test_without_answers_from_before_sign_up_the_start_asks_them(client):
    client.force_login(claimant_ready())
    page = client.get(reverse("claims:start"))
    assert page.status_code == 200 and not Claim.objects.exists()


def test_a_claim_with_one_service_asks_its_losses_and_the_compensation_on_one_screen(client):
    user = claimant_ready()
    client.force_login(user)
    client.post(reverse("claims:eligibility_check"), {"windows": [window_id("kakao-t")], "was_using": "yes"})
    claim_url = client.get(reverse("claims:start")).url
    claim = Claim.objects.get(claimant=user)
    losses = client.get(reverse("claims:wizard_losses", args=[claim.pk]))
    service_url = reverse("claims:wizard_losses_service", args=[claim.pk, "kakao-t"])
    assert claim_url == reverse("claims:wizard_claimant", args=[claim.pk]) and losses.url == service_url
    assert 'data-testid="compensation"' in client.get(service_url).content.decode()

    data = formset_data([{"kind": "subscription", "monthly_fee": "39,000", "description": "멤버십"}])
    response = client.post(service_url, {**data, "already_compensated": "3,000"})

    assert response.url == reverse("claims:wizard_evidence", args=[claim.pk])
    claim.refresh_from_db()
    assert claim.already_compensated == 3_000 and claim.loss_items.get().monthly_fee == 39_000


def test_claimant_pages_need_login(client):
    response = client.get(reverse("claims:start"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_the_eligibility_step_reads_the_windows_once_with_a_plain_query(client, claimant):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("claims:start"))
    assert (
        page.content.decode().count('name="windows"')
        == OutageWindow.objects.filter(incident=default_incident()).count()
    )
    windows = [query["sql"] for query in queries.captured_queries if "claims_outagewindow" in query["sql"]]
    assert len(windows) == 1 and not windows[0].startswith("DECLARE")  # no server-side cursor


def test_a_second_claim_for_the_same_incident_is_refused(client, claimant):
    first = ClaimFactory(claimant=claimant)
    with pytest.raises(ClaimError) as refused:
        intake.claim_start(
            claimant=claimant, incident=first.incident, services=[service_by_slug("kakao-t")], was_using=True
        )
    assert refused.value.claim == first
    # Through the page, the claimant is sent back to the claim they already have.
    response = client.post(reverse("claims:start"), {"windows": [window_id("kakao-t")], "was_using": "yes"})
    assert response.status_code == 302
    assert Claim.objects.filter(claimant=claimant).count() == 1


def test_the_database_refuses_two_active_claims_for_one_claimant_and_incident(claimant):
    ClaimFactory(claimant=claimant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(claimant=claimant, incident=default_incident())


def test_services_must_belong_to_the_incident(claimant):
    other = default_incident().__class__.objects.exclude(is_default=True).first()
    with pytest.raises(ClaimError):
        intake.claim_start(claimant=claimant, incident=other, services=[service_by_slug("melon")], was_using=True)


# --- steps ---------------------------------------------------------------------------------------------------


def test_claimant_step_saves_a_business_and_moves_on(client, draft):
    response = client.post(
        reverse("claims:wizard_claimant", args=[draft.pk]),
        {
            "claimant_type": "sole_proprietor",
            "business_registration_number": "220-81-62517",
            "business_name": "하늘 미용실",
            "business_sector": "미용실",
        },
    )
    assert response.url == reverse("claims:wizard_losses", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.business_registration_number == "2208162517"
    assert draft.claimant_type == Claim.ClaimantType.SOLE_PROPRIETOR
    assert draft.events.filter(kind=ClaimEvent.Kind.UPDATED, data__step="claimant").exists()


def test_claimant_step_shows_the_check_digit_error_and_keeps_what_was_typed(client, draft):
    response = client.post(
        reverse("claims:wizard_claimant", args=[draft.pk]),
        {
            "claimant_type": "company",
            "business_registration_number": "123-45-67890",
            "business_name": "주식회사 바른택시",
            "business_sector": "택시",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "사업자등록번호가 올바르지 않습니다" in html
    assert "주식회사 바른택시" in html and "123-45-67890" in html
    draft.refresh_from_db()
    assert draft.claimant_type == Claim.ClaimantType.INDIVIDUAL


def formset_data(items, *, initial=0) -> dict:
    data = {"form-TOTAL_FORMS": str(len(items)), "form-INITIAL_FORMS": str(initial), "form-MAX_NUM_FORMS": "20"}
    for index, item in enumerate(items):
        data.update({f"form-{index}-{key}": value for key, value in item.items()})
    return data


def test_the_outage_week_is_written_in_the_readers_language(client, draft):
    url = reverse("claims:wizard_losses_service", args=[draft.pk, "kakao-hairshop"])
    assert "(10월 15일 토요일~10월 21일 금요일)" in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    html = client.get(url).content.decode()
    assert "(Saturday October 15 to Friday October 21)" in html
    assert "10월" not in html


def test_loss_items_of_one_service_are_saved_on_one_screen(client, draft):
    url = reverse("claims:wizard_losses_service", args=[draft.pk, "kakao-hairshop"])
    page = client.get(url)
    assert "2022-10-20 23:00" in page.content.decode()  # the service's official window beside the form
    response = client.post(
        url,
        formset_data(
            [
                {
                    "kind": "business_revenue",
                    "comparison_revenue": "1,850,000",
                    "outage_revenue": "620,000",
                    "monthly_fee": "9,999",  # typed before switching kinds: not kept
                    "description": "예약이 사흘 동안 들어오지 않았습니다.",
                    "affected_hours": "72",
                },
                {"kind": "expense", "amount": "55,000원", "description": "문자 예약 안내 발송비"},
            ]
        ),
    )
    assert response.url == reverse("claims:wizard_losses", args=[draft.pk])
    revenue, expense = LossItem.objects.filter(claim=draft).order_by("pk")
    assert (revenue.comparison_revenue, revenue.outage_revenue, revenue.monthly_fee) == (1_850_000, 620_000, 0)
    assert expense.amount == 55_000 and expense.service.slug == "kakao-hairshop"
    draft.refresh_from_db()
    assert draft.claimed_total == 1_230_000 + 55_000


def test_a_failed_loss_step_keeps_what_was_typed_and_the_earlier_answers(client, draft):
    draft.claimant_type, draft.business_name = Claim.ClaimantType.SOLE_PROPRIETOR, "하늘 미용실"
    draft.business_registration_number, draft.business_sector = "2208162517", "미용실"
    draft.save()
    kept = LossItemFactory(claim=draft, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    url = reverse("claims:wizard_losses_service", args=[draft.pk, "kakao-hairshop"])
    response = client.post(
        url,
        formset_data(
            [
                {
                    "kind": "business_revenue",
                    "comparison_revenue": "500,000",
                    "outage_revenue": "700,000",
                    "description": "주말 예약 취소",
                },
                {"kind": "other", "amount": "", "description": "손님 항의 응대"},
            ]
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "장애 주간 매출이 평상시보다 적지 않으면" in html
    assert "금액을 적어 주세요" in html
    assert "500,000" in html and "주말 예약 취소" in html and "손님 항의 응대" in html
    draft.refresh_from_db()
    assert draft.business_name == "하늘 미용실" and draft.services.count() == 2
    assert list(LossItem.objects.filter(claim=draft)) == [kept]


def test_loss_items_can_be_changed_and_removed(client, draft):
    item = LossItemFactory(claim=draft, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    gone = LossItemFactory(claim=draft, service=service_by_slug("kakao-t"), kind="other", amount=5_000)
    url = reverse("claims:wizard_losses_service", args=[draft.pk, "kakao-t"])
    response = client.post(
        url,
        formset_data(
            [
                {"pk": item.pk, "kind": "subscription", "monthly_fee": "22,000", "description": "대리 기사 요금제"},
                {"pk": gone.pk, "kind": "other", "amount": "5,000", "description": "x", "DELETE": "on"},
                {"kind": ""},
            ],
            initial=2,
        ),
    )
    assert response.status_code == 302
    assert list(LossItem.objects.filter(claim=draft).values_list("pk", "monthly_fee")) == [(item.pk, 22_000)]


def test_a_service_not_chosen_in_step_one_has_no_loss_screen(client, draft):
    response = client.get(reverse("claims:wizard_losses_service", args=[draft.pk, "melon"]))
    assert response.status_code == 404


def test_compensation_already_received_is_recorded(client, draft):
    response = client.post(reverse("claims:wizard_losses", args=[draft.pk]), {"already_compensated": "30,000"})
    assert response.url == reverse("claims:wizard_evidence", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.already_compensated == 30_000 and draft.wizard_step == "evidence"


def test_resume_goes_to_the_furthest_step_reached(client, draft):
    response = client.get(reverse("claims:resume", args=[draft.pk]))
    assert response.url == reverse("claims:wizard_losses", args=[draft.pk])


def test_a_service_with_loss_items_cannot_be_dropped_in_step_one(client, draft):
    LossItemFactory(claim=draft, service=service_by_slug("kakao-hairshop"))
    response = client.post(
        reverse("claims:wizard_eligibility", args=[draft.pk]), {"windows": [window_id("kakao-t")], "was_using": "yes"}
    )
    assert response.status_code == 200
    assert "손해 항목이 있는 서비스는 뺄 수 없습니다" in response.content.decode()
    assert draft.services.count() == 2


# --- review and submit --------------------------------------------------------------------------------------


def test_review_warns_above_all_about_missing_proof_of_use(client, draft):
    LossItemFactory(claim=draft, service=service_by_slug("kakao-t"))
    html = client.get(reverse("claims:wizard_review", args=[draft.pk])).content.decode()
    assert 'data-testid="missing-proof-of-use"' in html
    assert "증거가 없어 기각" in html
    EvidenceFactory(claim=draft, tag="proof_of_use")
    html = client.get(reverse("claims:wizard_review", args=[draft.pk])).content.decode()
    assert 'data-testid="missing-proof-of-use"' not in html


def test_submitting_gives_a_reference_code_and_sends_the_confirmation_email_once(
    client, draft, mailoutbox, django_capture_on_commit_callbacks
):
    LossItemFactory(claim=draft, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    url = reverse("claims:wizard_review", args=[draft.pk])
    with (
        mock.patch.object(intake.estimate_claim_task, "delay_on_commit") as estimate,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = client.post(url)
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = client.post(url)
    assert first.url == second.url == reverse("claims:submitted", args=[draft.pk])
    assert second_callbacks == []
    draft.refresh_from_db()
    assert draft.status == Claim.Status.SUBMITTED and draft.submitted_at
    assert draft.reference_code.startswith("KC-") and len(draft.reference_code) == 12
    assert draft.claimed_total == 39_000
    assert draft.events.filter(kind=ClaimEvent.Kind.SUBMITTED).count() == 1
    estimate.assert_called_once_with(draft.pk)
    assert len(mailoutbox) == 1
    assert draft.reference_code in mailoutbox[0].subject and draft.reference_code in mailoutbox[0].body
    assert mailoutbox[0].to == [draft.claimant.email]
    page = client.get(first.url)
    assert draft.reference_code in page.content.decode()


def test_submitting_checks_the_claim_for_duplicates_at_once(draft, django_capture_on_commit_callbacks):
    other = ClaimFactory(status=Claim.Status.SUBMITTED, claimant__phone=draft.claimant.phone)
    LossItemFactory(claim=draft, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    with django_capture_on_commit_callbacks(execute=True):
        intake.claim_submit(claim=draft, actor=draft.claimant)
    flag = draft.flags.get(code=Flag.Code.DUPLICATE_PHONE)
    assert other.pk in flag.related_claim_ids


def test_the_confirmation_email_task_sends_once_for_an_event_even_if_run_twice(
    draft, mailoutbox, django_capture_on_commit_callbacks
):
    from claims.tasks.notifications import claim_status_email_task

    claim = intake.claim_submit(claim=draft, actor=draft.claimant)
    event = claim.events.get(kind=ClaimEvent.Kind.SUBMITTED)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        assert claim_status_email_task(claim.pk, event.pk) is True
        assert claim_status_email_task(claim.pk, event.pk) is False
    assert len(mailoutbox) == 1


def test_a_submitted_claim_can_no_longer_be_edited(client, draft):
    intake.claim_submit(claim=draft, actor=draft.claimant)
    response = client.get(reverse("claims:wizard_claimant", args=[draft.pk]))
    assert response.url == reverse("claims:detail", args=[draft.pk])
    with pytest.raises(ClaimError):
        intake.claim_claimant_update(claim=draft, actor=draft.claimant, claimant_type="individual")


def test_submitting_needs_a_signed_power_of_attorney(draft):
    draft.claimant.powers_of_attorney.update(withdrawn_at=draft.created_at)
    with pytest.raises(ClaimError, match="소송위임장"):
        intake.claim_submit(claim=draft, actor=draft.claimant)
    draft.refresh_from_db()
    assert draft.status == Claim.Status.DRAFT and not draft.reference_code


def test_a_closed_incident_takes_no_more_submissions(draft):
    draft.incident.accepting_claims = False
    draft.incident.save()
    with pytest.raises(ClaimError, match="마감"):
        intake.claim_submit(claim=draft, actor=draft.claimant)


def test_the_landing_page_invites_visitors_to_check_and_claimants_to_continue(client):
    html = client.get(reverse("home")).content.decode()
    assert reverse("claims:eligibility_check") in html
    client.force_login(claimant_ready())
    html = client.get(reverse("home")).content.decode()
    assert "내 신청 보기·이어서 작성하기" in html and reverse("claims:index") in html
