"""The whole journey on a 360 px phone, counted: from the landing page to a submitted one-service individual claim
with one evidence file, once with identity checks and payment switched off and once with their sandboxes on. A screen
is a page load (a navigation of any tab); a tap is a click, a check, a choice or a focus into a field (typing into a
field counts once, for the tap that focuses it; choosing a file counts two: the field and the file in the picker).
The targets are issue 20's: 12 screens and 40 taps without identity and payment, 15 and 48 with their sandboxes
(docs/claimants.md, "The journey")."""

import re
import sys

import pytest
from playwright.sync_api import expect

from accounts.models import IdentityVerification, PowerOfAttorney
from accounts.tests.factories import consent_documents_published
from claims.models import Claim, Evidence
from claims.tests.factories import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "my-outage-passphrase-2022"


class Counted:
    """Wraps the page (and any tab opened for the sandbox phone) and counts screens and taps."""

    def __init__(self, page):
        self.page = page
        self.screens = 0
        self.taps = 0
        self.log: list[str] = []
        self.watch(page)

    def watch(self, page) -> None:
        page.on("load", lambda: self._screen(page))

    def _screen(self, page) -> None:
        self.screens += 1
        self.log.append(f"screen {self.screens}: {page.url.split('//', 1)[-1].split('/', 1)[-1]}")

    def _tap(self, what: str, count: int = 1) -> None:
        self.taps += count
        self.log.append(f"  tap {self.taps}: {what}")

    def click(self, locator) -> None:
        self._tap("click")
        locator.click()

    def fill(self, locator, value: str) -> None:
        self._tap("field")
        locator.fill(value)

    def check(self, locator) -> None:
        self._tap("check")
        locator.check()

    def select(self, locator, **choice) -> None:
        self._tap("select")
        locator.select_option(**choice)

    def files(self, locator, files) -> None:
        self._tap("file", 2)
        locator.set_input_files(files)

    def open(self, page, url: str) -> None:
        """A link followed from outside the site (the mail, the phone's notification): one tap."""
        self._tap("link outside the site")
        page.goto(url)


def _link_in_the_mail(mailoutbox) -> str:
    message = next(message for message in reversed(mailoutbox) if "인증" in message.subject)
    return re.search(r"https?://[^/\s]+(/accounts/verify-email/\S+)", message.body).group(1)


@pytest.fixture
def identity_and_payment_off(settings):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    settings.PAYMENT_BACKEND = "integrations.payments.UnconfiguredPaymentGateway"


@pytest.fixture
def identity_and_payment_sandboxes(settings, live_server):
    from payments.tests.factories import retainer_terms_seeded

    settings.IDENTITY_BACKEND = "integrations.identity.sandbox.SandboxIdentityBackend"
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    settings.SANDBOX_PAYMENT_WEBHOOK_URL = f"{live_server.url}/webhooks/payments"
    retainer_terms_seeded()


def _walk_to_the_consents(c: Counted, mailoutbox) -> None:
    """Landing page, eligibility, sign-up, the link in the mail, the profile: on to the consents by themselves."""
    page = c.page
    page.goto(page.live_server_url + "/")
    c.click(page.get_by_role("link", name="참여할 수 있는지 확인하기 (1분)"))
    c.check(page.get_by_role("checkbox", name=re.compile(r"^카카오T")))
    c.check(page.get_by_label("예, 이용하고 있었습니다"))
    c.check(page.get_by_test_id("applicant-kind").get_by_label("개인", exact=True))  # no "who you are" screen later
    c.click(page.get_by_role("button", name="확인하기"))
    expect(page.get_by_role("heading", level=1)).to_have_text("회원가입")  # eligible: straight to sign-up
    expect(page.get_by_test_id("journey-checklist")).to_contain_text("회원가입")
    c.fill(page.get_by_label("이메일"), "minji.lee@example.com")
    c.fill(page.get_by_label("생년월일"), "19900512")
    c.fill(page.get_by_label("비밀번호*", exact=True), PASSWORD)
    c.fill(page.get_by_label("비밀번호 확인"), PASSWORD)
    c.click(page.get_by_role("button", name="가입하기"))
    expect(page.get_by_role("heading", level=1)).to_have_text("이메일을 인증해 주세요")
    c.open(page, page.live_server_url + _link_in_the_mail(mailoutbox))
    expect(page.get_by_text("이메일 인증을 마쳤습니다.")).to_be_visible()  # verified, and on to the profile
    expect(page.locator("[aria-current=step]")).to_contain_text("프로필")
    c.fill(page.get_by_label("성명 (실명)"), "이민지")
    c.fill(page.get_by_label("휴대전화"), "010-2345-6789")
    c.fill(page.get_by_label("우편번호"), "13487")
    c.fill(page.get_by_label("주소*", exact=True), "경기도 성남시 분당구 판교역로 166")
    c.click(page.get_by_role("button", name="저장"))
    c.check(page.get_by_label("위 내용을 모두 읽었으며 동의합니다 (필수)"))
    c.click(page.get_by_test_id("consents-submit"))


def _walk_the_claim(c: Counted) -> None:
    """From the claim wizard's losses (the eligibility answers and "individual" carried in) to the confirmation."""
    page = c.page
    expect(page.get_by_text("가입 전에 답하신 내용으로 신청서를 만들었습니다")).to_be_visible()
    c.select(page.locator('[name="form-0-kind"]'), value="subscription")  # the only service: straight to it
    c.fill(page.locator('[name="form-0-monthly_fee"]'), "39,000")
    c.fill(page.locator('[name="form-0-description"]'), "카카오T 멤버십, 장애 동안 쓰지 못했습니다.")
    c.click(page.get_by_role("button", name="저장하고 다음"))
    c.select(page.get_by_label("이 파일이 보여 주는 것"), value="proof_of_use")
    expect(page.get_by_label("파일", exact=True)).to_have_attribute("multiple", "")
    proof = {"name": "호출없음.png", "mimeType": "image/png", "buffer": png_bytes()}
    c.files(page.get_by_label("파일", exact=True), proof)
    c.click(page.get_by_role("button", name="올리기"))
    expect(page.get_by_test_id("evidence-row")).to_have_count(1)
    c.click(page.get_by_role("button", name="다음: 확인하고 제출"))
    c.click(page.get_by_role("button", name="제출하기"))
    expect(page.get_by_role("heading", level=1)).to_have_text("참여 신청이 접수되었습니다")
    claim = Claim.objects.get()
    assert claim.status == Claim.Status.SUBMITTED
    assert claim.loss_items.count() == 1 and Evidence.objects.filter(claim=claim).count() == 1


def _approve_on_the_sandbox_phone(c: Counted, kind: str) -> None:
    """The sandbox's page plays the phone's app (Kakao, PASS, ...) in a second tab: opened from the notification."""
    page = c.page
    verification = IdentityVerification.objects.filter(kind=kind).latest("pk")
    phone = page.context.new_page()
    c.watch(phone)
    c.open(phone, f"{page.live_server_url}/sandbox/identity/{verification.receipt_id}/")
    c.click(phone.get_by_test_id("approve"))  # answered in place: no second load of the phone page
    expect(phone.get_by_test_id("state")).to_have_text("승인")
    expect(phone.get_by_text("응답을 보냈습니다")).to_be_visible()
    phone.close()


def _report(c: Counted, name: str) -> None:
    sys.stderr.write("\n".join([*c.log, f"{name}: {c.screens} screens, {c.taps} taps", ""]))


def test_the_journey_without_identity_and_payment_fits_12_screens_and_40_taps(
    phone_page, mailoutbox, identity_and_payment_off
):
    consent_documents_published()
    c = Counted(phone_page)
    page = phone_page
    _walk_to_the_consents(c, mailoutbox)
    # Signing follows the consents with no page between; the typed name (no identity provider, so no certificate).
    c.check(page.get_by_label("이름 입력", exact=True))
    c.fill(page.get_by_label("실명 입력"), "이민지")
    c.check(page.get_by_label(re.compile("모두 읽고 확인했으며")))
    c.click(page.get_by_test_id("poa-submit"))
    _walk_the_claim(c)
    _report(c, "identity and payment off")
    assert c.screens <= 12
    assert c.taps <= 40


def test_the_journey_with_the_identity_and_payment_sandboxes_fits_15_screens_and_48_taps(
    phone_page, mailoutbox, identity_and_payment_sandboxes
):
    consent_documents_published()
    c = Counted(phone_page)
    page = phone_page
    _walk_to_the_consents(c, mailoutbox)
    # Signing follows the consents; the certified signature is offered first and finishes the identity step too.
    expect(page.get_by_test_id("poa-certified-identity")).to_have_text("인증서로 서명하면 본인인증도 함께 끝납니다.")
    c.check(page.get_by_label("토스"))
    c.click(page.get_by_test_id("poa-certified-submit"))
    expect(page.get_by_test_id("identity-wait")).to_be_visible()
    _approve_on_the_sandbox_phone(c, "signature")
    expect(page.get_by_test_id("retainer-amount")).to_have_text("20,000원", timeout=15_000)  # signed: next step
    c.click(page.get_by_test_id("retainer-pay"))
    c.check(page.get_by_label("간편결제"))
    c.click(page.get_by_test_id("checkout-pay"))
    expect(page.get_by_text("착수금 20,000원 결제를 확인했습니다")).to_be_visible()  # paid: on to the claim wizard
    _walk_the_claim(c)
    _report(c, "identity and payment sandboxes")
    signed = PowerOfAttorney.objects.get()
    assert signed.signature_method == PowerOfAttorney.SignatureMethod.CERTIFIED
    assert signed.certified_signature.method == "toss"
    assert not IdentityVerification.objects.filter(kind=IdentityVerification.Kind.IDENTITY).exists()  # not needed
    assert c.screens <= 15
    assert c.taps <= 48
