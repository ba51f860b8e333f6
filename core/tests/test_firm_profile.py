"""The firm's profile (core.FirmProfile): edited by Lawyers in the admin through an audited service, cached, and
shown on every claimant page (header, contact block, footer, favicon), in the emails and message templates."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.roles import Role
from accounts.services.mail import templated_mail_render
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry, FirmProfile
from core.selectors import firm_profile
from core.services import FIRM_LOGO_MAX_BYTES, FirmProfileError, firm_profile_update

pytestmark = pytest.mark.django_db

FIRM = {
    "name": "법무법인 한빛",
    "address": "서울특별시 서초구 서초대로 123",
    "phone": "02-555-0123",
    "email": "suit@hanbit-law.example",
    "kakao_channel_url": "https://pf.kakao.com/_hanbit",
    "hours": "평일 09:00-18:00",
    "privacy_officer_name": "이하늘",
    "privacy_officer_contact": "privacy@hanbit-law.example",
}
CLAIMANT_PAGES = ("home", "accounts:login", "accounts:signup", "claims:eligibility_check")


def png_upload(*, size=(64, 64), name="logo.png", image_format="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (23, 63, 160)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def lawyer():
    return staff_member(Role.LAWYER)


@pytest.fixture
def firm(lawyer, django_capture_on_commit_callbacks) -> FirmProfile:
    with django_capture_on_commit_callbacks(execute=True):
        return firm_profile_update(actor=lawyer, values=FIRM)


# The service -------------------------------------------------------------------------------------------------------


def test_saving_the_profile_is_audited_with_the_fields_that_changed(lawyer, firm, django_capture_on_commit_callbacks):
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EDITED, actor=lawyer)
    assert set(entry.data["firm_profile_fields"]) == set(FIRM)
    with django_capture_on_commit_callbacks(execute=True):
        firm_profile_update(actor=lawyer, values={**FIRM, "phone": "02-555-9999"})
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EDITED).latest("pk").data == {
        "firm_profile_fields": ["phone"]
    }
    assert FirmProfile.objects.count() == 1 and firm_profile().phone == "02-555-9999"


def test_without_a_profile_the_pages_use_the_site_name_and_say_no_contact_is_registered(client):
    profile = firm_profile()
    assert profile.pk is None and profile.display_name == "카카오 장애 공동소송"
    html = client.get(reverse("home")).content.decode()
    assert "법무법인 연락처가 아직 등록되지 않았습니다." in html
    assert 'data-testid="firm-brand"' in html


def test_a_logo_is_checked_by_its_content_and_redrawn_as_a_small_png(lawyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        profile = firm_profile_update(
            actor=lawyer, values=FIRM, logo=png_upload(size=(1200, 600), name="logo.jpg", image_format="JPEG")
        )
    with profile.logo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "PNG" and max(image.size) <= 512
    assert profile.logo.name.endswith(".png")


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("logo.png", b"<html><script>alert(1)</script></html>"), "logo_format"),
        (
            SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
            "logo_format",
        ),
        (png_upload(image_format="GIF", name="logo.gif"), "logo_format"),
        (SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * FIRM_LOGO_MAX_BYTES), "logo_too_large"),
    ],
)
def test_a_logo_that_is_not_a_small_png_jpeg_or_webp_image_is_refused(lawyer, upload, code):
    with pytest.raises(FirmProfileError) as refused:
        firm_profile_update(actor=lawyer, values=FIRM, logo=upload)
    assert refused.value.code == code
    assert not FirmProfile.objects.exists()


def test_the_logo_is_served_as_a_png_that_cannot_run_scripts_and_is_the_favicon(
    client, lawyer, django_capture_on_commit_callbacks
):
    assert client.get(reverse("firm_logo")).status_code == 404
    favicon = client.get(reverse("favicon"))
    assert favicon.status_code == 302 and favicon["Location"].endswith("img/favicon-48.png")
    assert 'href="/static/img/favicon.svg"' in client.get(reverse("home")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        profile = firm_profile_update(actor=lawyer, values=FIRM, logo=png_upload())
    response = client.get(reverse("firm_logo"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(reverse("favicon"))["Location"] == profile.logo_url
    html = client.get(reverse("home")).content.decode()
    assert f'<link rel="icon" type="image/png" href="{profile.logo_url}">' in html.replace("&amp;", "&")
    assert f'class="site-logo" src="{profile.logo_url}"' in html


# The admin ---------------------------------------------------------------------------------------------------------


def test_a_lawyer_edits_the_profile_on_one_admin_page_and_the_site_shows_it_at_once(
    client, lawyer, django_capture_on_commit_callbacks
):
    admin_login(client, lawyer)
    changelist = client.get(reverse("admin:core_firmprofile_changelist"))
    assert changelist.status_code == 302 and changelist["Location"] == reverse("admin:core_firmprofile_add")
    assert client.get(changelist["Location"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:core_firmprofile_add"), {**FIRM, "logo_upload": png_upload()})
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = FirmProfile.objects.get()
    assert profile.name == FIRM["name"] and profile.logo
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EDITED, actor=lawyer).exists()
    assert client.get(reverse("admin:core_firmprofile_changelist"))["Location"] == reverse(
        "admin:core_firmprofile_change", args=[profile.pk]
    )
    assert client.get(reverse("admin:core_firmprofile_add")).status_code == 403  # one profile only
    assert FIRM["name"] in Client().get(reverse("home")).content.decode()

    refused = client.post(
        reverse("admin:core_firmprofile_change", args=[profile.pk]),
        {**FIRM, "logo_upload": SimpleUploadedFile("logo.png", b"not an image")},
    )
    assert refused.status_code == 200
    assert "로고는 PNG, JPEG 또는 WebP 이미지여야 합니다." in refused.content.decode()


def test_paralegals_and_viewers_cannot_open_the_profile_but_a_superuser_can(client):
    for role in (Role.PARALEGAL, Role.VIEWER):
        response = admin_login(Client(), staff_member(role)).get(reverse("admin:core_firmprofile_add"))
        assert response.status_code == 403
    superuser = staff_member(Role.VIEWER)
    get_user_model().objects.filter(pk=superuser.pk).update(is_superuser=True)
    superuser.refresh_from_db()
    assert admin_login(client, superuser).get(reverse("admin:core_firmprofile_add")).status_code == 200


# Every claimant page -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", CLAIMANT_PAGES)
def test_claimant_pages_show_the_firm_in_the_header_contact_block_and_footer(client, firm, url_name):
    html = client.get(reverse(url_name)).content.decode()
    assert 'data-testid="firm-brand"' in html and f'<span class="site-brand-name">{FIRM["name"]}</span>' in html
    assert 'data-testid="firm-contact"' in html
    assert 'href="tel:025550123"' in html
    assert f'href="mailto:{FIRM["email"]}"' in html
    assert FIRM["kakao_channel_url"] in html and FIRM["hours"] in html
    assert 'data-testid="firm-footer"' in html and FIRM["privacy_officer_name"] in html
    assert '<meta name="description" content="' in html
    assert f"· {FIRM['name']}</title>" in html
    assert 'rel="icon"' in html


def test_the_profile_costs_one_query_when_the_cache_is_cold_and_none_after(client, firm):
    def firm_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return sum('"core_firmprofile"' in query["sql"] for query in queries.captured_queries)

    from core.services import firm_profile_cache_clear

    firm_profile_cache_clear()
    assert firm_queries() == 1
    assert firm_queries() == 0


# Emails and message templates --------------------------------------------------------------------------------------


def test_emails_are_signed_with_the_firms_name_and_contact(firm):
    message = templated_mail_render(template="accounts/email/verify_email", context={"url": "https://x", "days": 3})
    assert FIRM["name"] in message.body
    assert FIRM["phone"] in message.body and FIRM["email"] in message.body
    assert FIRM["kakao_channel_url"] in message.body


def test_message_templates_can_name_the_firm_without_the_caller_passing_it(firm):
    from notifications.messages import message_template_render
    from notifications.models import MessageTemplate, Notification

    template = MessageTemplate(
        kind=MessageTemplate.Kind.MARKETING,
        version=99,
        text_ko="#{firm_name} 안내\n#{message} 문의 #{firm_phone}",
        text_en="#{firm_name}\n#{message}",
    )
    message = message_template_render(
        template=template, channel=Notification.Channel.EMAIL, language="ko", variables={"message": "본문"}
    )
    assert message.subject == f"{FIRM['name']} 안내"
    assert f"문의 {FIRM['phone']}" in message.body
