"""The claimant's journey: one ordered list of the steps before a claim can be filed, and the one function that
answers "what is this claimant's next step". The page guard (accounts.decorators.claimant_required), the consents
and signing pages and services, and claim submission (claims.services.intake) all read this list, so a new step
(identity, payment, ...) is added here once. See docs/claimants.md, "Journey steps"."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentDocument, User
from accounts.selectors import ClaimantReadiness, claimant_readiness_cached
from integrations.identity import identity_backend

EMAIL = "email"
PROFILE = "profile"
CONSENTS = "consents"
IDENTITY = "identity"
POWER_OF_ATTORNEY = "power_of_attorney"
RETAINER = "retainer"  # owned by payments (it registers the check: accounts.selectors.journey_step_check_register)


@dataclass(frozen=True)
class JourneyStep:
    key: str
    label: Promise
    url_name: str  # the page where the claimant takes this step
    action: Promise  # the link to that page on the account page
    done: Callable[[ClaimantReadiness], bool]
    blocks_filing: bool  # a claim cannot be submitted while this step is open (claims.services.intake)
    problem: Promise | None = None  # what the review page and a refused submission say while it is open
    refusal: Promise | None = None  # what a later step's service says when asked before this one is done
    keeps_next: bool = True  # the guard passes ?next= so the claimant comes back to the page they asked for
    accepts: tuple[str, ...] = ()  # consent document kinds this step's own page accepts (signing accepts the POA)
    linked_when_done: bool = False  # the account page links the step's page even once it is done
    # Earlier steps that do not hold this step's page up: the identity check may still be done before signing.
    not_held_up_by: tuple[str, ...] = ()
    # Whether the claimant meets this step at all: False while its feature is off (no identity provider) or, for a
    # step of an app above accounts, until that app says it applies (a registered check).
    shown: Callable[[ClaimantReadiness], bool] = lambda readiness: True


_EARLIER_FIRST = _("이메일 인증과 회원 정보 입력을 먼저 마쳐 주세요.")

JOURNEY: tuple[JourneyStep, ...] = (
    JourneyStep(
        key=EMAIL,
        label=_("이메일 인증"),
        url_name="accounts:verify_email_sent",
        action=_("인증하기"),
        done=lambda readiness: readiness.email_verified,
        blocks_filing=False,
        refusal=_EARLIER_FIRST,
        keeps_next=False,
    ),
    JourneyStep(
        key=PROFILE,
        label=_("프로필 (이름·생년월일·휴대전화·주소)"),
        url_name="accounts:profile",
        action=_("채우기"),
        done=lambda readiness: readiness.profile_complete,
        blocks_filing=False,
        refusal=_EARLIER_FIRST,
    ),
    JourneyStep(
        key=CONSENTS,
        label=_("개인정보 동의"),
        url_name="accounts:consents",
        action=_("동의 관리"),
        done=lambda readiness: not readiness.consents_missing,
        blocks_filing=True,
        problem=_("최신 개인정보 수집·이용 동의와 위임 약정에 동의해 주세요."),
        refusal=_("필수 개인정보 동의를 먼저 해 주세요."),
        linked_when_done=True,  # to review or withdraw a consent
    ),
    JourneyStep(
        key=POWER_OF_ATTORNEY,
        label=_("소송위임장 서명"),
        url_name="accounts:power_of_attorney_sign",
        action=_("서명하기"),
        done=lambda readiness: readiness.power_of_attorney_signed,
        blocks_filing=True,
        problem=_("소송위임장에 서명해 주세요."),
        accepts=(ConsentDocument.Kind.POWER_OF_ATTORNEY,),
    ),
    JourneyStep(
        key=IDENTITY,
        label=_("본인인증 (카카오·PASS·네이버·토스)"),
        url_name="accounts:identity_verify",
        action=_("본인인증하기"),
        # Done by a verified identity check or by the current power of attorney signed with a 간편인증 certificate
        # (the certificate app checks the person first; proof level "certified signature", accounts/proof.py). It
        # comes after signing, so a certified signature finishes both steps at once; one who signs by drawing or
        # typing is then asked for the identity check. A power of attorney drawn or typed before identity checks
        # were switched on counts too: its signer is not sent back (their proof level says what it is worth).
        done=lambda readiness: readiness.identity_verified or readiness.power_of_attorney_counts_for_identity,
        blocks_filing=True,
        problem=_("휴대전화 본인인증(간편인증)을 마쳐 주세요."),
        refusal=_("본인인증을 먼저 마쳐 주세요."),
        shown=lambda readiness: identity_backend().available,
        # Its page stays open before signing (a claimant may check first, then sign with the same app); the
        # power-of-attorney text is accepted by signing it, so it does not hold this step up either.
        not_held_up_by=(POWER_OF_ATTORNEY,),
        accepts=(ConsentDocument.Kind.POWER_OF_ATTORNEY,),
    ),
    JourneyStep(
        key=RETAINER,
        label=_("착수금 결제"),
        url_name="payments:retainer",
        action=_("결제와 영수증"),
        done=lambda readiness: readiness.registered_steps.get(RETAINER, True),
        shown=lambda readiness: RETAINER in readiness.registered_steps,
        blocks_filing=True,
        problem=_("보수 약정에 따른 착수금을 결제해 주세요."),
        keeps_next=False,
        linked_when_done=True,  # the receipts and the ledger
    ),
)


def journey_steps(*, readiness: ClaimantReadiness) -> tuple[JourneyStep, ...]:
    """The steps this claimant meets, as configured now: JOURNEY without the steps that do not apply."""
    return tuple(step for step in JOURNEY if step.shown(readiness))


def journey_step(key: str) -> JourneyStep:
    """The step with this key."""
    return next(step for step in JOURNEY if step.key == key)


def journey_next_step(*, readiness: ClaimantReadiness) -> JourneyStep | None:
    """The first step not yet done, in the journey's order; None when every step is done."""
    return next((step for step in journey_steps(readiness=readiness) if not step.done(readiness)), None)


def claimant_next_step(*, user: User) -> JourneyStep | None:
    """What this claimant has to do next (None: nothing, they may file), from the page guards' cached readiness."""
    return journey_next_step(readiness=claimant_readiness_cached(user=user))


# Where a claimant goes once every step above is done: the claim wizard (claims, an app above accounts, named by
# its URL only). It opens the claim the claimant already has, or starts one from the eligibility answers.
JOURNEY_AFTER_STEPS_URL_NAME = "claims:start"


def journey_next_url(*, user: User, readiness: ClaimantReadiness | None = None) -> str:
    """The page of this claimant's next unfinished step, or the claim wizard once every step is done: where a
    screen that finishes a step (email verified, profile saved, power of attorney signed, signed in) sends them."""
    if user.is_staff:
        return reverse("admin:index")
    step = journey_next_step(readiness=readiness or claimant_readiness_cached(user=user))
    return reverse(step.url_name if step else JOURNEY_AFTER_STEPS_URL_NAME)


def journey_step_blocker(*, readiness: ClaimantReadiness, key: str) -> JourneyStep | None:
    """The first step before `key` still open, if any: the claimant must take it before this one. The consent
    documents the step at `key` accepts itself (signing accepts the power-of-attorney text) do not count."""
    step = journey_step(key)
    if step.accepts:
        missing = [document for document in readiness.consents_missing if document.kind not in step.accepts]
        readiness = replace(readiness, consents_missing=missing)
    steps = journey_steps(readiness=readiness)
    for earlier in steps[: steps.index(step)] if step in steps else ():
        if not earlier.done(readiness) and earlier.key not in step.not_held_up_by:
            return earlier
    return None


def journey_step_url(step: JourneyStep, *, next_url: str = "") -> str:
    """The step's page, with ?next= when the step keeps it and there is one."""
    url = reverse(step.url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url and step.keeps_next else url


def journey_filing_problems(*, readiness: ClaimantReadiness) -> list[str]:
    """What each open step that blocks filing says, in the journey's order."""
    return [
        str(step.problem)
        for step in journey_steps(readiness=readiness)
        if step.blocks_filing and not step.done(readiness)
    ]


@dataclass(frozen=True)
class JourneyStepState:
    step: JourneyStep
    state: str  # "done", "current" (the next step) or "todo"


def claimant_steps(*, user: User, readiness: ClaimantReadiness | None = None) -> list[JourneyStepState]:
    """Every step with whether it is done, the current one or still to do, for a progress display."""
    readiness = readiness or claimant_readiness_cached(user=user)
    current = journey_next_step(readiness=readiness)
    return [
        JourneyStepState(step=step, state="done" if step.done(readiness) else "current" if step is current else "todo")
        for step in journey_steps(readiness=readiness)
    ]
