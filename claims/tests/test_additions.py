"""The portal across incidents and after submission: a claim for another incident (one per claimant and incident),
files and notes added to a submitted claim (audited, new to staff until a reviewer marks them seen), "missing"
items linking to their upload, the evidence page's state after each upload, and the owner's thumbnails."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from claims import closing
from claims.models import Claim, ClaimEvent, Evidence, Incident
from claims.selectors import intake as selectors
from claims.selectors.review import claim_review_detail
from claims.services import evidence as evidence_services
from claims.services import intake
from claims.services.evidence_previews import evidence_preview_render
from claims.services.intake import ClaimError
from claims.services.review import ReviewError, claim_additions_mark_seen
from claims.tests.factories import (
    ClaimFactory,
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    pdf_bytes,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

KAKAOTALK_2021 = "kakaotalk-2021-05-05"


@pytest.fixture
def submitted(claimant):
    claim = SubmittedClaimFactory(claimant=claimant)
    claim.services.set([service_by_slug("kakao-t")])
    return claim


def png_upload(name: str = "late.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes())


# --- several incidents -------------------------------------------------------------------------------------------


def test_a_claimant_with_a_claim_can_start_one_for_another_incident(claimant, submitted):
    other = Incident.objects.get(slug=KAKAOTALK_2021)
    assert other in selectors.incidents_open_for_claimant(user=claimant)
    assert submitted.incident not in selectors.incidents_open_for_claimant(user=claimant)
    claim = intake.claim_start(
        claimant=claimant, incident=other, services=[service_by_slug("kakaotalk")], was_using=True
    )
    assert claim.incident == other and claim.status == Claim.Status.DRAFT
    assert Claim.objects.filter(claimant=claimant).count() == 2
    assert other not in selectors.incidents_open_for_claimant(user=claimant)


def test_a_second_claim_for_the_same_incident_is_refused_and_names_the_existing_one(claimant, submitted):
    with pytest.raises(ClaimError) as refused:
        intake.claim_start(
            claimant=claimant, incident=submitted.incident, services=[service_by_slug("kakao-t")], was_using=True
        )
    assert refused.value.claim == submitted
    assert "이미" in refused.value.message


def test_incidents_closed_for_claims_are_not_offered(claimant):
    Incident.objects.filter(slug=KAKAOTALK_2021).update(accepting_claims=False)
    assert not selectors.incidents_open_for_claimant(user=claimant).filter(slug=KAKAOTALK_2021).exists()


def test_the_portal_lists_each_other_incident_with_a_start_button(client, submitted):
    html = client.get(reverse("claims:index")).content.decode()
    start = f"{reverse('claims:start')}?incident={KAKAOTALK_2021}"
    assert start in html
    assert f"incident={submitted.incident.slug}" not in html  # already claimed


def test_the_wizard_starts_a_claim_for_the_chosen_incident(client, claimant, submitted):
    other = Incident.objects.get(slug=KAKAOTALK_2021)
    url = f"{reverse('claims:start')}?incident={KAKAOTALK_2021}"
    page = client.get(url)
    assert other.name_ko in page.content.decode()
    window = other.outage_windows.get(service__slug="kakaotalk")
    response = client.post(
        reverse("claims:start"), {"incident": KAKAOTALK_2021, "windows": [window.pk], "was_using": "yes"}
    )
    claim = Claim.objects.get(claimant=claimant, incident=other)
    assert response.status_code == 302 and response.url == reverse("claims:wizard_claimant", args=[claim.pk])


def test_choosing_an_incident_already_claimed_says_so_and_opens_that_claim(client, submitted):
    response = client.get(f"{reverse('claims:start')}?incident={submitted.incident.slug}", follow=True)
    assert response.redirect_chain[-1][0] == reverse("claims:detail", args=[submitted.pk])
    assert "이미 신청이 있습니다" in response.content.decode()


# --- after submission: services -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (Claim.Status.SUBMITTED, True),
        (Claim.Status.IN_REVIEW, True),
        (Claim.Status.INFO_REQUESTED, True),
        (Claim.Status.ACCEPTED, True),
        (Claim.Status.REJECTED, False),
        (Claim.Status.WITHDRAWN, False),
    ],
)
def test_which_statuses_take_files_and_notes_after_submission(submitted, status, allowed):
    submitted.status = status
    submitted.save(update_fields=["status"])
    assert intake.claim_additions_allowed(claim=submitted) is allowed
    if allowed:
        evidence_services.evidence_attach(
            claim=submitted, actor=submitted.claimant, upload=png_upload(), tag="proof_of_use"
        )
        intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="택시 호출 실패 화면을 더 올립니다.")
        assert submitted.events.filter(kind=ClaimEvent.Kind.NOTE_ADDED).exists()
    else:
        with pytest.raises(ClaimError):
            evidence_services.evidence_attach(
                claim=submitted, actor=submitted.claimant, upload=png_upload(), tag="proof_of_use"
            )
        with pytest.raises(ClaimError):
            intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="메모")
        assert not Evidence.objects.filter(claim=submitted).exists()


def test_a_filed_claim_takes_nothing_more(submitted, monkeypatch):
    monkeypatch.setattr(closing, "_CLAIM_FILED_CHECKS", [lambda *, claim_id: claim_id == submitted.pk])
    with pytest.raises(ClaimError) as refused:
        intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="메모")
    assert "소를 제기" in refused.value.message


def test_a_file_added_after_submission_is_audited_and_new_to_staff(submitted):
    evidence = evidence_services.evidence_attach(
        claim=submitted, actor=submitted.claimant, upload=png_upload(), tag="proof_of_use"
    )
    event = submitted.events.get(kind=ClaimEvent.Kind.EVIDENCE_ADDED)
    assert event.data["after_submission"] is True and event.data["evidence"] == evidence.pk
    audit = AuditEntry.objects.get(action=AuditEntry.Action.CLAIMANT_ADDED)
    assert audit.claim_id == submitted.pk and audit.actor == submitted.claimant and audit.data["event"] == event.pk
    detail = claim_review_detail(claim=submitted)
    assert [e.pk for e in detail.new_additions] == [event.pk]
    assert detail.new_additions[0].evidence == evidence


def test_a_note_after_submission_is_audited_on_the_timeline_and_shown_to_the_claimant(client, submitted):
    event = intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="  영수증 원본은 우편으로 보냅니다. ")
    assert event.message == "영수증 원본은 우편으로 보냅니다." and event.data == {"after_submission": True}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CLAIMANT_ADDED, data__event=event.pk).exists()
    assert (
        "영수증 원본은 우편으로 보냅니다." in client.get(reverse("claims:detail", args=[submitted.pk])).content.decode()
    )


def test_an_empty_note_or_a_note_on_a_draft_is_refused(claimant, submitted):
    with pytest.raises(ClaimError):
        intake.claim_note_add(claim=submitted, actor=claimant, text="   ")
    draft = ClaimFactory(claimant=claimant, incident=Incident.objects.get(slug=KAKAOTALK_2021))
    with pytest.raises(ClaimError):
        intake.claim_note_add(claim=draft, actor=claimant, text="메모")


def test_files_added_to_a_draft_are_not_additions(claimant):
    draft = ClaimFactory(claimant=claimant)
    draft.services.set([service_by_slug("kakao-t")])
    evidence_services.evidence_attach(claim=draft, actor=claimant, upload=png_upload(), tag="proof_of_use")
    assert "after_submission" not in draft.events.get(kind=ClaimEvent.Kind.EVIDENCE_ADDED).data
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CLAIMANT_ADDED).exists()


def test_a_reviewer_marks_additions_seen_and_only_later_ones_stay_new(submitted):
    reviewer = staff_member()
    first = intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="첫 메모")
    second = intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="두 번째 메모")
    claim_additions_mark_seen(claim=submitted, actor=reviewer, seen_through=first.pk)  # the page showed only one
    submitted.refresh_from_db()
    assert submitted.additions_seen_through == first.pk
    assert [e.pk for e in claim_review_detail(claim=submitted).new_additions] == [second.pk]
    claim_additions_mark_seen(claim=submitted, actor=reviewer, seen_through=second.pk)
    assert claim_review_detail(claim=submitted).new_additions == []
    seen = submitted.events.filter(kind=ClaimEvent.Kind.ADDITIONS_SEEN)
    assert seen.count() == 2 and seen.last().actor == reviewer
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ADDITIONS_SEEN, actor=reviewer).count() == 2
    claim_additions_mark_seen(claim=submitted, actor=reviewer, seen_through=second.pk)  # again: nothing changes
    assert seen.count() == 2


def test_marking_additions_seen_needs_the_review_permission(submitted):
    from accounts.roles import Role

    intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="메모")
    with pytest.raises(ReviewError):
        claim_additions_mark_seen(claim=submitted, actor=staff_member(Role.VIEWER), seen_through=10**9)


# --- after submission: pages --------------------------------------------------------------------------------------


def test_the_claim_page_links_each_missing_item_to_its_preselected_upload(client, submitted):
    item = LossItemFactory(claim=submitted, service=service_by_slug("kakao-t"))
    html = client.get(reverse("claims:detail", args=[submitted.pk])).content.decode()
    additions = reverse("claims:additions", args=[submitted.pk])
    assert f"{additions}?tag=proof_of_use#upload" in html
    assert f"{additions}?tag=subscription_payment&amp;loss_item={item.pk}#upload" in html
    page = client.get(f"{additions}?tag=subscription_payment&loss_item={item.pk}").content.decode()
    assert '<option value="subscription_payment" selected>' in page
    assert f'<option value="{item.pk}" selected>' in page


def test_the_draft_review_page_links_missing_items_to_the_evidence_step(client, draft):
    item = LossItemFactory(claim=draft, service=service_by_slug("kakao-t"))
    html = client.get(reverse("claims:wizard_review", args=[draft.pk])).content.decode()
    evidence_step = reverse("claims:wizard_evidence", args=[draft.pk])
    assert f"{evidence_step}?tag=proof_of_use#upload" in html
    assert f"{evidence_step}?tag=subscription_payment&amp;loss_item={item.pk}#upload" in html


def test_a_claimant_adds_a_file_and_a_note_from_the_portal_without_javascript(client, submitted):
    additions = reverse("claims:additions", args=[submitted.pk])
    response = client.post(
        reverse("claims:evidence_upload", args=[submitted.pk]),
        {"tag": "proof_of_use", "file": png_upload("call-failed.png"), "next": additions},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == additions
    html = response.content.decode()
    assert "call-failed.png" in html and "올린 파일 1개" in html
    assert "장애 당시 이용 증빙을 올렸습니다." in html
    response = client.post(additions, {"text": "오후 6시에 찍은 화면입니다."}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("claims:detail", args=[submitted.pk])
    assert submitted.events.filter(kind=ClaimEvent.Kind.NOTE_ADDED, message="오후 6시에 찍은 화면입니다.").exists()


def test_the_additions_page_sends_a_closed_claim_back_with_the_reason(client, submitted):
    submitted.status = Claim.Status.REJECTED
    submitted.save(update_fields=["status"])
    response = client.get(reverse("claims:additions", args=[submitted.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("claims:detail", args=[submitted.pk])
    assert "더 이상 자료를 추가할 수 없습니다" in response.content.decode()
    assert client.post(reverse("claims:additions", args=[submitted.pk]), {"text": "메모"}).status_code == 302
    assert not submitted.events.filter(kind=ClaimEvent.Kind.NOTE_ADDED).exists()


def test_the_review_page_shows_additions_as_new_until_a_reviewer_marks_them_seen(client, submitted):
    note = intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="새 메모입니다")
    evidence_services.evidence_attach(
        claim=submitted, actor=submitted.claimant, upload=png_upload("new-proof.png"), tag="proof_of_use"
    )
    staff = admin_login(client, staff_member())
    change = reverse("admin:claims_claim_change", args=[submitted.pk])
    html = staff.get(change).content.decode()
    assert 'data-testid="new-additions"' in html and "새 메모입니다" in html and "new-proof.png" in html
    assert html.count('data-testid="timeline-new"') == 2
    newest = submitted.events.filter(kind=ClaimEvent.Kind.EVIDENCE_ADDED).get().pk
    assert newest > note.pk
    response = staff.post(
        reverse("admin:claims_claim_review", args=[submitted.pk, "additions_seen"]),
        {"expected_version": submitted.version, "seen_through": newest},
    )
    assert response.status_code == 302
    html = staff.get(change).content.decode()
    assert 'data-testid="new-additions"' not in html and 'data-testid="timeline-new"' not in html


# --- the evidence page's state and thumbnails ---------------------------------------------------------------------


def test_an_upload_answers_with_the_current_count_and_warnings(client, draft):
    response = client.post(
        reverse("claims:evidence_upload", args=[draft.pk]),
        {"tag": "proof_of_use", "file": png_upload()},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 201
    state = response.json()["state"]
    assert "올린 파일 1개" in state["count"] and 'data-evidence-state="count"' in state["count"]
    assert "장애 당시 이용 증빙을 올렸습니다." in state["summary"]
    assert 'data-evidence-state="summary"' in state["summary"]


def test_the_evidence_page_is_current_after_a_removal(client, draft):
    evidence = EvidenceFactory(claim=draft)
    assert "올린 파일 1개" in client.get(reverse("claims:wizard_evidence", args=[draft.pk])).content.decode()
    response = client.post(reverse("claims:evidence_remove", args=[draft.pk, evidence.pk]), follow=True)
    html = response.content.decode()
    assert "올린 파일 0개" in html and "가장 중요한 자료" in html


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_owner_gets_a_small_thumbnail_of_a_picture_from_its_display_copy(client, draft):
    evidence = evidence_services.evidence_attach(
        claim=draft, actor=draft.claimant, upload=SimpleUploadedFile("big.png", png_bytes(size=(800, 600))), tag="other"
    )
    url = reverse("claims:evidence_thumbnail", args=[draft.pk, evidence.pk])
    assert client.get(url).status_code == 404  # no display copy yet: never a thumbnail of the upload itself
    evidence_preview_render(evidence_id=evidence.pk)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert max(_image(response.content).size) <= 160
    html = client.get(reverse("claims:wizard_evidence", args=[draft.pk])).content.decode()
    assert reverse("claims:evidence_thumbnail", args=[draft.pk, evidence.pk]) in html


def test_a_pdf_thumbnail_comes_from_its_preview_page_never_the_pdf(client, draft):
    evidence = EvidenceFactory(claim=draft, content_type="application/pdf", file=ContentFile(pdf_bytes(), name="a.pdf"))
    url = reverse("claims:evidence_thumbnail", args=[draft.pk, evidence.pk])
    assert client.get(url).status_code == 404  # preview not drawn yet: no thumbnail, a placeholder on the page
    name = default_storage.save("evidence/preview", ContentFile(png_bytes(size=(909, 1286))))
    evidence.preview_status = Evidence.PreviewStatus.READY
    evidence.preview_pages = [{"name": name, "width": 909, "height": 1286}]
    evidence.save()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert max(_image(response.content).size) <= 160


def test_another_claimant_gets_no_thumbnail(client, draft):
    evidence = evidence_services.evidence_attach(
        claim=draft, actor=draft.claimant, upload=png_upload(), tag="proof_of_use"
    )
    client.force_login(claimant_ready())
    assert client.get(reverse("claims:evidence_thumbnail", args=[draft.pk, evidence.pk])).status_code == 404


def test_the_additions_page_runs_a_fixed_number_of_queries(client, submitted, django_assert_max_num_queries):
    for _ in range(5):
        EvidenceFactory(claim=submitted, loss_item=LossItemFactory(claim=submitted, service=service_by_slug("kakao-t")))
    with django_assert_max_num_queries(16):
        assert client.get(reverse("claims:additions", args=[submitted.pk])).status_code == 200


def test_the_claim_list_filters_claims_with_unseen_additions(client, submitted):
    other = SubmittedClaimFactory()
    note = intake.claim_note_add(claim=submitted, actor=submitted.claimant, text="메모")
    staff = admin_login(client, staff_member())
    url = reverse("admin:claims_claim_changelist") + "?new_additions=yes"
    html = staff.get(url).content.decode()
    assert submitted.reference_code in html and other.reference_code not in html
    claim_additions_mark_seen(claim=submitted, actor=staff_member(), seen_through=note.pk)
    assert submitted.reference_code not in staff.get(url).content.decode()
