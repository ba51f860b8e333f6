"""Every URL of the project, requested by every kind of visitor, against an explicit table of what each may get.

The path parameters are filled with the ids of claimant A's objects (claim, evidence, information request, signed
power of attorney) and of one object of each admin model (exports, cohorts, audit entries...). Another claimant,
staff who only typed their password, and staff in each role then request every URL; the answer must be the one
the table says. A URL pattern without an entry in the table fails the test, so a new page cannot ship without
someone deciding who may open it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ConsentDocument, ConsentRecord, DeletionRequest, PowerOfAttorney, User
from accounts.roles import Role
from accounts.tests.factories import StaffFactory, identity_verified
from claims.models import (
    Claim,
    DamageModelVersion,
    Flag,
    Incident,
    InformationRequest,
    OutageWindow,
    RecomputeJob,
    RejectionReason,
    Service,
)
from claims.tests.factories import EvidenceFactory, LossItemFactory, SubmittedClaimFactory, claimant_ready, png_bytes
from claims.tests.staff import admin_login
from core.models import AuditEntry
from core.services import firm_profile_update
from filing.models import Cohort, ExportJob, FilingWave, ReadinessOverride
from integrations.identity import IdentityMethod
from integrations.identity.sandbox import SandboxIdentityBackend
from notifications.models import BulkMessage, MessageTemplate, Notification
from payments.models import RetainerOrder, RetainerTerms

VISITORS = ("anonymous", "claimant_b", "password_only_staff", "viewer", "paralegal", "lawyer")
STAFF_ROLES = {"viewer": Role.VIEWER, "paralegal": Role.PARALEGAL, "lawyer": Role.LAWYER}


def url_patterns(patterns=None, prefix: str = "", namespace: str | None = None):
    """(key, route, pattern) for every pattern, admin's included; key is `namespace:name` or the route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or None
            joined = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            key = f"{namespace}:{pattern.name}" if pattern.name and namespace else (pattern.name or route)
            yield key, route, pattern


@dataclass
class World:
    owner: User
    claim: Claim
    objects: dict[str, int]  # path parameter or admin model label -> id


def build_world() -> World:
    owner = claimant_ready()
    claim = SubmittedClaimFactory(claimant=owner, status=Claim.Status.INFO_REQUESTED)
    claim.services.set([Service.objects.get(slug="kakao-t")])
    item = LossItemFactory(claim=claim)
    evidence = EvidenceFactory(
        claim=claim,
        loss_item=item,
        file=ContentFile(png_bytes(), name="a.png"),
        display_file=ContentFile(png_bytes(), name="b.png"),
        preview_pages=[{"name": default_storage.save("evidence/preview", ContentFile(png_bytes())), "width": 1}],
    )
    lawyer = StaffFactory(role=Role.LAWYER, totp=True)
    info = InformationRequest.objects.create(
        claim=claim, requested_by=lawyer, message="영수증", due_date=timezone.localdate() + timedelta(days=7)
    )
    power = PowerOfAttorney.objects.get(user=owner)
    cohort = Cohort.objects.create(name="1차", incident=claim.incident, created_by=lawyer)
    wave = FilingWave.objects.create(cohort=cohort, name="1차 소송", court="서울중앙지방법원", created_by=lawyer)
    export = ExportJob.objects.create(kind=ExportJob.Kind.CLAIMS_CSV, cohort=cohort, requested_by=lawyer)
    model_version = DamageModelVersion.objects.filter(incident=claim.incident).first()
    recompute = RecomputeJob.objects.create(model_version=model_version)
    flag = Flag.objects.create(claim=claim, code=Flag.Code.AMOUNT_OUTLIER, severity=Flag.Severity.LOW)
    audit = AuditEntry.objects.create(
        actor=lawyer, action=AuditEntry.Action.VIEWED_CLAIM, object_type="claim", claim=claim
    )
    deletion = DeletionRequest.objects.create(user=owner)
    interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    periodic = PeriodicTask.objects.create(
        name="t", task="claims.tasks.estimates.estimate_sweep_task", interval=interval
    )
    receipt = SandboxIdentityBackend().identity_request(
        method=IdentityMethod.KAKAO, name="김민수", birth_date=date(1988, 4, 15), phone="010-1234-5678"
    )
    objects = {
        "pk": claim.pk,
        "receipt_id": receipt.receipt_id,
        "order_id": RetainerOrder.objects.get(claimant=owner).pk,
        "payments.retainerorder": RetainerOrder.objects.get(claimant=owner).pk,
        "payments.retainerterms": RetainerTerms.objects.first().pk,
        "payment_id": "order-test-urls-1",
        "evidence_pk": evidence.pk,
        "request_pk": info.pk,
        "evidence_id": evidence.pk,
        "power_of_attorney": power.pk,
        "identity_verification": identity_verified(owner).identity_verifications.get().pk,
        "document_id": ConsentDocument.objects.get(kind=ConsentDocument.Kind.PRIVACY_REQUIRED, version=1).pk,
        "cohort_id": cohort.pk,
        "wave_id": wave.pk,
        "job_id": export.pk,
        "auth.group": Group.objects.get(name=Role.LAWYER.value).pk,
        "django_celery_beat.periodictask": periodic.pk,
        "django_celery_beat.intervalschedule": interval.pk,
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(clocked_time=timezone.now()).pk,
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.create(minute="30", hour="3").pk,
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=37.5, longitude=127.0
        ).pk,
        "otp_totp.totpdevice": TOTPDevice.objects.get(user=lawyer).pk,
        "axes.accessattempt": AccessAttempt.objects.create(
            username=owner.email, ip_address="203.0.113.9", failures_since_start=1
        ).pk,
        "axes.accesslog": AccessLog.objects.create(username=owner.email, ip_address="203.0.113.9").pk,
        "axes.accessfailurelog": AccessFailureLog.objects.create(username=owner.email, ip_address="203.0.113.9").pk,
        "accounts.consentdocument": ConsentDocument.objects.filter(version=1).first().pk,
        "accounts.consentrecord": ConsentRecord.objects.filter(user=owner).first().pk,
        "accounts.powerofattorney": power.pk,
        "accounts.user": owner.pk,
        "accounts.deletionrequest": deletion.pk,
        "core.auditentry": audit.pk,
        "core.firmprofile": firm_profile_update(
            actor=lawyer, values={"name": "법무법인 한빛"}, logo=SimpleUploadedFile("logo.png", png_bytes())
        ).pk,
        "claims.claim": claim.pk,
        "claims.flag": flag.pk,
        "claims.rejectionreason": RejectionReason.objects.first().pk,
        "filing.cohort": cohort.pk,
        "filing.filingwave": wave.pk,
        "filing.exportjob": export.pk,
        "filing.readinessoverride": ReadinessOverride.objects.create(
            claim=claim, reason="우편 접수", created_by=StaffFactory(role=Role.LAWYER)
        ).pk,
        "claims.damagemodelversion": model_version.pk,
        "claims.recomputejob": recompute.pk,
        "claims.incident": Incident.objects.first().pk,
        "claims.service": Service.objects.first().pk,
        "claims.outagewindow": OutageWindow.objects.first().pk,
        "notifications.notification": Notification.objects.create(
            channel=Notification.Channel.EMAIL,
            template="claims/email/status",
            language="ko",
            user=owner,
            idempotency_key="test-urls:1",
        ).pk,
        "notifications.messagetemplate": MessageTemplate.objects.first().pk,
        "notifications.bulkmessage": BulkMessage.objects.create(
            audience="filing.cohort", audience_id=cohort.pk, audience_label="1차", kind="notice", message="안내"
        ).pk,
    }
    return World(owner=owner, claim=claim, objects=objects)


ROUTE_VALUES = {
    "token": "abcdefghijklmnop",
    "uidb64": "MQ",
    "service": "kakao-t",
    "action": "start_review",
    "app_label": "claims",
    "page": 1,
}


def admin_model_label(route: str) -> str | None:
    parts = route.split("/")
    if len(parts) > 3 and parts[0] == "admin" and f"{parts[1]}.{parts[2]}" in ADMIN_MODELS:
        return f"{parts[1]}.{parts[2]}"
    return None


ADMIN_MODELS = {model._meta.label_lower for model in admin.site._registry}


def concrete_path(key: str, route: str, world: World) -> str:
    """The route with every parameter filled with claimant A's (or the admin model's) object."""
    from django.contrib.contenttypes.models import ContentType

    label = admin_model_label(route)
    if route.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"
    if "(?P<app_label>" in route:
        return "/admin/claims/"
    values = {
        **ROUTE_VALUES,
        **world.objects,
        "object_id": world.objects.get(label) if label else None,
        "id": world.objects["accounts.user"],
        "content_type_id": ContentType.objects.get_for_model(Claim).pk,
    }
    if key == "accounts:power_of_attorney_download":
        values["pk"] = world.objects["power_of_attorney"]
    elif key in ("accounts:identity_wait", "accounts:identity_poll"):
        values["pk"] = world.objects["identity_verification"]
    elif label == "otp_totp.totpdevice":
        values["pk"] = world.objects["otp_totp.totpdevice"]
    elif key == "admin:view_on_site":
        values["object_id"] = world.claim.pk
    path = route
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        name = path[start + 1 : end].split(":")[-1]
        path = path[:start] + str(values[name]) + path[end + 1 :]
    return "/" + path


def visitor_clients(world: World) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    clients["claimant_b"] = Client()
    clients["claimant_b"].force_login(claimant_ready())
    clients["password_only_staff"] = Client()
    clients["password_only_staff"].force_login(StaffFactory(role=Role.LAWYER, totp=True))
    for visitor, role in STAFF_ROLES.items():
        clients[visitor] = admin_login(Client(), StaffFactory(role=role, totp=True))
    return clients


def outcome(response) -> str:
    """200, 403, 404, 405, or `302:login` / `302:admin-login` / `302:two-factor` / `302` for other redirects."""
    if response.status_code in (301, 302):
        location = response["Location"]
        for prefix, label in (("/admin/login/", "admin-login"), ("/accounts/login/", "login")):
            if location.startswith(prefix):
                return f"302:{label}"
        return "302"
    return str(response.status_code)


# What each visitor gets (anonymous, claimant B, staff with a password only, viewer, paralegal, lawyer).
LOGIN, ADMIN_LOGIN = "302:login", "302:admin-login"
PUBLIC = ("200", "200", ADMIN_LOGIN, "200", "200", "200")
GET_NOT_ALLOWED = ("405", "405", ADMIN_LOGIN, "405", "405", "405")  # POST-only; the POST sweep below checks them
SIGNED_IN = (LOGIN, "200", ADMIN_LOGIN, "200", "200", "200")  # the visitor's own account pages
AWAY_IF_SIGNED_IN = ("200", "302", ADMIN_LOGIN, "302", "302", "302")
CLAIMANT_ONLY = (LOGIN, "200", ADMIN_LOGIN, "302", "302", "302")  # staff are no claimants: sent elsewhere
A_S_CLAIM = (LOGIN, "404", ADMIN_LOGIN, "302", "302", "302")  # another claimant's claim does not exist for B
A_S_CLAIM_POST_ONLY = (LOGIN, "405", ADMIN_LOGIN, "302", "302", "302")
PERSONAL_DATA_FILE = (LOGIN, "404", ADMIN_LOGIN, "404", "200", "200")  # view_personal_data: paralegal, lawyer

SITE = {
    "home": ("200", "200", ADMIN_LOGIN, "200", "200", "200"),
    "healthz": ("200",) * 6,
    "payment_webhook": GET_NOT_ALLOWED,  # the gateway POSTs, signed; nobody's session counts
    # The sandbox pages play the identity app and the payment window for anyone at a demo (never in production).
    "integrations:sandbox_phone_list": PUBLIC,
    "integrations:sandbox_phone": PUBLIC,
    "integrations:payment_checkout": ("400", "400", ADMIN_LOGIN, "400", "400", "400"),  # opened without an order
    "readyz": ("200",) * 6,
    "favicon": ("302",) * 6,  # to the firm's logo or the site's icon (core.views.favicon)
    "firm_logo": ("200",) * 6,  # public: the header and the favicon show it on every page
    "set_language": ("302",) * 6,
    "accounts:account": SIGNED_IN,
    "accounts:signup": AWAY_IF_SIGNED_IN,
    "accounts:login": AWAY_IF_SIGNED_IN,
    "accounts:logout": ("405",) * 6,
    "accounts:phone_login": AWAY_IF_SIGNED_IN,
    "accounts:phone_login_code": (LOGIN, LOGIN, ADMIN_LOGIN, LOGIN, LOGIN, LOGIN),  # no number yet: step 1
    "accounts:phone_verify": SIGNED_IN,
    "accounts:phone_verify_send": GET_NOT_ALLOWED,
    "accounts:message_preferences": SIGNED_IN,
    "accounts:verify_email_sent": (LOGIN, "302", ADMIN_LOGIN, "302", "302", "302"),
    "accounts:verify_email_resend": GET_NOT_ALLOWED,
    "accounts:verify_email": PUBLIC,
    "accounts:password_change": SIGNED_IN,
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    "accounts:profile": SIGNED_IN,
    "accounts:address_search": (LOGIN, "400", ADMIN_LOGIN, "400", "400", "400"),  # no query: told to type one
    "accounts:data_export": SIGNED_IN,
    "accounts:deletion_request": SIGNED_IN,
    "accounts:deletion_request_cancel": GET_NOT_ALLOWED,
    "accounts:staff_two_factor": (LOGIN, "403", "200", "200", "200", "200"),
    "accounts:consents": CLAIMANT_ONLY,
    "accounts:consent_withdraw": CLAIMANT_ONLY,
    "accounts:power_of_attorney_sign": CLAIMANT_ONLY,
    "accounts:identity_verify": CLAIMANT_ONLY,
    # claimant A's identity check does not exist for claimant B nor for staff
    "accounts:identity_wait": (LOGIN, "404", ADMIN_LOGIN, "404", "404", "404"),
    "accounts:identity_poll": (LOGIN, "404", ADMIN_LOGIN, "404", "404", "404"),
    "accounts:power_of_attorney_download": PERSONAL_DATA_FILE,
    "accounts:power_of_attorney_verify": PUBLIC,
    "claims:index": CLAIMANT_ONLY,
    "claims:eligibility_check": PUBLIC,
    "claims:start": CLAIMANT_ONLY,
    "claims:detail": A_S_CLAIM,
    "filing:designation_sign": A_S_CLAIM,  # a 선정서 request of someone else's does not exist for B
    "filing:designation_download": A_S_CLAIM,
    "claims:resume": A_S_CLAIM,
    "claims:wizard_eligibility": A_S_CLAIM,
    "claims:wizard_claimant": A_S_CLAIM,
    "claims:wizard_losses": A_S_CLAIM,
    "claims:wizard_losses_service": A_S_CLAIM,
    "claims:wizard_evidence": A_S_CLAIM,
    "claims:wizard_review": A_S_CLAIM,
    "claims:submitted": A_S_CLAIM,
    "claims:evidence_upload": A_S_CLAIM_POST_ONLY,
    "claims:evidence_remove": A_S_CLAIM_POST_ONLY,
    "claims:evidence_download": A_S_CLAIM,
    "claims:evidence_display": A_S_CLAIM,
    "claims:evidence_finding": A_S_CLAIM,  # what the reading found, for the owner's evidence page (JSON)
    "claims:evidence_thumbnail": A_S_CLAIM,  # a small JPEG of the owner's file, drawn from its display copy/preview
    "claims:additions": A_S_CLAIM,  # files and a note after submission
    "claims:information_request": A_S_CLAIM,
    "claims:withdraw": A_S_CLAIM,
    "claims:rejoin": A_S_CLAIM_POST_ONLY,
    "claims:staff_evidence_download": PERSONAL_DATA_FILE,
    "claims:staff_evidence_display": PERSONAL_DATA_FILE,
    "payments:retainer": CLAIMANT_ONLY,
    "payments:retainer_return": (LOGIN, "302", ADMIN_LOGIN, "302", "302", "302"),
    "payments:receipt": (LOGIN, "404", ADMIN_LOGIN, "404", "404", "404"),
}

# The admin: who may view, add, change, delete each model (V viewer, P paralegal, L lawyer). Anyone else, and
# staff who have not entered their authenticator code, are sent to the admin login.
ADMIN_MODELS_ACCESS = {
    "auth.group": {"view": "L", "add": "", "delete": ""},
    "django_celery_beat.periodictask": {"view": "", "add": "", "delete": ""},
    "django_celery_beat.clockedschedule": {"view": "", "add": "", "delete": ""},
    "django_celery_beat.crontabschedule": {"view": "", "add": "", "delete": ""},
    "django_celery_beat.solarschedule": {"view": "", "add": "", "delete": ""},
    "django_celery_beat.intervalschedule": {"view": "", "add": "", "delete": ""},
    "otp_totp.totpdevice": {"view": "L", "add": "", "delete": "L"},
    "axes.accessattempt": {"view": "L", "add": "", "delete": "L"},
    "axes.accesslog": {"view": "L", "add": "", "delete": ""},
    "axes.accessfailurelog": {"view": "", "add": "", "delete": ""},
    "accounts.consentdocument": {"view": "L", "add": "L", "delete": ""},
    "accounts.consentrecord": {"view": "L", "add": "", "delete": ""},
    "accounts.powerofattorney": {"view": "L", "add": "", "delete": ""},
    "accounts.user": {"view": "L", "add": "L", "delete": ""},  # deleting users: superusers only
    "accounts.deletionrequest": {"view": "L", "add": "", "delete": ""},
    "core.auditentry": {"view": "L", "add": "", "delete": ""},
    "core.firmprofile": {"view": "L", "add": "", "delete": ""},  # one profile: added once, never deleted
    "claims.claim": {"view": "PL", "add": "", "delete": ""},
    "claims.flag": {"view": "PL", "add": "", "delete": ""},
    "claims.rejectionreason": {"view": "L", "add": "L", "delete": ""},
    "filing.cohort": {"view": "L", "add": "L", "delete": ""},
    "filing.filingwave": {"view": "L", "add": "L", "delete": "L"},
    "filing.exportjob": {"view": "L", "add": "", "delete": ""},
    "filing.readinessoverride": {"view": "L", "add": "L", "delete": ""},  # revoked by an action, never deleted
    "claims.damagemodelversion": {"view": "PL", "add": "L", "delete": ""},
    "claims.recomputejob": {"view": "L", "add": "", "delete": ""},
    "claims.incident": {"view": "VPL", "add": "L", "delete": "L"},
    "claims.service": {"view": "VPL", "add": "L", "delete": "L"},
    "claims.outagewindow": {"view": "VPL", "add": "L", "delete": ""},  # corrected, never deleted
    "notifications.notification": {"view": "L", "add": "", "delete": ""},  # the outbox, read only
    "notifications.messagetemplate": {"view": "L", "add": "L", "delete": ""},
    "notifications.bulkmessage": {"view": "L", "add": "L", "delete": ""},
    "payments.retainerorder": {"view": "L", "add": "", "delete": ""},
    "payments.retainerterms": {"view": "L", "add": "L", "delete": ""},
}
NOT_STAFF = ("302:admin-login",) * 3


def staff(letters: str, allowed: str = "200", refused: str = "403") -> tuple[str, ...]:
    return NOT_STAFF + tuple(allowed if initial in letters else refused for initial in "VPL")


ADMIN_SITE = {
    "admin:index": staff("VPL"),
    "admin:login": ("200", "200", "200", "302", "302", "302"),
    "admin:logout": ("302", "302", "302", "405", "405", "405"),
    "admin:password_change": staff("VPL"),
    "admin:password_change_done": staff("VPL"),
    "admin:autocomplete": staff("", refused="403"),
    "admin:jsi18n": staff("VPL"),
    "admin:view_on_site": staff("", refused="404"),
    "admin:app_list": staff("VPL"),
    "staff_funnel": staff("VL"),  # the funnel: aggregates, claims.view_dashboard (like the dashboard on the index)
    "admin/(?P<url>.*)$": staff("", refused="404"),
    # Views the apps add to their model admins.
    "admin:otp_totp_totpdevice_config": staff(""),  # nobody reads a colleague's authenticator secret
    "admin:otp_totp_totpdevice_qrcode": staff(""),
    "admin:auth_user_password_change": staff(""),  # setting a colleague's password: superusers only
    "admin:claims_claim_review": staff("PL"),
    "admin:claims_claim_evidence": staff("PL"),
    "admin:claims_claim_evidence_preview": staff("PL"),
    "admin:filing_cohort_freeze": staff("L"),
    "admin:filing_cohort_export": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "405", "405", "405"),
    "admin:filing_filingwave_freeze": staff("L"),
    "admin:filing_filingwave_filed": staff("L"),
    "admin:filing_filingwave_selected_parties": staff("VPL", allowed="405"),  # POST only (Lawyers: the panel)
    "admin:filing_filingwave_export": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "405", "405", "405"),
    "admin:filing_filingwave_court_costs_csv": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "403", "403", "200"),
    "admin:filing_exportjob_status": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "403", "403", "200"),
    "admin:filing_exportjob_progress": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "403", "403", "200"),
    "admin:filing_exportjob_download": (ADMIN_LOGIN, "403", ADMIN_LOGIN, "403", "403", "409"),  # not built yet
    "admin:filing_exportjob_change": staff("L", allowed="302"),  # the job's status page
    "admin:claims_damagemodelversion_preview": staff("PL", allowed="404"),  # only drafts have a preview
    "admin:claims_damagemodelversion_activate": staff("", refused="405"),
    "admin:claims_damagemodelversion_copy": staff("", refused="405"),
    "admin:claims_outagewindow_recompute": staff("", refused="405"),
    "admin:payments_retainerorder_refund": staff("L"),
    "admin:payments_retainerorder_waive": staff("L"),
    "admin:core_firmprofile_changelist": staff("L", allowed="302"),  # the one profile's page
}


def admin_model_expectations() -> dict[str, tuple[str, ...]]:
    expected = {}
    for label, access in ADMIN_MODELS_ACCESS.items():
        app_label, model_name = label.split(".")
        prefix = f"admin:{app_label}_{model_name}"
        expected[f"{prefix}_changelist"] = staff(access["view"])
        expected[f"{prefix}_history"] = staff(access["view"])
        expected[f"{prefix}_change"] = staff(access["view"])
        expected[f"{prefix}_add"] = staff(access["add"])
        expected[f"{prefix}_delete"] = staff(access["delete"])
        expected[f"admin/{app_label}/{model_name}/<path:object_id>/"] = staff("VPL", allowed="302", refused="302")
    return expected


EXPECTED = {**SITE, **admin_model_expectations(), **ADMIN_SITE}


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.mark.django_db
def test_every_url_pattern_has_an_expectation():
    """A new page must be added to the table above, deciding who may open it."""
    missing = [key for key, _route, _pattern in url_patterns() if key not in EXPECTED]
    assert missing == []
    assert {model._meta.label_lower for model in admin.site._registry} == set(ADMIN_MODELS_ACCESS)


@pytest.mark.django_db
def test_every_visitor_gets_what_the_table_says_at_every_url(world):
    clients = visitor_clients(world)
    wrong = []
    for key, route, _pattern in url_patterns():
        path = concrete_path(key, route, world)
        for visitor, expected in zip(VISITORS, EXPECTED[key], strict=True):
            got = outcome(clients[visitor].get(path))
            if got != expected:
                wrong.append(f"{key} {path} as {visitor}: expected {expected}, got {got}")
    assert wrong == []


@pytest.mark.django_db
def test_the_owner_reaches_every_page_of_their_claim(world):
    client = Client()
    client.force_login(world.owner)
    for key, route, _pattern in url_patterns():
        if SITE.get(key) in (A_S_CLAIM, PERSONAL_DATA_FILE) and key.startswith(("claims:", "accounts:")):
            if "staff" in key:
                continue
            response = client.get(concrete_path(key, route, world))
            assert response.status_code in (200, 302), key


@pytest.mark.django_db
def test_another_claimant_cannot_change_anything_of_a_claim_by_posting(world):
    """Every claimant URL that takes A's ids, posted to by B with plausible data: 404, and nothing changed."""
    client = Client()
    client.force_login(claimant_ready())
    claim = world.claim
    before = (claim.status, claim.loss_items.count(), claim.evidence.count(), claim.events.count())
    data = {"answer": "B의 답변", "reason": "B", "confirm": "on", "tag": "other", "was_using": "yes"}
    posted: list[int] = []
    for key, route, _pattern in url_patterns():
        if key.startswith("claims:") and "<int:pk>" in route:
            status = client.post(concrete_path(key, route, world), data).status_code
            # 404 from every view that takes a POST; a GET-only view may answer 405 before looking anything up.
            assert status == 404 or (status == 405 and SITE[key] == A_S_CLAIM), key
            posted.append(status)
    claim.refresh_from_db()
    assert (claim.status, claim.loss_items.count(), claim.evidence.count(), claim.events.count()) == before
    assert posted.count(404) >= 10  # the wizard steps, uploads, removal, answers, withdrawal, re-joining
