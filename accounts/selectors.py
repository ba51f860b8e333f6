"""Reads about accounts: above all, what a claimant still has to do before filing a claim."""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.consent_texts import EXAMPLE_MARKER
from accounts.models import ConsentDocument, ConsentRecord, IdentityVerification, PowerOfAttorney, User

# The documents a claimant must accept (their newest published versions) before filing.
REQUIRED_CONSENT_KINDS = (ConsentDocument.Kind.PRIVACY_REQUIRED, ConsentDocument.Kind.POWER_OF_ATTORNEY)
PROFILE_FIELDS = ("legal_name", "date_of_birth", "phone", "postal_code", "address")
# How long a claimant's "every consent given and the power of attorney signed" stays cached for the page guards
# (see claimant_readiness_cached); any change to it or to the published documents ends it at once.
READINESS_CACHE_SECONDS = 10 * 60
# The key in PowerOfAttorney.authentication marking a drawn or typed signature made while the identity step was
# still open: it does not complete that step (accounts.journey; a certified signature does).
IDENTITY_CHECK_PENDING = "identity_check_pending"


@dataclass(frozen=True)
class ClaimantReadiness:
    email_verified: bool
    profile_complete: bool
    consents_missing: list[ConsentDocument] = field(default_factory=list)
    power_of_attorney_signed: bool = False
    identity_verified: bool = False  # a verified identity check (간편인증) on record (accounts.IdentityVerification)
    # The current power of attorney completes the identity step too (docs/identity.md): signed with a 간편인증
    # certificate (the certificate app checked the person's name, phone and birth date before signing), or drawn or
    # typed while no identity check was asked for (before identity checks were switched on). One drawn or typed
    # while the identity step was open is marked (IDENTITY_CHECK_PENDING) and does not count.
    power_of_attorney_counts_for_identity: bool = False
    # The steps apps above accounts own (journey_step_check_register) that apply to this claimant: key -> done.
    registered_steps: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return (
            self.email_verified
            and self.profile_complete
            and not self.consents_missing
            and self.power_of_attorney_signed
            and all(self.registered_steps.values())
        )


# Journey steps owned by apps above accounts (the retainer: payments) register how to read them, from their
# AppConfig.ready(), so accounts never imports them: a function of the user answering None when the step does not
# apply to them (no gateway, no retainer in the fee terms), else whether it is done.
JourneyStepCheck = Callable[[User], bool | None]
_JOURNEY_STEP_CHECKS: dict[str, JourneyStepCheck] = {}


def journey_step_check_register(key: str, check: JourneyStepCheck) -> None:
    _JOURNEY_STEP_CHECKS[key] = check


def _registered_steps(user: User) -> dict[str, bool]:
    states = {key: check(user) for key, check in _JOURNEY_STEP_CHECKS.items()}
    return {key: done for key, done in states.items() if done is not None}


def _newest_of_each_kind(documents) -> list[ConsentDocument]:
    """From published documents ordered by kind and newest version first, the newest of each kind."""
    newest: dict[str, ConsentDocument] = {}
    for document in documents:
        newest.setdefault(document.kind, document)
    return list(newest.values())


def _published_documents():
    return ConsentDocument.objects.filter(published_at__isnull=False).order_by("kind", "-version")


def consent_documents_current() -> list[ConsentDocument]:
    """The newest published version of each kind of consent document."""
    return _newest_of_each_kind(_published_documents())


def consent_documents_with_examples() -> list[ConsentDocument]:
    """Current documents that still carry the seeded example firm details (consent_texts.EXAMPLE_MARKER):
    claimants would consent to, and sign a power of attorney for, a firm that does not exist."""
    return [document for document in consent_documents_current() if EXAMPLE_MARKER in document.body]


def consent_documents_missing(*, user: User, current: list[ConsentDocument] | None = None) -> list[ConsentDocument]:
    """Current required documents whose latest ledger entry by this user is not an acceptance of that version
    (`current`: consent_documents_current() if the caller has it already)."""
    documents = consent_documents_current() if current is None else current
    required = [doc for doc in documents if doc.is_required and doc.kind in REQUIRED_CONSENT_KINDS]
    latest_action: dict[int, str] = {}
    for record in ConsentRecord.objects.filter(user=user, document__in=required).order_by("at", "id"):
        latest_action[record.document_id] = record.action
    accepted_ids = {doc_id for doc_id, action in latest_action.items() if action == ConsentRecord.Action.ACCEPTED}
    return [doc for doc in required if doc.pk not in accepted_ids]


def power_of_attorney_current(*, user: User, current: list[ConsentDocument] | None = None) -> PowerOfAttorney | None:
    """The user's signed, not withdrawn, power of attorney on the current power-of-attorney text, if any."""
    documents = consent_documents_current() if current is None else current
    texts = [doc for doc in documents if doc.kind == ConsentDocument.Kind.POWER_OF_ATTORNEY]
    if not texts:
        return None
    return (
        PowerOfAttorney.objects.filter(user=user, document=texts[0], withdrawn_at__isnull=True)
        .order_by("-signed_at")
        .first()
    )


def claimant_readiness(*, user: User) -> ClaimantReadiness:
    """What the claimant still has to do, in one query (it runs on every claimant page): the published documents,
    each with the user's latest ledger action on it and whether they hold a signed, not withdrawn, power of
    attorney on it, and whether the user has a verified identity. The same answer as consent_documents_missing()
    and power_of_attorney_current()."""
    latest_action = ConsentRecord.objects.filter(user=user, document=OuterRef("pk")).order_by("-at", "-id")
    signed = PowerOfAttorney.objects.filter(user=user, document=OuterRef("pk"), withdrawn_at__isnull=True)
    current = _newest_of_each_kind(
        _published_documents().annotate(
            latest_action=Subquery(latest_action.values("action")[:1]),
            power_of_attorney_signed=Exists(signed),
            power_of_attorney_counts_for_identity=Exists(
                signed.exclude(authentication__has_key=IDENTITY_CHECK_PENDING)
            ),
            identity_verified=Exists(_identity_verified(user=user)),
        )
    )
    required = [doc for doc in current if doc.is_required and doc.kind in REQUIRED_CONSENT_KINDS]
    texts = [doc for doc in current if doc.kind == ConsentDocument.Kind.POWER_OF_ATTORNEY]
    return ClaimantReadiness(
        email_verified=user.is_email_verified,
        profile_complete=_profile_complete(user),
        consents_missing=[doc for doc in required if doc.latest_action != ConsentRecord.Action.ACCEPTED],
        power_of_attorney_signed=bool(texts) and texts[0].power_of_attorney_signed,
        power_of_attorney_counts_for_identity=bool(texts) and texts[0].power_of_attorney_counts_for_identity,
        identity_verified=current[0].identity_verified if current else _identity_verified(user=user).exists(),
        registered_steps=_registered_steps(user),
    )


def _identity_verified(*, user: User):
    """The user's verified identity checks whose details match their profile."""
    return IdentityVerification.objects.filter(
        user=user,
        kind=IdentityVerification.Kind.IDENTITY,
        status=IdentityVerification.Status.VERIFIED,
        profile_mismatch=[],
    )


def _profile_complete(user: User) -> bool:
    return all(getattr(user, name) for name in PROFILE_FIELDS)


# --- the page guards' cache of claimant_readiness ------------------------------------------------------------------
#
# A claimant filing a claim passes the guard on every page, and claimant_readiness costs a query whose building
# alone takes a millisecond and a half. Once a claimant has given every consent and signed the power of attorney,
# that fact is kept in the cache, stamped with two values read before the database was: the claimant's stamp
# (`User.readiness_stamp`, new whenever one of their ledger entries or signed documents is written or deleted, in the
# same transaction; it is on the user row every request loads) and the documents' stamp (in the cache, new whenever
# a consent document is saved or deleted). An entry is used only while both are unchanged, so a withdrawal or a new
# required version takes effect on the next request, even when another request was reading the old state at the
# same moment. The email and profile checks read the user row too.
#
# Redis may be down: then nothing is cached and every guard reads the database. The claimant's stamp is in the
# database, so a withdrawal during an outage cannot be lost; a document change whose new stamp cannot be written
# to Redis renews every claimant's stamp instead. Either way an entry cached before the outage is never used after
# it. Submitting a claim checks again from the database (claims.services.intake.claim_blocking_problems).

_DOCUMENTS_STAMP_KEY = "consent-readiness:documents"


def _cleared_key(user_id: int) -> str:
    return f"consent-readiness:cleared:{user_id}"


def claimant_readiness_cached(*, user: User) -> ClaimantReadiness:
    """claimant_readiness, answered from the cache for a claimant who has given every consent (see above)."""
    stamps = [user.readiness_stamp.hex]  # first: the user row, then the cache, then the database
    found = cache.get_many((_cleared_key(user.pk), _DOCUMENTS_STAMP_KEY))
    stamps.append(found.get(_DOCUMENTS_STAMP_KEY))
    cleared = found.get(_cleared_key(user.pk))
    if isinstance(cleared, dict) and cleared.get("stamps") == stamps:
        return ClaimantReadiness(
            email_verified=user.is_email_verified,
            profile_complete=_profile_complete(user),
            power_of_attorney_signed=True,
            power_of_attorney_counts_for_identity=cleared.get("power_of_attorney_counts_for_identity", False),
            identity_verified=cleared["identity_verified"],
            registered_steps=cleared["steps"],
        )
    readiness = claimant_readiness(user=user)
    steps_done = all(readiness.registered_steps.values())
    if not readiness.consents_missing and readiness.power_of_attorney_signed and steps_done:
        cleared = {
            "stamps": stamps,
            "identity_verified": readiness.identity_verified,
            "power_of_attorney_counts_for_identity": readiness.power_of_attorney_counts_for_identity,
            "steps": readiness.registered_steps,
        }
        cache.set(_cleared_key(user.pk), cleared, READINESS_CACHE_SECONDS)
    return readiness


def claimant_readiness_forget(*, user_id: int, user: User | None = None) -> None:
    """The claimant's consents or signed documents changed: their cached readiness is no longer used. Called inside
    the change's transaction; `user`, when the caller holds the row, gets the new stamp too."""
    stamp = uuid.uuid4()
    User.objects.filter(pk=user_id).update(readiness_stamp=stamp)
    if user is not None:
        user.readiness_stamp = stamp


def claimant_readiness_forget_all() -> None:
    """A consent document was saved or deleted: no claimant's cached readiness is used any more."""

    def renew() -> None:
        set_confirmed = getattr(cache, "set_confirmed", None)
        if set_confirmed is None:  # a local in-memory cache: never loses a write
            cache.set(_DOCUMENTS_STAMP_KEY, uuid.uuid4().hex, None)
        elif not set_confirmed(_DOCUMENTS_STAMP_KEY, uuid.uuid4().hex, None):
            # Redis does not answer and would keep the old stamp: every claimant's own stamp changes instead.
            User.objects.update(readiness_stamp=uuid.uuid4())

    renew()
    transaction.on_commit(renew)  # and again once the change is visible to other requests


def consent_latest_records(*, user: User) -> dict[int, ConsentRecord]:
    """The user's latest ledger entry for each document they ever accepted or withdrew, by document id."""
    latest: dict[int, ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(user=user).select_related("document").order_by("at", "id"):
        latest[record.document_id] = record
    return latest


@dataclass(frozen=True)
class ConsentStatus:
    """A current document as the consents page shows it to one user."""

    document: ConsentDocument
    record: ConsentRecord | None  # the user's latest ledger entry for this version
    previous: ConsentRecord | None  # their acceptance of an older version, when this one is not yet accepted

    @property
    def accepted(self) -> bool:
        return self.record is not None and self.record.action == ConsentRecord.Action.ACCEPTED


def consent_overview(*, user: User) -> list[ConsentStatus]:
    """Each current document with the user's standing on it: required documents first."""
    latest = consent_latest_records(user=user)
    overview = []
    for document in sorted(consent_documents_current(), key=lambda doc: (not doc.is_required, doc.kind)):
        record = latest.get(document.pk)
        older_acceptances = [
            entry
            for entry in latest.values()
            if entry.document.kind == document.kind
            and entry.document.version < document.version
            and entry.action == ConsentRecord.Action.ACCEPTED
        ]
        previous = None
        if older_acceptances and not (record and record.action == ConsentRecord.Action.ACCEPTED):
            previous = max(older_acceptances, key=lambda entry: entry.document.version)
        overview.append(ConsentStatus(document=document, record=record, previous=previous))
    return overview


def consent_accepted_document_ids(*, user: User) -> set[int]:
    """Ids of the documents whose latest ledger entry by this user is an acceptance."""
    return {
        document_id
        for document_id, record in consent_latest_records(user=user).items()
        if record.action == ConsentRecord.Action.ACCEPTED
    }


def power_of_attorney_for_download(*, user: User, pk: int) -> PowerOfAttorney | None:
    """A signed power of attorney the user may download: their own, or any with the personal-data permission."""
    queryset = PowerOfAttorney.objects.select_related("user", "document")
    if not user.has_perm("claims.view_personal_data"):
        queryset = queryset.filter(user=user)
    return queryset.filter(pk=pk).first()


def power_of_attorney_by_pdf_sha256(*, sha256: str) -> PowerOfAttorney | None:
    """The recorded signature whose stored PDF has exactly this SHA-256, if any."""
    return (
        PowerOfAttorney.objects.select_related("user", "document", "certified_signature")
        .filter(pdf_sha256=sha256)
        .first()
    )


# --- identity checks (간편인증) -------------------------------------------------------------------------------------


def identity_verification_for_user(*, user: User, pk: int) -> IdentityVerification | None:
    """The user's own request with this id."""
    return IdentityVerification.objects.filter(user=user, pk=pk).first()


def identity_check_latest(*, user: User) -> IdentityVerification | None:
    """The user's latest identity check, whatever came of it (the identity page explains a mismatch)."""
    return IdentityVerification.objects.filter(user=user, kind=IdentityVerification.Kind.IDENTITY).first()


def identity_verified_latest(*, user: User) -> IdentityVerification | None:
    """The user's latest verified identity check whose details match their profile, if any."""
    return _identity_verified(user=user).order_by("-verified_at").first()


def certified_signature_latest(*, user: User) -> IdentityVerification | None:
    """The user's latest verified certified signature (of any document), if any: the app and details a later
    certified signature uses when there is no identity check (accounts.services.signing.certified_signature_start)."""
    return (
        IdentityVerification.objects.filter(
            user=user, kind=IdentityVerification.Kind.SIGNATURE, status=IdentityVerification.Status.VERIFIED
        )
        .order_by("-verified_at")
        .first()
    )


def signed_document_pdf_ready(record: Any) -> bool:
    """Whether a signed record's PDF (a power of attorney's, a 선정서's) has been rendered by its worker: until then
    it cannot be downloaded, bundled or verified (accounts.services.signing.signed_document_pdf_render)."""
    return bool(record.pdf_sha256)


# A signed PDF still missing this long after signing had its task lost or failed: the sweeps queue it again, for a
# week (after that, or once the account is deleted, a refusing render is left for staff to see).
SIGNED_PDF_REQUEUE_AFTER = dt.timedelta(minutes=5)
SIGNED_PDF_REQUEUE_WITHIN = dt.timedelta(days=7)
SIGNED_PDF_REQUEUE_BATCH = 1000


def signed_records_unrendered(queryset: QuerySet, *, now: dt.datetime) -> list[int]:
    """Ids of signed records of `queryset` (powers of attorney, 선정서) whose PDF is still missing
    SIGNED_PDF_REQUEUE_AFTER after signing (index on pdf_sha256)."""
    return list(
        queryset.filter(
            pdf_sha256="",
            signed_at__lt=now - SIGNED_PDF_REQUEUE_AFTER,
            signed_at__gte=now - SIGNED_PDF_REQUEUE_WITHIN,
            user__anonymised_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SIGNED_PDF_REQUEUE_BATCH]
    )
