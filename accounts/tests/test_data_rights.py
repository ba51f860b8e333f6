"""Download everything as a ZIP; ask for deletion; staff confirm (anonymise what is kept, remove the rest)."""

import io
import json
import zipfile

import pytest
from axes.models import AccessAttempt
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.exceptions import AccountError
from accounts.models import ConsentRecord, DeletionRequest, PowerOfAttorney, User
from accounts.roles import Role
from accounts.services import data_rights
from accounts.tests.factories import STAFF_PASSWORD, StaffFactory, staff_totp_code
from claims.models import Claim, ClaimEvent, Evidence, Incident
from claims.tests.factories import ClaimFactory, EvidenceFactory, LossItemFactory, SubmittedClaimFactory, claimant_ready
from notifications.models import Notification
from notifications.services import notification_send

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def download(client) -> zipfile.ZipFile:
    response = client.get(reverse("accounts:data_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="kakao-claims-my-data-')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def claimant_with_claims():
    user = claimant_ready(retainer_paid=False)  # no receipt in the outbox: these tests count messages
    filed = SubmittedClaimFactory(claimant=user)
    LossItemFactory(claim=filed, monthly_fee=39_000)
    EvidenceFactory(claim=filed, original_name="오류 화면.png", file=ContentFile(b"filed evidence", name="a.png"))
    other_incident = Incident.objects.exclude(is_default=True).first()
    draft = ClaimFactory(claimant=user, incident=other_incident)
    EvidenceFactory(claim=draft, original_name="초안.png", file=ContentFile(b"draft evidence", name="b.png"))
    return user


def test_the_zip_holds_data_json_and_my_files_but_nothing_of_anyone_else(client, claimant_with_claims):
    user = claimant_with_claims
    other = claimant_ready(legal_name="남의이름")
    other_claim = SubmittedClaimFactory(claimant=other)
    EvidenceFactory(claim=other_claim, original_name="남의 증빙.png", file=ContentFile(b"not yours", name="c.png"))
    client.force_login(user)

    archive = download(client)

    names = archive.namelist()
    assert "data.json" in names and "README.txt" in names
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["email"] == user.email
    assert data["profile"]["phone"] == user.phone
    assert len(data["consent_records"]) == 2
    assert {claim["status"] for claim in data["claims"]} == {"submitted", "draft"}
    filed = next(claim for claim in data["claims"] if claim["status"] == "submitted")
    assert filed["loss_items"][0]["monthly_fee"] == 39_000
    assert filed["evidence"][0]["original_name"] == "오류 화면.png"
    assert archive.read(filed["evidence"][0]["file_in_zip"]) == b"filed evidence"
    assert "reviewer" not in filed and "estimate_flags" not in filed
    power = data["powers_of_attorney"][0]
    assert archive.read(power["pdf_in_zip"]).startswith(b"%PDF")
    file_names = [name for name in names if name.startswith("files/")]
    assert len(file_names) == 3  # two evidence files and the signed PDF
    everything = b"".join(archive.read(name) for name in names)
    for foreign in (other.email, "남의이름", "not yours", "남의 증빙"):
        assert foreign.encode() not in everything


def test_the_download_lists_my_messages_without_any_address(client):
    user = claimant_ready(retainer_paid=False)
    other = claimant_ready(retainer_paid=False)
    mine = [
        Notification.objects.create(
            channel=channel,
            template=template,
            language="ko",
            user=user,
            address=address,
            status=Notification.Status.SENT,
            fell_back=channel == Notification.Channel.ALIMTALK,
            idempotency_key=f"test:{channel}",
        )
        for channel, template, address in [
            (Notification.Channel.EMAIL, "claims/email/status", "someone.else@example.com"),
            (Notification.Channel.ALIMTALK, "tests/alimtalk/hello", "01098765432"),
        ]
    ]
    Notification.objects.create(
        channel=Notification.Channel.SMS, template="tests/sms/other", language="ko", user=other, idempotency_key="o"
    )
    client.force_login(user)

    data = json.loads(download(client).read("data.json"))

    assert [(row["channel"], row["template"], row["status"]) for row in data["notifications"]] == [
        ("email", "claims/email/status", "sent"),
        ("alimtalk", "tests/alimtalk/hello", "sent"),
    ]
    assert [row["fell_back_to_sms"] for row in data["notifications"]] == [False, True]
    assert data["notifications"][1]["channel_label"] == "알림톡" and data["notifications"][0]["sent_at"] is None
    assert data["notifications"][0]["created_at"].startswith(str(mine[0].created_at.year))
    written = json.dumps(data["notifications"])
    assert "someone.else" not in written and "01098765432" not in written and "tests/sms/other" not in written


def test_the_download_needs_a_login(client):
    assert client.get(reverse("accounts:data_export"))["Location"].startswith(reverse("accounts:login"))


def test_the_export_reads_a_fixed_number_of_queries(claimant_with_claims, django_assert_max_num_queries):
    SubmittedClaimFactory(claimant=claimant_with_claims, incident=Incident.objects.exclude(is_default=True).last())
    with django_assert_max_num_queries(16):
        data_rights.user_data_export(user=claimant_with_claims, out=io.BytesIO())


def request_deletion(client, user, django_capture_on_commit_callbacks, **overrides):
    client.force_login(user)
    data = {"reason": "더 이상 참여하지 않겠습니다.", "password": PASSWORD, "understood": "on", **overrides}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:deletion_request"), data)


def test_deletion_request_then_staff_confirm_anonymises_what_is_kept_and_removes_the_rest(
    client, claimant_with_claims, mailoutbox, django_capture_on_commit_callbacks
):
    user = claimant_with_claims
    address, name, phone = user.email, user.legal_name, user.phone
    AccessAttempt.objects.create(username=address, ip_address="127.0.0.1", user_agent="x", failures_since_start=1)
    filed = Claim.objects.get(claimant=user, submitted_at__isnull=False)
    filed_file = Evidence.objects.get(claim=filed).file.name
    draft = Claim.objects.get(claimant=user, submitted_at__isnull=True)
    draft_file = Evidence.objects.get(claim=draft).file.name
    power = PowerOfAttorney.objects.get(user=user)
    pdf_hash, pdf_name = power.pdf_sha256, power.pdf.name

    response = request_deletion(client, user, django_capture_on_commit_callbacks)

    assert response["Location"] == reverse("accounts:account")
    deletion_request = DeletionRequest.objects.get(user=user)
    assert deletion_request.status == DeletionRequest.Status.REQUESTED
    assert deletion_request.reason == "더 이상 참여하지 않겠습니다."
    assert mailoutbox[-1].to == [address] and "삭제 요청" in mailoutbox[-1].subject
    assert "계정 삭제를 요청했습니다" in client.get(reverse("accounts:account")).content.decode()

    lawyer = StaffFactory(role=Role.LAWYER)
    with django_capture_on_commit_callbacks(execute=True):
        data_rights.deletion_request_confirm(deletion_request=deletion_request, actor=lawyer)

    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert user.legal_name == "삭제된 사용자"
    assert (user.phone, user.postal_code, user.address, user.address_detail) == ("", "", "", "")
    assert user.date_of_birth is None and user.signup_ip is None
    assert not user.is_active and not user.has_usable_password() and user.anonymised_at is not None
    # Removed: the unsubmitted draft and its file, login records.
    assert not Claim.objects.filter(pk=draft.pk).exists()
    assert not default_storage.exists(draft_file)
    assert not AccessAttempt.objects.filter(username=address).exists()
    # Kept, without the person's details: the filed claim with its evidence, the ledger, the signed PDF.
    filed.refresh_from_db()
    assert filed.loss_items.get().monthly_fee == 39_000
    assert default_storage.exists(filed_file)
    assert ClaimEvent.objects.filter(claim=filed, kind=ClaimEvent.Kind.UPDATED, actor=lawyer).exists()
    assert ConsentRecord.objects.filter(user=user).count() == 2
    power.refresh_from_db()
    assert (power.pdf_sha256, power.pdf.name) == (pdf_hash, pdf_name)
    assert default_storage.exists(pdf_name)
    assert power.typed_name == "(삭제됨)"
    assert name not in json.dumps(power.signer_snapshot, ensure_ascii=False)
    assert phone not in json.dumps(power.signer_snapshot)
    deletion_request.refresh_from_db()
    assert deletion_request.status == DeletionRequest.Status.CONFIRMED
    assert deletion_request.decided_by == lawyer and deletion_request.decided_at is not None
    assert deletion_request.outcome["draft_claims_removed"] == 1
    assert deletion_request.outcome["claims_kept"] == [filed.reference_code]
    assert mailoutbox[-1].to == [address] and "삭제를 마쳤습니다" in mailoutbox[-1].subject
    # The old session no longer logs anyone in.
    assert client.get(reverse("accounts:account"))["Location"].startswith(reverse("accounts:login"))
    assert not User.objects.filter(email=address).exists()


def test_after_deletion_the_outbox_keeps_no_address_of_the_person(
    client, claimant_with_claims, mailoutbox, django_capture_on_commit_callbacks
):
    user = claimant_with_claims
    address = user.email
    request_deletion(client, user, django_capture_on_commit_callbacks)
    unsent = Notification.objects.create(  # a message whose task has not run yet
        channel=Notification.Channel.EMAIL,
        template="accounts/email/password_reset",
        language="ko",
        user=user,
        address=address,
        context={"user_id": user.pk},
        idempotency_key="password-reset:unsent",
    )
    with django_capture_on_commit_callbacks(execute=True):
        data_rights.deletion_request_confirm(deletion_request=DeletionRequest.objects.get(user=user), actor=None)

    assert mailoutbox[-1].to == [address] and "삭제를 마쳤습니다" in mailoutbox[-1].subject
    assert not Notification.objects.filter(address__contains=address).exists()
    assert DeletionRequest.objects.get(user=user).outcome["notification_addresses_cleared"] == 1
    assert notification_send(notification_id=unsent.pk) is False  # nothing left to send it to
    assert Notification.objects.get(pk=unsent.pk).status == Notification.Status.FAILED


def test_a_wrong_password_refuses_the_request_and_keeps_the_reason(client, django_capture_on_commit_callbacks):
    user = claimant_ready()
    response = request_deletion(client, user, django_capture_on_commit_callbacks, password="wrong")
    html = response.content.decode()
    assert "비밀번호가 맞지 않습니다" in html
    assert "더 이상 참여하지 않겠습니다." in html
    assert not DeletionRequest.objects.exists()


def test_a_pending_request_can_be_cancelled_and_not_doubled(client, django_capture_on_commit_callbacks):
    user = claimant_ready()
    request_deletion(client, user, django_capture_on_commit_callbacks)
    with pytest.raises(AccountError):
        data_rights.deletion_request_create(user=user)
    client.post(reverse("accounts:deletion_request_cancel"))
    assert DeletionRequest.objects.get(user=user).status == DeletionRequest.Status.CANCELLED
    user.refresh_from_db()
    assert user.is_active


def test_rejecting_needs_a_note_and_tells_the_person(client, mailoutbox, django_capture_on_commit_callbacks):
    user = claimant_ready()
    request_deletion(client, user, django_capture_on_commit_callbacks)
    deletion_request = DeletionRequest.objects.get(user=user)
    lawyer = StaffFactory()
    with pytest.raises(AccountError):
        data_rights.deletion_request_reject(deletion_request=deletion_request, actor=lawyer, note=" ")
    with django_capture_on_commit_callbacks(execute=True):
        data_rights.deletion_request_reject(
            deletion_request=deletion_request, actor=lawyer, note="진행 중인 소송 절차가 끝난 뒤 처리합니다."
        )
    assert DeletionRequest.objects.get(pk=deletion_request.pk).status == DeletionRequest.Status.REJECTED
    assert "진행 중인 소송 절차가 끝난 뒤 처리합니다." in mailoutbox[-1].body
    with pytest.raises(AccountError):
        data_rights.deletion_request_confirm(deletion_request=deletion_request, actor=lawyer)


def admin_client(client, staff):
    client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": STAFF_PASSWORD, "otp_token": staff_totp_code(staff)},
    )
    return client


def test_a_lawyer_confirms_in_the_admin_but_a_paralegal_cannot_see_deletion_requests(
    client, django_capture_on_commit_callbacks
):
    user = claimant_ready()
    deletion_request = data_rights.deletion_request_create(user=user, reason="")
    changelist = reverse("admin:accounts_deletionrequest_changelist")

    paralegal = StaffFactory(role=Role.PARALEGAL, totp=True)
    assert admin_client(client, paralegal).get(changelist).status_code == 403
    client.logout()

    lawyer = StaffFactory(role=Role.LAWYER, totp=True)
    admin_client(client, lawyer)
    assert "선택한 요청 확정" in client.get(changelist).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "confirm_selected", "_selected_action": [deletion_request.pk]})
    assert response.status_code == 302
    deletion_request.refresh_from_db()
    assert deletion_request.status == DeletionRequest.Status.CONFIRMED
    assert deletion_request.decided_by == lawyer
    assert not User.objects.get(pk=user.pk).is_active
