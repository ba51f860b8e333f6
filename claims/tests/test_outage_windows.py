"""Corrections to outage windows: every change is a revision (who, when, why, from where) with an audit entry;
estimates record the revision they used; staff see how many claims a correction affects and a Lawyer recomputes
them in the background; estimate explanations show the window used."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from claims.models import Claim, Estimate, OutageWindow, OutageWindowRevision, RecomputeJob
from claims.reference import reference_file_version
from claims.selectors.reference import estimate_windows, window_affected_claims, window_affected_counts
from claims.services.estimates import estimates_refresh
from claims.services.reference import (
    COMMAND_ACTOR,
    OutageWindowError,
    outage_window_recompute,
    outage_window_revise,
)
from claims.tests.factories import (
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    default_incident,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry

KST = ZoneInfo("Asia/Seoul")
pytestmark = pytest.mark.django_db


def window_of(slug: str) -> OutageWindow:
    return OutageWindow.objects.select_related("incident", "service").get(
        incident=default_incident(), service__slug=slug
    )


def estimated_claims(count: int, *, service: str = "kakao-t") -> list[Claim]:
    claims = []
    for _ in range(count):
        claim = SubmittedClaimFactory()
        LossItemFactory(claim=claim, service=service_by_slug(service))
        claims.append(claim)
    estimates_refresh(claim_ids=[claim.pk for claim in claims])
    return claims


def current_estimate(claim: Claim) -> Estimate:
    return Estimate.objects.get(claim=claim, is_current=True)


def correct(window: OutageWindow, *, hours: int = 2, actor=None, **changes) -> OutageWindowRevision:
    """Move the window's end later by `hours` (and apply `changes`), as a script would."""
    return outage_window_revise(
        window=window,
        changes={"end": window.end + timedelta(hours=hours), **changes},
        reason="운영사 공지 재확인",
        source=OutageWindowRevision.Source.COMMAND,
        actor=actor,
        actor_label="test script",
    )


# --- the history ----------------------------------------------------------------------------------------------


def test_every_window_starts_its_history_at_revision_one():
    assert not OutageWindow.objects.exclude(revision=1).exists()
    window = window_of("kakao-t")
    (first,) = window.revisions.all()
    assert (first.number, first.source, first.end, first.end_kind) == (
        1,
        OutageWindowRevision.Source.INITIAL,
        window.end,
        window.end_kind,
    )


def test_a_correction_records_who_when_why_and_where_from_with_an_audit_entry():
    lawyer = staff_member(Role.LAWYER)
    window = window_of("kakao-t")
    old_end = window.end
    new_end = old_end + timedelta(hours=3)

    revision = outage_window_revise(
        window=window,
        changes={"end": new_end, "end_kind": OutageWindow.EndKind.EXACT, "confidence": OutageWindow.Confidence.HIGH},
        reason="국회 제출 자료로 확인",
        source=OutageWindowRevision.Source.ADMIN,
        actor=lawyer,
    )

    window.refresh_from_db()
    assert (window.revision, window.end, window.end_kind) == (2, new_end, OutageWindow.EndKind.EXACT)
    assert (revision.number, revision.end, revision.confidence) == (2, new_end, OutageWindow.Confidence.HIGH)
    assert (revision.actor, revision.reason, revision.source) == (lawyer, "국회 제출 자료로 확인", "admin")
    assert sorted(revision.changed) == ["confidence", "end", "end_kind"]
    assert revision.created_at is not None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.WINDOW_REVISED, object_id=str(window.pk))
    assert entry.actor == lawyer
    assert entry.data["revision"] == 2
    assert entry.data["changed"]["end"] == [old_end.isoformat(), new_end.isoformat()]
    assert entry.data["reason"] == "국회 제출 자료로 확인"


def test_an_admin_correction_needs_a_reason_and_no_change_writes_no_revision():
    lawyer = staff_member(Role.LAWYER)
    window = window_of("kakao-t")
    with pytest.raises(OutageWindowError):
        outage_window_revise(
            window=window,
            changes={"end": window.end + timedelta(hours=1)},
            reason="  ",
            source=OutageWindowRevision.Source.ADMIN,
            actor=lawyer,
        )
    same = outage_window_revise(
        window=window, changes={"end": window.end}, reason="", source=OutageWindowRevision.Source.ADMIN, actor=lawyer
    )
    assert same is None
    assert window.revisions.count() == 1
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.WINDOW_REVISED).exists()


def test_a_paralegal_cannot_correct_a_window():
    with pytest.raises(PermissionDenied):
        correct(window_of("kakao-t"), actor=staff_member(Role.PARALEGAL))


def test_load_reference_data_revises_a_changed_window_and_leaves_unchanged_ones_alone():
    window = window_of("kakao-t")
    file_end = window.end
    OutageWindow.objects.filter(pk=window.pk).update(end=file_end + timedelta(hours=5))  # drifted from the file

    call_command("load_reference_data", "--reason", "파일로 되돌림", verbosity=0)

    window.refresh_from_db()
    assert (window.end, window.revision) == (file_end, 2)
    revision = window.revisions.get(number=2)
    assert revision.source == OutageWindowRevision.Source.REFERENCE_FILE
    assert revision.source_detail == reference_file_version()
    assert revision.source_detail.startswith("incidents.yaml sha256:")
    assert (revision.actor, revision.actor_label, revision.reason) == (None, COMMAND_ACTOR, "파일로 되돌림")
    assert OutageWindowRevision.objects.count() == OutageWindow.objects.count() + 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WINDOW_REVISED).count() == 1

    call_command("load_reference_data", verbosity=0)  # nothing changed since: no revision
    assert OutageWindowRevision.objects.count() == OutageWindow.objects.count() + 1


# --- estimates record the revision ------------------------------------------------------------------------------


def test_an_estimate_records_the_revision_of_each_window_it_used():
    (claim,) = estimated_claims(1)
    LossItemFactory(claim=claim, service=service_by_slug("melon"))
    estimates_refresh(claim_ids=[claim.pk])
    correct(window_of("melon"))
    LossItemFactory(claim=claim, service=service_by_slug("melon"), monthly_fee=10_900)
    estimates_refresh(claim_ids=[claim.pk])

    assert current_estimate(claim).window_revisions == {"kakao-t": 1, "melon": 2}


def test_a_correction_of_only_the_confidence_reaches_the_estimate_when_recomputed():
    (claim,) = estimated_claims(1)
    before = current_estimate(claim)
    correct(window_of("kakao-t"), hours=0, confidence=OutageWindow.Confidence.LOW)

    estimates_refresh(claim_ids=[claim.pk])

    after = current_estimate(claim)
    assert after.pk != before.pk and after.total == before.total
    assert after.window_revisions == {"kakao-t": 2}
    assert after.breakdown["windows"][0]["confidence"] == "low"


# --- the affected count ----------------------------------------------------------------------------------------


def test_the_affected_count_is_the_claims_estimated_with_an_older_revision():
    on_kakao_t = estimated_claims(3)
    estimated_claims(2, service="melon")
    window = window_of("kakao-t")
    assert window_affected_claims(window=window).count() == 0

    correct(window)
    window.refresh_from_db()
    later = estimated_claims(1)  # estimated after the correction: already on revision 2

    assert set(window_affected_claims(window=window)) == set(on_kakao_t)
    melon = window_of("melon")
    assert window_affected_counts(windows=[window, melon]) == {window.pk: 3, melon.pk: 0}
    assert current_estimate(later[0]).window_revisions == {"kakao-t": 2}


def test_counting_every_window_of_an_incident_is_one_query():
    estimated_claims(2)
    correct(window_of("kakao-t"))
    windows = list(default_incident().outage_windows.select_related("service"))
    with CaptureQueriesContext(connection) as queries:
        counts = window_affected_counts(windows=windows)
    assert len(queries) == 1
    assert sum(counts.values()) == 2


# --- the admin ---------------------------------------------------------------------------------------------------


def change_url(window: OutageWindow) -> str:
    return reverse("admin:claims_outagewindow_change", args=[window.pk])


def admin_form(window: OutageWindow, **overrides) -> dict:
    local = {
        name: getattr(window, name).astimezone(KST) for name in ("start", "partial_end", "end") if getattr(window, name)
    }
    data = {
        "end_kind": window.end_kind,
        "confidence": window.confidence,
        "note": window.note,
        "source_url": window.source_url,
        "reason": "",
    }
    for name in ("start", "partial_end", "end"):
        data[f"{name}_0"] = local[name].strftime("%Y-%m-%d") if name in local else ""
        data[f"{name}_1"] = local[name].strftime("%H:%M:%S") if name in local else ""
    data.update(overrides)
    return data


def test_a_lawyer_corrects_a_window_in_the_admin_with_a_reason(client):
    lawyer = staff_member(Role.LAWYER)
    admin_login(client, lawyer)
    window = window_of("kakao-t")

    refused = client.post(change_url(window), admin_form(window, end_1="18:00:00"))
    assert refused.status_code == 200  # the form again, asking for the reason
    assert "정정 사유를 적어 주세요." in refused.content.decode()
    window.refresh_from_db()
    assert window.revision == 1

    response = client.post(change_url(window), admin_form(window, end_1="18:00:00", reason="카카오 공지"))

    assert response.status_code == 302
    window.refresh_from_db()
    assert window.end == datetime(2022, 10, 16, 18, 0, tzinfo=KST)
    revision = window.revisions.get(number=2)
    assert (revision.actor, revision.reason, revision.source) == (lawyer, "카카오 공지", "admin")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.WINDOW_REVISED)
    assert entry.ip is not None


def test_the_window_page_shows_the_affected_count_with_a_link_and_the_history(client, django_assert_max_num_queries):
    estimated_claims(2)
    window = window_of("kakao-t")
    correct(window)
    admin_login(client, staff_member(Role.LAWYER))

    page = client.get(change_url(window)).content.decode()

    list_url = f"{reverse('admin:claims_claim_changelist')}?window_corrected={window.pk}"
    assert f"href='{list_url}'" in page or f'href="{list_url}"' in page
    assert "2건" in page
    assert "운영사 공지 재확인" in page and "test script" in page
    assert "2022-10-16 16:00" in page  # the corrected end, in Seoul time
    claims_list = client.get(list_url)
    assert claims_list.status_code == 200
    assert len(claims_list.context["cl"].result_list) == 2


def test_the_incident_page_lists_each_window_s_affected_claims_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    estimated_claims(2)
    estimated_claims(1, service="melon")
    correct(window_of("kakao-t"))
    admin_login(client, staff_member(Role.PARALEGAL))
    url = reverse("admin:claims_incident_change", args=[default_incident().pk])
    client.get(url)  # warm the session and permission caches

    with django_assert_max_num_queries(15):
        page = client.get(url)

    assert page.status_code == 200
    assert page.content.decode().count("data-testid='affected-claims'") == 1


def test_a_paralegal_sees_the_count_but_no_button_and_the_recompute_is_refused(client):
    estimated_claims(1)
    window = window_of("kakao-t")
    correct(window)
    admin_login(client, staff_member(Role.PARALEGAL))

    page = client.get(change_url(window)).content.decode()
    assert "data-testid='affected-claims'" in page
    assert 'data-testid="recompute"' not in page
    response = client.post(reverse("admin:claims_outagewindow_recompute", args=[window.pk]))
    assert response.status_code == 403
    assert not RecomputeJob.objects.filter(outage_window=window).exists()
    with pytest.raises(PermissionDenied):
        outage_window_recompute(window=window, actor=staff_member(Role.PARALEGAL))


def test_a_lawyer_recompute_brings_every_affected_claim_to_the_new_revision_once(
    client, django_capture_on_commit_callbacks
):
    affected = estimated_claims(3)
    others = estimated_claims(2, service="melon")
    window = window_of("kakao-t")
    correct(window, hours=24)  # restored a day later: one more damaged day
    window.refresh_from_db()
    untouched = {claim.pk: current_estimate(claim).pk for claim in others}
    before = {claim.pk: current_estimate(claim) for claim in affected}
    lawyer = staff_member(Role.LAWYER)
    admin_login(client, lawyer)
    assert 'data-testid="recompute"' in client.get(change_url(window)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:claims_outagewindow_recompute", args=[window.pk]))

    job = RecomputeJob.objects.get(outage_window=window)
    assert response.status_code == 302 and response.url == reverse("admin:claims_recomputejob_change", args=[job.pk])
    assert (job.status, job.total, job.done, job.failures) == (RecomputeJob.Status.DONE, 3, 3, 0)
    assert job.requested_by == lawyer
    for claim in affected:
        estimates = Estimate.objects.filter(claim=claim).order_by("computed_at", "pk")
        assert estimates.count() == 2  # exactly one new estimate
        new = estimates.get(is_current=True)
        assert new.window_revisions == {"kakao-t": 2}
        assert new.total > before[claim.pk].total  # a later end: more damaged days
    assert {claim.pk: current_estimate(claim).pk for claim in others} == untouched
    assert window_affected_claims(window=window).count() == 0
    entry = AuditEntry.objects.get(action=AuditEntry.Action.RECOMPUTE_REQUESTED)
    assert (entry.actor, entry.data["affected"], entry.data["job"], entry.data["revision"]) == (lawyer, 3, job.pk, 2)

    # Nothing is left to recompute: a second request is refused with a message, no job.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:claims_outagewindow_recompute", args=[window.pk]))
    assert RecomputeJob.objects.filter(outage_window=window).count() == 1


def test_a_recompute_in_chunks_skips_claims_already_on_the_new_revision():
    from claims.services.estimates import recompute_chunk_run, recompute_job_plan

    affected = estimated_claims(4)
    window = window_of("kakao-t")
    correct(window)
    window.refresh_from_db()
    job = RecomputeJob.objects.create(model_version=current_estimate(affected[0]).model_version, outage_window=window)
    chunk_ids = recompute_job_plan(job_id=job.pk, chunk_size=2)
    estimates_refresh(claim_ids=[affected[0].pk])  # the claimant edited it meanwhile: estimated on revision 2

    for chunk_id in chunk_ids:
        recompute_chunk_run(chunk_id=chunk_id)
    job.refresh_from_db()

    assert (job.status, job.total, job.done) == (RecomputeJob.Status.DONE, 4, 4)
    assert [Estimate.objects.filter(claim=claim).count() for claim in affected] == [2, 2, 2, 2]


# --- explanations -------------------------------------------------------------------------------------------------


def test_the_breakdown_lists_the_window_used_with_how_its_end_is_known_and_its_revision():
    (claim,) = estimated_claims(1)
    window = window_of("kakao-t")
    (used,) = current_estimate(claim).breakdown["windows"]
    assert used == {
        "service": "kakao-t",
        "start": window.effective_start.isoformat(),
        "end": window.end.isoformat(),
        "end_kind": "as_of",
        "confidence": "medium",
        "revision": 1,
        "hours": "22.50",
    }


def test_staff_and_claimant_explanations_show_the_window_in_korean_and_english(client):
    claim = SubmittedClaimFactory(claimant=claimant_ready(), estimate_visible_to_claimant=True)
    LossItemFactory(claim=claim)
    estimates_refresh(claim_ids=[claim.pk])
    admin_login(client, staff_member(Role.PARALEGAL))
    review = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert 'data-testid="estimate-windows"' in review
    assert "2022-10-16 14:00" in review  # the end, in Seoul time
    assert "이 시각까지 복구 확인" in review and "보통" in review and "개정 1" in review

    client.logout()
    client.force_login(claim.claimant)
    mine = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "2022-10-15 15:30" in mine and "2022-10-16 14:00" in mine
    assert "이 시각까지 복구 확인" in mine and "개정 1" in mine
    detail = reverse("claims:detail", args=[claim.pk])
    client.post(reverse("set_language"), {"language": "en", "next": detail})
    english = client.get(detail).content.decode()
    assert "Outage windows used for this estimate" in english
    assert "confirmed working by this time" in english and "revision 1" in english

    with translation.override("en"):
        (window,) = estimate_windows(estimate=current_estimate(claim))
    assert (window.end_kind_label, window.confidence_label, window.revision) == (
        "confirmed working by this time",
        "medium",
        1,
    )
    assert window.service == "Kakao T (taxi, designated driver)"


def test_the_incident_page_still_saves_with_its_windows_listed_read_only(client):
    admin_login(client, staff_member(Role.LAWYER))
    incident = default_incident()
    url = reverse("admin:claims_incident_change", args=[incident.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "sources"}
    for name in (
        "outage_started",
        "outage_ended",
        "fire_started",
        "fire_extinguished",
        "power_restore_began",
        "power_fully_restored",
    ):
        value = getattr(incident, name)
        data.pop(name, None)
        if value:
            data[f"{name}_0"] = value.astimezone(KST).strftime("%Y-%m-%d")
            data[f"{name}_1"] = value.astimezone(KST).strftime("%H:%M:%S")
    data["sources"] = form["sources"].value()
    page = client.get(url)
    (inline,) = page.context["inline_admin_formsets"]
    formset = inline.formset
    data.update({f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()})
    for form in formset.forms:  # what the browser sends back for read-only rows: the ids
        data[f"{form.prefix}-id"] = form.instance.pk
        data[f"{form.prefix}-incident"] = incident.pk
    data["name_en"] = "Renamed"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    incident.refresh_from_db()
    assert incident.name_en == "Renamed"
    assert not OutageWindow.objects.exclude(revision=1).exists()


def test_the_migration_records_revision_one_or_zero_for_estimates_made_before_the_history():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("claims.migrations.0014_outage_window_history")
    (made_before_edit,) = estimated_claims(1)
    window = window_of("kakao-t")
    OutageWindow.objects.filter(pk=window.pk).update(end=window.end + timedelta(days=1))  # an edit without history
    (made_after_edit,) = estimated_claims(1)
    Estimate.objects.update(window_revisions={})  # as the migration finds them

    migration.estimates_record_revisions(apps, None)

    assert current_estimate(made_before_edit).window_revisions == {"kakao-t": 0}
    assert current_estimate(made_after_edit).window_revisions == {"kakao-t": 1}
    assert list(window_affected_claims(window=window_of("kakao-t"))) == [made_before_edit]


def test_a_window_added_in_the_admin_starts_at_revision_one_with_its_author(client):
    from claims.models import Service

    lawyer = staff_member(Role.LAWYER)
    admin_login(client, lawyer)
    service = Service.objects.create(slug="kakao-bank-test", name_ko="테스트 서비스")
    data = {
        "incident": default_incident().pk,
        "service": service.pk,
        "start_0": "",
        "start_1": "",
        "partial_end_0": "",
        "partial_end_1": "",
        "end_0": "2022-10-16",
        "end_1": "12:00:00",
        "end_kind": OutageWindow.EndKind.APPROX,
        "confidence": OutageWindow.Confidence.LOW,
        "note": "",
        "source_url": "https://example.com/news",
        "reason": "새 보도",
    }

    response = client.post(reverse("admin:claims_outagewindow_add"), data)

    assert response.status_code == 302
    window = OutageWindow.objects.get(service=service)
    (revision,) = window.revisions.all()
    assert (window.revision, revision.number, revision.actor, revision.reason) == (1, 1, lawyer, "새 보도")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WINDOW_REVISED, object_id=str(window.pk)).exists()


def test_a_window_cannot_be_deleted_in_the_admin_even_by_a_lawyer(client):
    window = window_of("kakao-t")
    admin_login(client, staff_member(Role.LAWYER))
    delete_url = reverse("admin:claims_outagewindow_delete", args=[window.pk])

    response = client.post(delete_url, {"post": "yes"})

    assert response.status_code == 403
    assert OutageWindow.objects.filter(pk=window.pk).exists() and window.revisions.exists()
