"""The journey steps (accounts/journey.py): the one list, its order and the next-step function, without HTTP."""

import pytest
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy

from accounts import journey
from accounts.decorators import claimant_required
from accounts.journey import (
    JOURNEY,
    JourneyStep,
    claimant_next_step,
    claimant_steps,
    journey_filing_problems,
    journey_next_step,
    journey_next_url,
    journey_step_blocker,
    journey_step_url,
)
from accounts.models import ConsentDocument
from accounts.selectors import ClaimantReadiness, claimant_readiness
from accounts.services.consents import ConsentError, consent_accept
from accounts.services.signing import power_of_attorney_sign
from accounts.tests.factories import ClaimantFactory, UserFactory, consent_documents_published, identity_verified
from core.audit import RequestMeta
from payments.tests.factories import retainer_paid_in_sandbox

META = RequestMeta(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0")
PRIVACY = ConsentDocument(kind=ConsentDocument.Kind.PRIVACY_REQUIRED, version=1)
POWER_OF_ATTORNEY_TEXT = ConsentDocument(kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, version=1)


def _readiness(
    *, email=True, profile=True, missing=(), signed=True, identity=True, signature_counts=None
) -> ClaimantReadiness:
    return ClaimantReadiness(
        email_verified=email,
        profile_complete=profile,
        consents_missing=list(missing),
        power_of_attorney_signed=signed,
        power_of_attorney_counts_for_identity=signed if signature_counts is None else signature_counts,
        identity_verified=identity,
    )


@claimant_required
def _claimant_only_view(request):
    return HttpResponse("claim page")


# The list and the next-step function, on plain readiness values ----------------------------------------------------


def test_the_journey_is_email_profile_consents_the_power_of_attorney_identity_then_the_retainer():
    assert [step.key for step in JOURNEY] == [
        "email",
        "profile",
        "consents",
        "power_of_attorney",
        "identity",
        "retainer",
    ]
    assert [step.blocks_filing for step in JOURNEY] == [False, False, True, True, True, True]


def test_the_identity_step_is_left_out_while_no_identity_provider_is_available(settings):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    assert [step.key for step in journey.journey_steps(readiness=_readiness(signed=False, identity=False))] == [
        "email",
        "profile",
        "consents",
        "power_of_attorney",
    ]
    assert journey_next_step(readiness=_readiness(signed=False, identity=False)).key == "power_of_attorney"


def test_signing_comes_before_the_identity_step_whose_page_it_does_not_hold_up():
    assert journey_next_step(readiness=_readiness(signed=False, identity=False)).key == "power_of_attorney"
    only_the_text = _readiness(missing=[POWER_OF_ATTORNEY_TEXT], signed=False, identity=False)
    assert journey_step_blocker(readiness=only_the_text, key=journey.POWER_OF_ATTORNEY) is None
    assert journey_step_blocker(readiness=only_the_text, key=journey.IDENTITY) is None  # may check before signing


def test_a_certified_or_earlier_signature_completes_the_identity_step_but_one_drawn_while_it_was_open_does_not():
    # certified, or drawn/typed before identity checks were switched on: done
    assert journey_next_step(readiness=_readiness(identity=False)) is None
    # drawn or typed while the identity step was open (marked): the identity check comes next
    drawn = _readiness(identity=False, signature_counts=False)
    assert journey_next_step(readiness=drawn).key == "identity"
    assert journey_next_step(readiness=_readiness(signature_counts=False)) is None  # checked as well


@pytest.mark.parametrize(
    ("readiness", "expected"),
    [
        (_readiness(email=False, profile=False, missing=[PRIVACY], signed=False), "email"),
        (_readiness(email=False), "email"),
        (_readiness(profile=False, missing=[PRIVACY], signed=False), "profile"),
        (_readiness(missing=[PRIVACY, POWER_OF_ATTORNEY_TEXT], signed=False), "consents"),
        (_readiness(missing=[POWER_OF_ATTORNEY_TEXT], signed=False), "consents"),  # the guard's consents page
        (_readiness(missing=[POWER_OF_ATTORNEY_TEXT]), "consents"),  # a new power-of-attorney version
        (_readiness(signed=False), "power_of_attorney"),
        (_readiness(), None),
    ],
)
def test_the_next_step_is_the_first_one_not_done(readiness, expected):
    step = journey_next_step(readiness=readiness)
    assert (step.key if step else None) == expected


def test_signing_may_start_once_the_privacy_consent_is_given_as_it_accepts_the_power_of_attorney_text_itself():
    only_the_text = _readiness(missing=[POWER_OF_ATTORNEY_TEXT], signed=False)
    assert journey_step_blocker(readiness=only_the_text, key=journey.POWER_OF_ATTORNEY) is None  # identity verified
    assert journey_step_blocker(readiness=only_the_text, key=journey.CONSENTS) is None
    privacy = _readiness(missing=[PRIVACY, POWER_OF_ATTORNEY_TEXT], signed=False)
    assert journey_step_blocker(readiness=privacy, key=journey.POWER_OF_ATTORNEY).key == "consents"
    no_profile = _readiness(profile=False, missing=[PRIVACY], signed=False)
    assert journey_step_blocker(readiness=no_profile, key=journey.POWER_OF_ATTORNEY).key == "profile"
    assert journey_step_blocker(readiness=no_profile, key=journey.CONSENTS).key == "profile"
    assert journey_step_blocker(readiness=_readiness(email=False), key=journey.EMAIL) is None


def test_only_the_steps_that_block_filing_are_problems_for_a_claim_in_the_journeys_order():
    assert journey_filing_problems(readiness=_readiness()) == []
    assert journey_filing_problems(readiness=_readiness(email=False, profile=False)) == []
    assert journey_filing_problems(readiness=_readiness(missing=[PRIVACY], signed=False)) == [
        "최신 개인정보 수집·이용 동의와 위임 약정에 동의해 주세요.",
        "소송위임장에 서명해 주세요.",
    ]
    assert journey_filing_problems(readiness=_readiness(signed=False)) == ["소송위임장에 서명해 주세요."]


def test_a_steps_url_carries_next_unless_the_step_does_not_keep_it():
    email, profile = JOURNEY[0], JOURNEY[1]
    assert journey_step_url(email, next_url="/claims/new/") == reverse("accounts:verify_email_sent")
    assert (
        journey_step_url(profile, next_url="/claims/new/") == reverse("accounts:profile") + "?next=%2Fclaims%2Fnew%2F"
    )
    assert journey_step_url(profile) == reverse("accounts:profile")


# A claimant's real state, from the database and the guard's cache --------------------------------------------------


@pytest.mark.django_db
def test_a_claimant_goes_through_the_steps_in_order():
    documents = consent_documents_published()
    claimant = UserFactory(email_verified_at=None)
    assert claimant_next_step(user=claimant).key == "email"
    claimant = ClaimantFactory(legal_name="")
    assert claimant_next_step(user=claimant).key == "profile"
    claimant = ClaimantFactory()
    assert claimant_next_step(user=claimant).key == "consents"
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    # The power-of-attorney text is still to accept: the guard's consents page sends the claimant on to signing,
    # which comes before the identity step (a certified signature finishes both).
    assert claimant_next_step(user=claimant).key == "consents"
    assert journey_step_blocker(readiness=claimant_readiness(user=claimant), key=journey.POWER_OF_ATTORNEY) is None
    power_of_attorney_sign(
        user=claimant, document=documents["power_of_attorney"], meta=META, typed_name=claimant.legal_name
    )
    # Signed by typing the name: the identity check is still to do.
    assert claimant_next_step(user=claimant).key == "identity"
    identity_verified(claimant)
    # The seeded fee terms ask for a retainer and the sandbox gateway takes it (payments registers the step).
    assert claimant_next_step(user=claimant).key == "retainer"
    retainer_paid_in_sandbox(claimant)
    assert claimant_next_step(user=claimant) is None


@pytest.mark.django_db
def test_the_progress_shows_done_current_and_todo_steps():
    consent_documents_published()
    claimant = ClaimantFactory()
    states = [(state.step.key, state.state) for state in claimant_steps(user=claimant)]
    assert states == [
        ("email", "done"),
        ("profile", "done"),
        ("consents", "current"),
        ("power_of_attorney", "todo"),
        ("identity", "todo"),
        ("retainer", "todo"),
    ]


@pytest.mark.django_db
def test_the_next_step_of_a_claimant_who_has_done_everything_costs_no_query(django_assert_num_queries):
    documents = consent_documents_published()
    claimant = ClaimantFactory()
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    identity_verified(claimant)
    power_of_attorney_sign(
        user=claimant, document=documents["power_of_attorney"], meta=META, typed_name=claimant.legal_name
    )
    retainer_paid_in_sandbox(claimant)
    assert claimant_next_step(user=claimant) is None  # now cached
    with django_assert_num_queries(0):
        assert claimant_next_step(user=claimant) is None
        assert all(state.state == "done" for state in claimant_steps(user=claimant))


# One list: a step added to it is the guard's redirect, a refusal and a problem ------------------------------------


@pytest.mark.django_db
def test_adding_a_step_to_the_list_changes_the_guard_the_signing_service_the_filing_problems_and_the_account_page(
    rf, client, monkeypatch
):
    documents = consent_documents_published()
    claimant = ClaimantFactory()
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    request = rf.get("/claims/new/")
    request.user = claimant
    response = _claimant_only_view(request)
    assert response["Location"] == reverse("accounts:consents") + "?next=%2Fclaims%2Fnew%2F"

    identity = JourneyStep(
        key="identity",
        label=gettext_lazy("본인 확인"),
        url_name="accounts:account",
        action=gettext_lazy("확인하기"),
        done=lambda readiness: False,
        blocks_filing=True,
        problem=gettext_lazy("본인 확인을 마쳐 주세요."),
        refusal=gettext_lazy("본인 확인을 먼저 마쳐 주세요."),
    )
    monkeypatch.setattr(journey, "JOURNEY", (*JOURNEY[:2], identity, *JOURNEY[2:]))

    response = _claimant_only_view(request)
    assert response["Location"] == reverse("accounts:account") + "?next=%2Fclaims%2Fnew%2F"
    assert claimant_next_step(user=claimant).key == "identity"
    with pytest.raises(ConsentError, match="본인 확인을 먼저"):
        power_of_attorney_sign(
            user=claimant, document=documents["power_of_attorney"], meta=META, typed_name=claimant.legal_name
        )
    assert journey_filing_problems(readiness=_readiness())[0] == "본인 확인을 마쳐 주세요."
    client.force_login(claimant)
    page = client.get(reverse("accounts:account")).content.decode()
    assert page.index("프로필") < page.index("본인 확인") < page.index("개인정보 동의")

    monkeypatch.setattr(journey, "JOURNEY", JOURNEY)
    assert _claimant_only_view(request)["Location"].startswith(reverse("accounts:consents"))


@pytest.mark.django_db
def test_the_account_page_lists_the_steps_in_order_with_a_link_to_each_open_one(client):
    consent_documents_published()
    claimant = ClaimantFactory()
    client.force_login(claimant)
    page = client.get(reverse("accounts:account")).content.decode()
    labels = [
        "이메일 인증",
        "프로필 (이름·생년월일·휴대전화·주소)",
        "개인정보 동의",
        "소송위임장 서명",
        "본인인증 (",
        "착수금 결제",
    ]
    assert [page.index(label) for label in labels] == sorted(page.index(label) for label in labels)
    # Open: consents, identity, signing and the retainer.
    assert page.count("완료</span>") == 2 and page.count("필요</span>") == 4
    assert ">인증하기</a>" not in page and ">채우기</a>" not in page  # done: no link
    assert f'href="{reverse("accounts:consents")}"' in page  # managing consents stays linked
    assert f'href="{reverse("accounts:power_of_attorney_sign")}"' in page


PASSWORD = "a-long-Korean-passphrase-2022"


@pytest.mark.django_db
def test_signing_in_with_a_password_lands_on_the_next_unfinished_step_unless_next_says_otherwise(client):
    from claims.tests.factories import claimant_ready  # a test helper of the app above (the wizard it lands on)

    consent_documents_published()
    ClaimantFactory(email="step@example.com", password=PASSWORD)
    credentials = {"username": "step@example.com", "password": PASSWORD}

    response = client.post(reverse("accounts:login"), credentials)
    assert response["Location"] == reverse("accounts:consents")

    client.logout()
    response = client.post(reverse("accounts:login") + "?next=/accounts/profile/", credentials)
    assert response["Location"] == "/accounts/profile/"

    client.logout()
    claimant_ready(email="done@example.com", password=PASSWORD)
    response = client.post(reverse("accounts:login"), {**credentials, "username": "done@example.com"})
    assert response["Location"] == reverse("claims:start")  # every step done: the claim wizard


@pytest.mark.django_db
def test_after_signing_the_power_of_attorney_the_claimant_goes_on_to_the_claim_wizard(client, settings):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    settings.PAYMENT_BACKEND = "integrations.payments.UnconfiguredPaymentGateway"
    documents = consent_documents_published()
    claimant = ClaimantFactory()
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    client.force_login(claimant)
    sign = reverse("accounts:power_of_attorney_sign")

    response = client.post(sign, {"method": "typed", "typed_name": claimant.legal_name, "confirm": "on"})

    assert response.status_code == 302 and response["Location"] == reverse("claims:start")
    page = client.get(sign).content.decode()
    assert f'href="{reverse("claims:start")}" data-testid="poa-continue"' in page  # not home, not an empty portal
    # A `next` back to the signing page itself (the identity step sends it there) does not hold the claimant.
    assert journey_next_url(user=claimant) == reverse("claims:start")


@pytest.mark.django_db
def test_the_checklist_shows_done_current_and_todo_steps_with_aria_current(client):
    consent_documents_published()
    claimant = ClaimantFactory()
    client.force_login(claimant)

    html = client.get(reverse("accounts:consents")).content.decode()

    assert 'data-testid="journey-checklist"' in html
    assert html.count('aria-current="step"') == 1
    assert 'data-state="done"' in html and 'data-state="current"' in html and 'data-state="todo"' in html
    current = html.split('aria-current="step"', 1)[1].split("</li>", 1)[0]
    assert "개인정보 동의" in current and "지금 할 단계" in current  # said in words, not by colour alone


@pytest.mark.django_db
def test_on_the_signing_page_the_checklist_shows_the_consents_done_and_signing_current(client, settings):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    documents = consent_documents_published()
    claimant = ClaimantFactory()
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    client.force_login(claimant)

    html = client.get(reverse("accounts:power_of_attorney_sign")).content.decode()

    current = html.split('aria-current="step"', 1)[1].split("</li>", 1)[0]
    assert "소송위임장 서명" in current  # the power-of-attorney text still to accept is accepted by signing
