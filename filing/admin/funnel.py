"""The funnel page (`/admin/funnel/`, name `staff_funnel`): filing/selectors/funnel.py laid out as tables and an SVG
bar chart, with filters by sign-up date and referral source. Only aggregates (and campaign names and referral
codes, no personal data), so anyone with `claims.view_dashboard` (Viewers and Lawyers) may see it, like the
dashboard on the admin index, which links here."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.referrals import referral_value_clean
from claims.admin.dashboard import PERMISSION_DASHBOARD, bar_chart
from claims.selectors.dashboard import Row
from filing.selectors.funnel import (
    ACCOUNT,
    ACCOUNT_STEPS,
    CONSENTS,
    ELIGIBILITY_STARTED,
    ELIGIBLE,
    EVIDENCE_COMPLETE,
    FILED,
    IDENTITY,
    PAID,
    READY,
    SIGNED,
    STEPS,
    SUBMITTED,
    FunnelFilter,
    funnel_cached,
)

STEP_LABELS = {
    ELIGIBILITY_STARTED: _("참여 가능 여부 확인 시작"),
    ELIGIBLE: _("참여 가능"),
    ACCOUNT: _("회원 가입"),
    IDENTITY: _("본인인증"),
    CONSENTS: _("개인정보 동의"),
    SIGNED: _("소송위임장 서명"),
    SUBMITTED: _("신청 제출"),
    EVIDENCE_COMPLETE: _("이용 증빙 완비"),
    PAID: _("착수금 결제·면제"),
    READY: _("소 제기 준비 완료"),
    FILED: _("소 제기"),
}
DIRECT = "-"  # the filter's value for sign-ups without a utm_source
assert set(STEP_LABELS) == set(STEPS) and set(ACCOUNT_STEPS) < set(STEPS)  # noqa: S101 - a label per step


class FunnelFilterForm(forms.Form):
    since = forms.DateField(label=_("가입일 (부터)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("가입일 (까지)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(label=_("유입 경로 (utm_source)"), required=False, max_length=64)

    def clean_source(self) -> str | None:
        value = self.cleaned_data["source"].strip()
        if not value:
            return None
        if value == DIRECT:
            return ""
        cleaned = referral_value_clean(value, lower=True)
        if not cleaned:
            raise forms.ValidationError(_("유입 경로는 글자·숫자와 . _ - + 만 64자까지 쓸 수 있습니다."))
        return cleaned

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("시작일이 종료일보다 늦습니다."))
        return data

    def filters(self) -> FunnelFilter:
        if not self.is_valid():
            return FunnelFilter()
        return FunnelFilter(
            since=self.cleaned_data["since"], until=self.cleaned_data["until"], source=self.cleaned_data["source"]
        )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def funnel_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION_DASHBOARD):
        raise PermissionDenied
    form = FunnelFilterForm(request.GET or None)
    result = funnel_cached(filters=form.filters())
    steps = [
        {
            "key": step.key,
            "label": STEP_LABELS[step.key],
            "count": step.count,
            "applies": step.applies,
            "conversion": _percent(step.conversion),
            "dropped": step.dropped,
        }
        for step in result.steps
    ]
    chart = bar_chart([Row(str(STEP_LABELS[step.key]), step.count, key=step.key) for step in result.steps])
    median = result.median_to_ready
    context = {
        **admin.site.each_context(request),
        "title": _("참여 단계별 현황 (퍼널)"),
        "form": form,
        "funnel": result,
        "steps": steps,
        "step_labels": [(key, STEP_LABELS[key]) for key in STEPS],
        "chart": chart,
        "median_days": None if median is None else round(median.total_seconds() / 86400, 1),
        "requests_in_time": _percent(result.requests_in_time_share),
        "by_day": [(row.key, [row.count(key) for key in STEPS]) for row in result.by_day],
        "by_source": [(row.key, [row.count(key) for key in STEPS]) for row in result.by_source],
        "direct": DIRECT,
    }
    return TemplateResponse(request, "admin/filing/funnel.html", context)
