"""What claimants type is shown as text everywhere (their portal, the admin, the signed PDF), and no search or
filter parameter can break a query: quotes, %, backslashes and NUL bytes get a page or a 400, never a 500."""

import io

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfReader

from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney, User
from accounts.services.signing import power_of_attorney_sign
from accounts.tasks import power_of_attorney_pdf_render_task
from accounts.tests.factories import consent_documents_published, identity_verified
from claims.models import Claim
from claims.tests.factories import LossItemFactory, SubmittedClaimFactory, claimant_ready
from claims.tests.staff import admin_login
from core.audit import RequestMeta

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"
NASTY = ["' OR 1=1 --", '"', "%%_", "\\", "\\'", "a\x00b", "<script>😀", "가" * 500]


@pytest.fixture
def hostile_claim() -> Claim:
    claimant = claimant_ready(legal_name=f"김{SCRIPT}", address=f"판교로 {IMG}")
    claim = SubmittedClaimFactory(
        claimant=claimant,
        status=Claim.Status.IN_REVIEW,
        claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR,
        business_name=f"상호{IMG}",
    )
    LossItemFactory(claim=claim, kind="other", amount=10_000, description=f"설명 {SCRIPT}")
    return claim


def superuser_signed_in(email: str) -> Client:
    user = User.objects.create_superuser(email=email, password="x" * 20)
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return admin_login(Client(), user)


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_the_portal_shows_what_the_claimant_typed_as_text(hostile_claim):
    client = Client()
    client.force_login(hostile_claim.claimant)

    html = client.get(reverse("claims:detail", args=[hostile_claim.pk])).content.decode()

    assert_escaped(html)
    assert "설명 &lt;script&gt;" in html


def test_the_admin_shows_what_the_claimant_typed_as_text(hostile_claim):
    staff = superuser_signed_in("root@lawfirm.example")

    change = staff.get(reverse("admin:claims_claim_change", args=[hostile_claim.pk])).content.decode()
    listing = staff.get(reverse("admin:claims_claim_changelist"), {"q": SCRIPT}).content.decode()

    assert_escaped(change)
    assert SCRIPT not in listing


def test_the_signed_pdf_prints_markup_in_a_name_as_text():
    claimant = claimant_ready(legal_name="김<b>민수</b>")
    PowerOfAttorney.objects.filter(user=claimant).delete()  # sign anew, with the name in the document
    ConsentRecord.objects.filter(user=claimant, document__kind=ConsentDocument.Kind.POWER_OF_ATTORNEY).delete()
    documents = consent_documents_published()
    meta = RequestMeta(ip="203.0.113.7", user_agent="test")
    identity_verified(claimant)

    power = power_of_attorney_sign(
        user=claimant,
        document=documents[ConsentDocument.Kind.POWER_OF_ATTORNEY],
        meta=meta,
        typed_name="김<b>민수</b>",
    )
    power_of_attorney_pdf_render_task(power.pk)  # what the `documents` worker does after commit
    power.refresh_from_db()

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(power.pdf.read())).pages)
    assert "김<b>민수</b>" in text


def changelist_urls() -> list[str]:
    return [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]


def test_admin_lists_never_fail_on_hostile_search_filter_or_order_parameters(hostile_claim):
    staff = superuser_signed_in("root3@lawfirm.example")
    failures = []
    for url in changelist_urls():
        for value in NASTY:
            for params in ({"q": value}, {"status__exact": value}, {"o": value}, {value: "1"}):
                status = staff.get(url, params).status_code
                if status not in (200, 302, 400) or ("\x00" in str(params) and status != 400):
                    failures.append(f"{url} {params!r}: {status}")
    assert failures == []
