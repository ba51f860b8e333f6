"""Phone verification and phone sign-in: a 6-digit code by SMS, kept only as a keyed hash, good for 5 minutes and
3 wrong tries, once; rate-limited per number and per IP; verifying sets phone_verified_at (cleared when the number
changes); phone + code signs in only a verified number, and wrong codes lock out like wrong passwords (axes)."""

import datetime as dt
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from accounts.exceptions import AccountError
from accounts.models import PhoneCode, User
from accounts.services.phone import (
    PHONE_CODE_TRIES,
    phone_code_send,
    phone_sign_in_user,
    phone_verification_send,
    phone_verify,
)
from accounts.services.profile import profile_update
from accounts.tests.factories import ClaimantFactory
from accounts.views.phone import RATE_CODE_PER_NUMBER

pytestmark = pytest.mark.django_db
PHONE = "01098765432"


def _code(message_outbox) -> str:
    return re.search(r"\d{6}", message_outbox[-1].text).group(0)


@pytest.fixture
def sent(django_capture_on_commit_callbacks, message_outbox):
    """phone_verification_send with its SMS sent at once; returns the code the SMS carried."""

    def send(user: User) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            phone_verification_send(user=user)
        return _code(message_outbox)

    return send


def test_the_code_goes_by_sms_to_the_profile_number_and_only_its_hash_is_kept(sent, message_outbox):
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    assert message_outbox[-1].kind == "SMS" and message_outbox[-1].to == (PHONE,)
    assert message_outbox[-1].text == f"[카카오장애소송] 인증번호 {code} (5분 안에 입력해 주세요)"
    row = PhoneCode.objects.get()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == dt.timedelta(minutes=5)


def test_the_right_code_verifies_the_number_once(sent):
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    assert phone_verify(user=claimant, code=code).phone_verified_at is not None
    claimant.phone_verified_at = None
    claimant.save(update_fields=["phone_verified_at"])
    with pytest.raises(AccountError):
        phone_verify(user=claimant, code=code)


def test_three_wrong_tries_use_the_code_up(sent):
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(PHONE_CODE_TRIES):
        with pytest.raises(AccountError):
            phone_verify(user=claimant, code=wrong)
    assert PhoneCode.objects.get().attempts == PHONE_CODE_TRIES
    with pytest.raises(AccountError):
        phone_verify(user=claimant, code=code)
    claimant.refresh_from_db()
    assert claimant.phone_verified_at is None


def test_a_code_expires_after_5_minutes(sent):
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    PhoneCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(AccountError):
        phone_verify(user=claimant, code=code)


def test_a_new_code_replaces_the_earlier_one(sent):
    claimant = ClaimantFactory(phone=PHONE)
    first = sent(claimant)
    second = sent(claimant)
    if first != second:
        with pytest.raises(AccountError):
            phone_verify(user=claimant, code=first)
    assert phone_verify(user=claimant, code=second).phone_verified_at


def test_a_number_verified_on_another_account_is_refused(sent):
    ClaimantFactory(phone=PHONE, phone_verified_at=timezone.now())
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    with pytest.raises(AccountError, match="다른 계정"):
        phone_verify(user=claimant, code=code)


def test_changing_the_number_clears_its_verification():
    claimant = ClaimantFactory(phone=PHONE, phone_verified_at=timezone.now())
    fields = {
        "legal_name": claimant.legal_name,
        "date_of_birth": claimant.date_of_birth,
        "postal_code": "13487",
        "address": claimant.address,
    }
    assert profile_update(user=claimant, phone=PHONE, **fields).phone_verified_at is not None
    assert profile_update(user=claimant, phone="010-1111-2222", **fields).phone_verified_at is None
    assert User.objects.get(pk=claimant.pk).phone_verified_at is None


def test_codes_are_rate_limited_per_number(client, django_capture_on_commit_callbacks):
    claimant = ClaimantFactory(phone=PHONE)
    client.force_login(claimant)
    limit = int(RATE_CODE_PER_NUMBER.split("/")[0])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(limit):
            assert client.post(reverse("accounts:phone_verify_send")).status_code == 302
    assert client.post(reverse("accounts:phone_verify_send")).status_code == 429
    assert PhoneCode.objects.count() == limit


def test_sign_in_codes_are_rate_limited_per_number_whoever_asks(client):
    ClaimantFactory(phone=PHONE, phone_verified_at=timezone.now())
    limit = int(RATE_CODE_PER_NUMBER.split("/")[0])
    for attempt in range(limit):
        response = client.post(
            reverse("accounts:phone_login"), {"phone": "010-9876-5432"}, REMOTE_ADDR=f"10.0.0.{attempt}"
        )
        assert response.status_code == 302
    assert client.post(reverse("accounts:phone_login"), {"phone": PHONE}, REMOTE_ADDR="10.0.1.1").status_code == 429


def test_verifying_through_the_pages(client, message_outbox, django_capture_on_commit_callbacks):
    claimant = ClaimantFactory(phone=PHONE)
    client.force_login(claimant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:phone_verify_send"))
    wrong = client.post(reverse("accounts:phone_verify"), {"code": "12345"})
    assert "6자리 숫자" in wrong.content.decode()
    response = client.post(reverse("accounts:phone_verify"), {"code": _code(message_outbox)})
    assert response.status_code == 302 and response.url == reverse("accounts:message_preferences")
    claimant.refresh_from_db()
    assert claimant.phone_verified_at is not None


def _phone_sign_in(client, django_capture_on_commit_callbacks, phone=PHONE):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:phone_login"), {"phone": phone})
    assert response.status_code == 302 and response.url == reverse("accounts:phone_login_code")


def test_a_verified_phone_and_its_code_sign_in(client, message_outbox, django_capture_on_commit_callbacks):
    claimant = ClaimantFactory(phone=PHONE, phone_verified_at=timezone.now())
    _phone_sign_in(client, django_capture_on_commit_callbacks, phone="010-9876-5432")
    response = client.post(reverse("accounts:phone_login_code"), {"code": _code(message_outbox)})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(claimant.pk)
    assert response.url == reverse("accounts:consents")  # the next unfinished step, as after a password


def test_an_unverified_phone_gets_no_code_and_the_page_says_the_same(
    client, message_outbox, django_capture_on_commit_callbacks
):
    ClaimantFactory(phone=PHONE)
    _phone_sign_in(client, django_capture_on_commit_callbacks)
    assert message_outbox == [] and not PhoneCode.objects.exists()
    page = client.get(reverse("accounts:phone_login_code")).content.decode()
    assert "010-9876-5432이(가) 인증된 번호라면 인증번호를 문자로 보냈습니다" in page
    assert phone_sign_in_user(phone=PHONE, code="000000") is None


def test_a_sign_in_code_does_not_verify_and_a_verify_code_does_not_sign_in(message_outbox, sent):
    claimant = ClaimantFactory(phone=PHONE)
    code = sent(claimant)
    assert phone_sign_in_user(phone=PHONE, code=code) is None
    other = ClaimantFactory(phone="01011112222", phone_verified_at=timezone.now())
    phone_code_send(user=other, phone=other.phone, purpose=PhoneCode.Purpose.SIGN_IN)
    with pytest.raises(AccountError):
        phone_verify(user=other, code=code)


def test_wrong_codes_lock_the_phone_out_like_wrong_passwords(
    client, message_outbox, django_capture_on_commit_callbacks
):
    claimant = ClaimantFactory(phone=PHONE, phone_verified_at=timezone.now())
    url = reverse("accounts:phone_login_code")
    statuses = []
    for _ in range(2):  # a code allows 3 tries, the lockout comes after 5 failures
        _phone_sign_in(client, django_capture_on_commit_callbacks)
        wrong = f"{(int(_code(message_outbox)) + 1) % 10**6:06d}"
        statuses += [client.post(url, {"code": wrong}).status_code for _ in range(3)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429
    assert "잠시 로그인할 수 없습니다" in client.post(url, {"code": "000000"}).content.decode()
    assert SESSION_KEY not in client.session
    assert claimant.phone_codes.count() == 2


def test_deleting_the_account_removes_its_codes_verification_and_message_settings(sent):
    from accounts.models import DeletionRequest
    from accounts.roles import Role
    from accounts.services import data_rights
    from accounts.tests.factories import StaffFactory
    from notifications.messages import contact_preference_update
    from notifications.models import ContactPreference

    claimant = ClaimantFactory(phone=PHONE)
    phone_verify(user=claimant, code=sent(claimant))
    claimant.refresh_from_db()
    contact_preference_update(user=claimant, case_news="phone", marketing=True)
    assert PhoneCode.objects.filter(user=claimant).count() == 1
    deletion_request = DeletionRequest.objects.create(user=claimant)
    data_rights.deletion_request_confirm(deletion_request=deletion_request, actor=StaffFactory(role=Role.LAWYER))
    claimant.refresh_from_db()
    assert claimant.phone == "" and claimant.phone_verified_at is None
    assert not PhoneCode.objects.filter(user=claimant).exists()
    assert not ContactPreference.objects.filter(user=claimant).exists()
