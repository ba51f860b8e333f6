"""The wave page's selected parties (선정당사자) panel: pick them by plaintiff number, ask every plaintiff to sign
the 선정서, and see how many have signed. The rules are in filing/services/selected_parties.py."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import RequestMeta
from filing.models import FilingWave
from filing.selectors.selected_parties import designation_counts, selected_parties_for_wave
from filing.services.cohorts import PERMISSION_WAVE
from filing.services.selected_parties import (
    SelectedPartyError,
    designation_requests_start,
    selected_parties_pick,
)


class SelectedPartiesForm(forms.Form):
    numbers = forms.CharField(
        label=gettext_lazy("선정당사자 원고 번호"),
        max_length=200,
        help_text=gettext_lazy("쉼표로 구분해 적으세요. 예: 1, 7"),
    )

    def clean_numbers(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["numbers"].replace(" ", ",").split(",") if part.strip()]
        if not parts or not all(part.isdigit() for part in parts):
            raise forms.ValidationError(_("원고 번호를 숫자로, 쉼표로 구분해 적어 주세요."))
        return [int(part) for part in parts]


def selected_parties_context(request: HttpRequest, *, wave: FilingWave) -> dict:
    if wave.status == FilingWave.Status.DRAFT:
        return {}
    parties = selected_parties_for_wave(wave=wave)
    return {
        "selected_parties": parties,
        "selected_parties_form": SelectedPartiesForm(
            initial={"numbers": ", ".join(str(member.number) for member in parties)}
        ),
        "designation_counts": designation_counts(wave=wave),
        "can_pick_selected_parties": request.user.has_perm(PERMISSION_WAVE) and wave.status == FilingWave.Status.FROZEN,
    }


def selected_parties_post(request: HttpRequest, *, wave: FilingWave) -> None:
    """Handle the panel's two buttons, telling the result in a message."""
    meta = RequestMeta.from_request(request)
    try:
        if "request_designations" in request.POST:
            designation_requests_start(wave=wave, actor=request.user, meta=meta)
            messages.success(request, _("원고들에게 선정서 서명을 요청하는 메시지를 보내고 있습니다."))
            return
        form = SelectedPartiesForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("numbers", [])))
            return
        chosen = selected_parties_pick(wave=wave, numbers=form.cleaned_data["numbers"], actor=request.user, meta=meta)
        messages.success(request, _("선정당사자 %(count)d명을 정했습니다.") % {"count": len(chosen)})
    except SelectedPartyError as error:
        messages.error(request, error.message)
