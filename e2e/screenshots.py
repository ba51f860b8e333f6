"""`make screenshots`: each claimant step on a 360 px phone (Debian's Chromium, Korean, the demo firm) into
docs/screenshots/*.png, shown in docs/claimants.md. Not a test of behaviour (its name keeps pytest from collecting it
with the suite); run it after changing a claimant page and commit the pictures.

SCREENSHOTS_DIR changes where they go. The pictures are the first screen (360 x 800) reduced to 256 colours, so each
stays well under 150 KB."""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.services.consents import consent_accept
from accounts.tests.factories import ClaimantFactory, consent_documents_published, identity_verified
from claims.models import Claim
from claims.tests.factories import ClaimFactory, SubmittedClaimFactory, claimant_ready
from core.audit import RequestMeta
from core.services import firm_profile_update
from devtools.management.commands.seed_demo import DEMO_FIRM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 360, "height": 800}
MAX_BYTES = 150 * 1024


def screenshots_dir() -> Path:
    return Path(os.environ.get("SCREENSHOTS_DIR", settings.BASE_DIR / "docs" / "screenshots"))


def save(page, name: str) -> Path:
    """The first screen of the page as a 256-colour PNG."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    raw = page.screenshot(full_page=False, animations="disabled", caret="hide")
    with Image.open(io.BytesIO(raw)) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = screenshots_dir() / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    reduced.save(path, optimize=True)
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
    return path


def signed_in_page(chromium, live_server, user):
    context = chromium.new_context(
        viewport=VIEWPORT, locale="ko-KR", timezone_id="Asia/Seoul", is_mobile=True, has_touch=True
    )
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def test_capture_each_claimant_step(chromium, live_server):
    firm_profile_update(actor=None, values=DEMO_FIRM)
    url = live_server.url
    steps: list[tuple[object, list[tuple[str, str]]]] = []

    steps.append(
        (
            None,
            [
                ("01-landing", reverse("home")),
                ("02-eligibility", reverse("claims:eligibility_check")),
                ("03-signup", reverse("accounts:signup")),
                ("04-login", reverse("accounts:login")),
            ],
        )
    )
    newcomer = ClaimantFactory(legal_name="김하늘")
    steps.append(
        (
            newcomer,
            [
                ("05-profile", reverse("accounts:profile")),
                ("06-consents", reverse("accounts:consents")),
            ],
        )
    )
    consenting = identity_verified(ClaimantFactory(legal_name="최지우"))
    documents = consent_documents_published()
    consent_accept(user=consenting, document=documents["privacy_required"], meta=RequestMeta())
    steps.append((consenting, [("07-power-of-attorney", reverse("accounts:power_of_attorney_sign"))]))
    ready = claimant_ready(legal_name="박민준")
    draft = ClaimFactory(claimant=ready, wizard_step="losses")
    steps.append(
        (
            ready,
            [
                ("08-claimant", reverse("claims:wizard_claimant", args=[draft.pk])),
                ("09-losses", reverse("claims:wizard_losses", args=[draft.pk])),
                ("10-evidence", reverse("claims:wizard_evidence", args=[draft.pk])),
                ("11-review", reverse("claims:wizard_review", args=[draft.pk])),
            ],
        )
    )
    filed = claimant_ready(legal_name="이서연")
    claim: Claim = SubmittedClaimFactory(claimant=filed)
    steps.append(
        (
            filed,
            [
                ("12-submitted", reverse("claims:submitted", args=[claim.pk])),
                ("13-my-claim", reverse("claims:detail", args=[claim.pk])),
            ],
        )
    )

    saved = []
    for user, pages in steps:
        context, page = signed_in_page(chromium, live_server, user)
        for name, path in pages:
            response = page.goto(url + path)
            assert response.status == 200, f"{name}: {path} answered {response.status}"
            saved.append(save(page, name))
        context.close()
    assert len(saved) == 13
