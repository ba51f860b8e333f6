"""The claim wizard: a public eligibility check, then one step per screen, saved on every step.

eligibility -> claimant -> losses (one screen per service) -> evidence -> review and submit.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.decorators import claimant_required
from accounts.referrals import Referral, referral_from_cookie
from claims.forms import (
    ApplicantKindForm,
    ClaimantForm,
    CompensationForm,
    EligibilityForm,
    EvidenceUploadForm,
    LossItemFormSet,
    evidence_upload_initial,
    loss_item_initial,
)
from claims.models import Claim, Incident
from claims.selectors import intake as selectors
from claims.services import intake as services
from claims.services.intake import ClaimError
from claims.views.common import missing_evidence, not_editable, render_step, resume_url, upload_limits
from core.audit import RequestMeta

SESSION_KEY = "claims_eligibility"
CHECK_SESSION_KEY = "claims_eligibility_check"  # the funnel's EligibilityCheck row for this session
EVIDENCE_FIRST = gettext_lazy(
    "장애 시간 동안 서비스를 이용했다는 증거(오류 화면 캡처, 받지 못한 호출·예약 기록 등)를 미리 찾아 두세요. "
    "이 증거가 없어서 앞선 소송이 기각되었습니다."
)


def _incident_chosen(request: HttpRequest, incidents) -> Incident:
    """The incident posted with the answers or in ?incident=slug, else the one answered before login, else the
    default one."""
    slug = request.POST.get("incident") or request.GET.get("incident")
    saved = request.session.get(SESSION_KEY, {})
    incident = None
    if slug:
        incident = next((i for i in incidents if i.slug == slug), None)
    elif saved.get("incident"):
        incident = next((i for i in incidents if i.pk == saved["incident"]), None)
    incident = incident or next(iter(incidents), None)
    if incident is None:
        raise Http404("No incident is set up.")
    return incident


def _saved_initial(request: HttpRequest, incident: Incident) -> dict:
    saved = request.session.get(SESSION_KEY, {})
    if saved.get("incident") != incident.pk:
        return {}
    return {"windows": saved.get("windows", []), "was_using": "yes" if saved.get("was_using") else "no"}


def _referral_of(request: HttpRequest) -> Referral:
    """The referral kept at the first visit, or the account's own for a signed-in claimant."""
    user = request.user
    if user.is_authenticated and (user.referral_source or user.referral_code):
        return Referral(source=user.referral_source, code=user.referral_code)
    return referral_from_cookie(request)


@require_http_methods(["GET", "POST"])
def eligibility_check(request: HttpRequest) -> HttpResponse:
    """Public: can I join? Answered before any personal data is asked; the answers wait in the session."""
    incidents = list(selectors.incidents_for_eligibility())
    incident = _incident_chosen(request, incidents)
    windows = selectors.outage_windows_for_incident(incident=incident)
    form = EligibilityForm(request.POST or None, windows=windows, initial=_saved_initial(request, incident))
    kind_form = ApplicantKindForm(request.POST or None)
    problems = []
    if request.method == "POST" and form.is_valid() and kind_form.is_valid():
        was_using = form.cleaned_data["was_using"]
        request.session[SESSION_KEY] = {
            "incident": incident.pk,
            "windows": [window.pk for window in form.cleaned_data["windows"]],
            "was_using": was_using,
            "individual": kind_form.cleaned_data["applicant_kind"] == ApplicantKindForm.INDIVIDUAL,
        }
        problems = services.eligibility_problems(incident=incident, was_using=was_using)
        check = services.eligibility_check_record(
            check_id=request.session.get(CHECK_SESSION_KEY),
            incident=incident,
            eligible=not problems,
            referral=_referral_of(request),
        )
        request.session[CHECK_SESSION_KEY] = check.pk
        if not problems:
            if request.user.is_authenticated:
                return redirect(f"{reverse('claims:start')}?{urlencode({'incident': incident.slug})}")
            # Straight on to sign-up (its checklist shows what follows): one screen fewer than a page saying so.
            messages.success(
                request,
                _("%(incident)s 공동소송에 참여하실 수 있습니다. 가입하시면 답하신 내용이 신청서에 그대로 옮겨집니다.")
                % {"incident": incident.name},
            )
            messages.warning(request, EVIDENCE_FIRST)
            return redirect(f"{reverse('accounts:signup')}?{urlencode({'next': reverse('claims:start')})}")
    return render_step(
        request,
        None,
        "eligibility",
        "claims/wizard/eligibility.html",
        {
            "form": form,
            "kind_form": kind_form,
            "incident": incident,
            "incidents": incidents,
            "windows": windows,
            "problems": problems,
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Step 1 for a new claim, prefilled with the answers given before login."""
    incidents = list(selectors.incidents_for_eligibility())
    incident = _incident_chosen(request, incidents)
    existing = selectors.claim_active(user=request.user, incident=incident)
    if existing:  # one claim per claimant and incident: say so, and go to that claim
        messages.info(
            request,
            _("%(incident)s에 대해서는 이미 신청이 있습니다. 그 신청을 이어서 보여 드립니다.")
            % {"incident": incident.name},
        )
        return redirect(resume_url(existing))
    windows = selectors.outage_windows_for_incident(incident=incident)
    initial = _saved_initial(request, incident)
    # Answered before sign-up: the claim is started from those answers without asking them again (they stay
    # editable at the wizard's first step); with no saved answers, or if they no longer pass, the form is shown.
    carried = request.method == "GET" and initial.get("was_using") == "yes" and initial.get("windows")
    data = {"windows": initial.get("windows"), "was_using": "yes"} if carried else request.POST or None
    form = EligibilityForm(data, windows=windows, initial=initial)
    problems = []
    if data is not None and form.is_valid():
        was_using = form.cleaned_data["was_using"]
        problems = services.eligibility_problems(incident=incident, was_using=was_using)
        if not problems:
            try:
                claim = services.claim_start(
                    claimant=request.user,
                    incident=incident,
                    services=form.services(),
                    was_using=was_using,
                    meta=RequestMeta.from_request(request),
                )
            except ClaimError as error:
                if error.claim is not None:
                    messages.info(request, error.message)
                    return redirect(resume_url(error.claim))
                form.add_error(None, error.message)
            else:
                saved = request.session.pop(SESSION_KEY, None) or {}
                if carried:
                    return _carried_claim_next(request, claim, individual=saved.get("individual", False))
                return redirect("claims:wizard_claimant", pk=claim.pk)
    return render_step(
        request,
        None,
        "eligibility",
        "claims/wizard/eligibility.html",
        {
            "form": form,
            "incident": incident,
            "incidents": incidents,
            "windows": windows,
            "problems": problems,
            "from_check": bool(initial),
            "starting": True,
        },
    )


def _carried_claim_next(request: HttpRequest, claim: Claim, *, individual: bool) -> HttpResponse:
    """A claim started from the answers given before sign-up: an individual (answered on the check) skips the
    "who you are" screen; everyone else goes to it."""
    messages.info(request, _("가입 전에 답하신 내용으로 신청서를 만들었습니다. 1단계에서 고칠 수 있습니다"))
    if not individual:
        return redirect("claims:wizard_claimant", pk=claim.pk)
    services.claim_claimant_update(
        claim=claim,
        actor=request.user,
        claimant_type=Claim.ClaimantType.INDIVIDUAL,
        meta=RequestMeta.from_request(request),
    )
    return redirect("claims:wizard_losses", pk=claim.pk)


@claimant_required
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    return redirect(resume_url(selectors.claim_for_claimant(user=request.user, pk=pk)))


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if response := not_editable(request, claim):
        return response
    windows = selectors.outage_windows_for_incident(incident=claim.incident)
    chosen = set(claim.services.values_list("pk", flat=True))
    initial = {
        "windows": [window.pk for window in windows if window.service_id in chosen],
        "was_using": "yes" if claim.was_using_during_outage else "no",
    }
    form = EligibilityForm(request.POST or None, windows=windows, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_eligibility_update(
                claim=claim,
                actor=request.user,
                services=form.services(),
                was_using=form.cleaned_data["was_using"],
                meta=RequestMeta.from_request(request),
            )
        except ClaimError as error:
            form.add_error(None, error.message)
        else:
            return redirect("claims:wizard_claimant", pk=claim.pk)
    return render_step(
        request,
        claim,
        "eligibility",
        "claims/wizard/eligibility.html",
        {"form": form, "incident": claim.incident, "windows": windows, "problems": []},
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_claimant(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if response := not_editable(request, claim):
        return response
    initial = {
        "claimant_type": claim.claimant_type,
        "business_registration_number": claim.business_registration_number,
        "business_name": claim.business_name,
        "business_sector": claim.business_sector,
    }
    form = ClaimantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_claimant_update(
                claim=claim, actor=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ClaimError as error:
            form.add_error(None, error.message)
        else:
            return redirect("claims:wizard_losses", pk=claim.pk)
    return render_step(request, claim, "claimant", "claims/wizard/claimant.html", {"form": form})


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_losses(request: HttpRequest, pk: int) -> HttpResponse:
    """Every affected service with its loss items, and what the operator already paid."""
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if response := not_editable(request, claim):
        return response
    if request.method == "GET" and (only := _only_service_slug(claim)):
        return redirect("claims:wizard_losses_service", pk=claim.pk, service=only)
    form = CompensationForm(request.POST or None, initial={"already_compensated": claim.already_compensated})
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_compensation_update(
                claim=claim,
                actor=request.user,
                already_compensated=form.cleaned_data["already_compensated"],
                meta=RequestMeta.from_request(request),
            )
        except ClaimError as error:
            form.add_error(None, error.message)
        else:
            return redirect("claims:wizard_evidence", pk=claim.pk)
    items = list(selectors.loss_items_for_claim(claim=claim))
    groups = [
        {"window": window, "items": [item for item in items if item.service_id == window.service_id]}
        for window in selectors.outage_windows_for_incident(incident=claim.incident).filter(
            service__in=claim.services.all()
        )
    ]
    total = sum(item.claimed_amount for item in items)
    return render_step(
        request, claim, "losses", "claims/wizard/losses.html", {"form": form, "groups": groups, "total": total}
    )


def _only_service_slug(claim: Claim) -> str | None:
    """The claim's service when it has just one: its losses and the compensation are then asked on one screen."""
    slugs = list(claim.services.values_list("slug", flat=True)[:2])
    return slugs[0] if len(slugs) == 1 else None


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_losses_service(request: HttpRequest, pk: int, service: str) -> HttpResponse:
    """Add, change and remove the loss items of one service, its official outage window beside the form."""
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if response := not_editable(request, claim):
        return response
    window = (
        selectors.outage_windows_for_incident(incident=claim.incident)
        .filter(service__slug=service, service__in=claim.services.all())
        .first()
    )
    if window is None:
        raise Http404("Not one of this claim's services.")
    items = selectors.loss_items_for_claim(claim=claim).filter(service=window.service)
    formset = LossItemFormSet(request.POST or None, initial=[loss_item_initial(item) for item in items])
    # The only service: what the operator already paid is asked here too, and the screen goes on to the evidence.
    only = _only_service_slug(claim) == window.service.slug
    compensation = (
        CompensationForm(request.POST or None, initial={"already_compensated": claim.already_compensated})
        if only
        else None
    )
    if request.method == "POST" and formset.is_valid() and (compensation is None or compensation.is_valid()):
        try:
            services.claim_loss_items_save(
                claim=claim,
                actor=request.user,
                service=window.service,
                items=formset.items(),
                delete_ids=formset.delete_ids(),
                meta=RequestMeta.from_request(request),
            )
            if compensation is not None and "add_another" not in request.POST:
                services.claim_compensation_update(
                    claim=claim,
                    actor=request.user,
                    already_compensated=compensation.cleaned_data["already_compensated"],
                    meta=RequestMeta.from_request(request),
                )
        except ClaimError as error:
            formset.non_form_errors().append(error.message)
        else:
            if compensation is not None and "add_another" not in request.POST:
                return redirect("claims:wizard_evidence", pk=claim.pk)
            if "add_another" in request.POST:
                messages.success(request, _("저장했습니다. 아래 빈 칸에 다음 항목을 적어 주세요."))
                return redirect("claims:wizard_losses_service", pk=claim.pk, service=service)
            messages.success(request, _("%(service)s의 손해 항목을 저장했습니다.") % {"service": window.service.name})
            return redirect("claims:wizard_losses", pk=claim.pk)
    return render_step(
        request,
        claim,
        "losses",
        "claims/wizard/losses_service.html",
        {
            "formset": formset,
            "window": window,
            "outage_week": selectors.incident_outage_week(incident=claim.incident),
            "compensation": compensation,
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The claim's files (the evidence list) with the uploader; files are sent one per request."""
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if response := not_editable(request, claim):
        return response
    if request.method == "POST":
        services.claim_wizard_step_reached(claim=claim, actor=request.user, step="review")
        return redirect("claims:wizard_review", pk=claim.pk)
    loss_items = list(selectors.loss_items_for_claim(claim=claim))
    evidence = list(selectors.evidence_for_claim(claim=claim))
    checklist = selectors.claim_checklist(claim=claim, loss_items=loss_items, evidence=evidence)
    return render_step(
        request,
        claim,
        "evidence",
        "claims/wizard/evidence.html",
        {
            "evidence": evidence,
            "loss_items": loss_items,
            "upload_form": EvidenceUploadForm(
                loss_items=loss_items, initial=evidence_upload_initial(request.GET, loss_items=loss_items)
            ),
            **upload_limits(),
            "checklist": checklist,
            "missing": missing_evidence(claim, checklist),
            "can_remove": claim.status == Claim.Status.DRAFT,
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def wizard_review(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    error_message = ""
    if request.method == "POST":
        try:
            claim = services.claim_submit(claim=claim, actor=request.user, meta=RequestMeta.from_request(request))
        except ClaimError as error:
            error_message = error.message
        else:  # a second submit of the same claim lands here too and sees the same confirmation
            return redirect("claims:submitted", pk=claim.pk)
    if response := not_editable(request, claim):
        return response
    loss_items = list(selectors.loss_items_for_claim(claim=claim))
    evidence = list(selectors.evidence_for_claim(claim=claim))
    checklist = selectors.claim_checklist(claim=claim, loss_items=loss_items, evidence=evidence)
    return render_step(
        request,
        claim,
        "review",
        "claims/wizard/review.html",
        {
            "windows": selectors.outage_windows_for_incident(incident=claim.incident).filter(
                service__in=claim.services.all()
            ),
            "loss_items": loss_items,
            "evidence": evidence,
            "total": sum(item.claimed_amount for item in loss_items),
            "checklist": checklist,
            "missing": missing_evidence(claim, checklist),
            "readiness": request.claimant_readiness,
            "blocking": services.claim_blocking_problems(claim=claim, readiness=request.claimant_readiness),
            "error_message": error_message,
        },
    )


@claimant_required
def submitted(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if not claim.reference_code or claim.status == Claim.Status.DRAFT:
        return redirect(resume_url(claim))
    return render(request, "claims/wizard/submitted.html", {"claim": claim})
