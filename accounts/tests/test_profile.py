"""The account page and the profile form: Korean phone formats, the way back to `next`, no resident number."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import User
from accounts.services.profile import profile_update
from accounts.tests.factories import ClaimantFactory, UserFactory
from claims.models import ClaimEvent
from claims.tests.factories import SubmittedClaimFactory

pytestmark = pytest.mark.django_db


def profile_data(**overrides) -> dict:
    return {
        "legal_name": "홍길동",
        "date_of_birth": "19800131",
        "phone": "+82 10-2345-6789",
        "postal_code": "13487",
        "address": "경기도 성남시 분당구 판교역로 166",
        "address_detail": "101동 1001호",
        **overrides,
    }


def test_profile_is_saved_with_the_phone_normalised_and_shown_formatted(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), profile_data())

    assert response["Location"] == reverse("accounts:verify_email_sent")  # on to the next unfinished step
    user.refresh_from_db()
    assert user.legal_name == "홍길동"
    assert user.date_of_birth == dt.date(1980, 1, 31)
    assert user.phone == "01023456789"
    assert user.postal_code == "13487"
    account = client.get(reverse("accounts:account")).content.decode()
    assert "010-2345-6789" in account
    assert 'value="010-2345-6789"' in client.get(reverse("accounts:profile")).content.decode()


def test_a_wrong_phone_shows_an_error_and_keeps_everything_else(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:profile"), profile_data(phone="02-123-4567"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "010-1234-5678 또는 01012345678 형식" in html
    for kept in ("홍길동", "19800131", "02-123-4567", "13487", "판교역로 166", "101동 1001호"):
        assert kept in html
    assert User.objects.get().legal_name == ""


def test_required_fields_and_postal_code_are_checked(client):
    client.force_login(UserFactory())
    response = client.post(reverse("accounts:profile"), profile_data(legal_name="", postal_code="463-400", address=""))
    html = response.content.decode()
    assert "우편번호는 숫자 5자리입니다" in html
    assert html.count("필수 항목입니다") >= 2


def test_saving_returns_to_the_page_the_guard_came_from(client):
    client.force_login(UserFactory())
    page = client.get(reverse("accounts:profile") + "?next=/claims/new/")
    assert 'name="next" value="/claims/new/"' in page.content.decode()

    response = client.post(reverse("accounts:profile"), {**profile_data(), "next": "/claims/new/"})

    assert response["Location"] == "/claims/new/"


def test_a_next_to_another_site_is_ignored(client):
    client.force_login(UserFactory())
    response = client.post(reverse("accounts:profile"), {**profile_data(), "next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:verify_email_sent")


def test_the_profile_never_asks_for_a_resident_registration_number_and_says_to_mask_it(client):
    client.force_login(UserFactory())
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "주민등록번호는 받지 않습니다" in html
    assert "가린 뒤" in html
    assert "resident" not in html.lower()
    assert all("주민" not in str(field.verbose_name) for field in User._meta.concrete_fields)


def test_changing_the_profile_after_filing_tells_staff_what_changed_but_not_the_values():
    user = ClaimantFactory()
    filed = SubmittedClaimFactory(claimant=user)

    profile_update(
        user=user,
        legal_name=user.legal_name,
        date_of_birth=user.date_of_birth,
        phone="010-9999-8888",
        postal_code=user.postal_code,
        address="서울특별시 중구 세종대로 110",
        address_detail="",
    )

    event = ClaimEvent.objects.get(claim=filed, kind=ClaimEvent.Kind.UPDATED)
    assert event.data == {"profile_fields": ["phone", "address", "address_detail"]}
    assert "01099998888" not in event.message and "세종대로" not in event.message


def test_the_account_page_needs_a_login_and_lists_what_is_left_to_do(client):
    assert client.get(reverse("accounts:account"))["Location"].startswith(reverse("accounts:login"))
    client.force_login(UserFactory())
    html = client.get(reverse("accounts:account")).content.decode()
    assert "내 계정" in html
    for url in ("accounts:profile", "accounts:password_change", "accounts:data_export", "accounts:deletion_request"):
        assert reverse(url) in html
    assert reverse("accounts:verify_email_sent") in html


def test_the_payout_account_is_optional_stored_encrypted_and_only_shown_masked(client):
    user = UserFactory()
    client.force_login(user)

    form_html = client.get(reverse("accounts:profile")).content.decode()
    assert "보상금 받을 계좌 (선택)" in form_html
    assert "예금주는 신청인 본인" in form_html
    client.post(reverse("accounts:profile"), profile_data())
    assert User.objects.get().bank_account == ""

    response = client.post(
        reverse("accounts:profile"), profile_data(bank_name="카카오뱅크", bank_account="3333-01-2345678")
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.bank_name, user.bank_account) == ("카카오뱅크", "3333012345678")
    assert user.bank_account_digest
    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_account FROM accounts_user WHERE id = %s", [user.pk])
        (raw,) = cursor.fetchone()
    assert "3333012345678" not in raw and "2345678" not in raw
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "****5678" in html
    assert "3333012345678" not in html and "3333-01-2345678" not in html and "012345678" not in html


def test_an_empty_account_field_keeps_the_stored_number_and_remove_clears_it(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("accounts:profile"), profile_data(bank_name="국민은행", bank_account="123456-78-901234"))

    client.post(reverse("accounts:profile"), profile_data(bank_name="국민은행", bank_account=""))
    user.refresh_from_db()
    assert user.bank_account == "12345678901234"
    digest = user.bank_account_digest

    client.post(reverse("accounts:profile"), profile_data(bank_name="국민은행", bank_account="110-123-456789"))
    user.refresh_from_db()
    assert user.bank_account == "110123456789"
    assert user.bank_account_digest not in ("", digest)

    client.post(reverse("accounts:profile"), profile_data(bank_account_remove="on"))
    user.refresh_from_db()
    assert (user.bank_name, user.bank_account, user.bank_account_digest) == ("", "", "")
    assert "bank_account_remove" not in client.get(reverse("accounts:profile")).content.decode()


def test_a_wrong_account_number_shows_an_error_and_keeps_everything_else(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:profile"), profile_data(bank_name="신한은행", bank_account="12-34"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "계좌번호는 숫자 10~16자리로" in html
    for kept in ("홍길동", "19800131", "13487", "판교역로 166", "101동 1001호", "신한은행", "12-34"):
        assert kept in html
    assert User.objects.get().legal_name == ""


def test_an_account_number_needs_the_bank_name(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:profile"), profile_data(bank_account="110-123-456789"))

    assert response.status_code == 200
    assert "계좌의 은행 이름을 입력해 주세요." in response.content.decode()
    assert User.objects.get().bank_account == ""


def test_changing_the_payout_account_after_filing_names_the_field_not_the_number():
    user = ClaimantFactory()
    filed = SubmittedClaimFactory(claimant=user)

    profile_update(
        user=user,
        legal_name=user.legal_name,
        date_of_birth=user.date_of_birth,
        phone=user.phone,
        postal_code=user.postal_code,
        address=user.address,
        address_detail=user.address_detail,
        bank_name="우리은행",
        bank_account="1002-123-456789",
    )

    event = ClaimEvent.objects.get(claim=filed, kind=ClaimEvent.Kind.UPDATED)
    assert event.data == {"profile_fields": ["bank_name", "bank_account"]}
    assert "계좌번호" in event.message
    assert "1002" not in event.message and "456789" not in event.message and "우리은행" not in event.message
