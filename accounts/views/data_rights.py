"""Download all my data; ask for my account to be deleted (or take the request back)."""

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.exceptions import AccountError
from accounts.forms import DeletionRequestForm
from accounts.services import data_rights

RATE_DATA_EXPORT = "10/h"
RATE_DELETION_REQUEST = "10/h"


@never_cache
@require_GET
@login_required
@ratelimit(key="user", rate=RATE_DATA_EXPORT)
def data_export(request: HttpRequest) -> FileResponse:
    """A ZIP of everything we hold about the person, built into a temporary file that is gone once sent."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after streaming
    data_rights.user_data_export(user=request.user, out=out)
    out.seek(0)
    filename = f"kakao-claims-my-data-{timezone.localdate():%Y%m%d}.zip"
    return FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")


@login_required
@require_http_methods(["GET", "POST"])
@ratelimit(key="user", rate=RATE_DELETION_REQUEST, method="POST")
def deletion_request(request: HttpRequest) -> HttpResponse:
    open_request = data_rights.deletion_request_open(user=request.user)
    form = DeletionRequestForm(request.POST or None, user=request.user)
    if open_request is None and request.method == "POST" and form.is_valid():
        try:
            data_rights.deletion_request_create(user=request.user, reason=form.cleaned_data["reason"])
        except AccountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("계정 삭제 요청을 접수했습니다. 담당자가 확인한 뒤 처리 결과를 메일로 알려 드립니다.")
            )
            return redirect("accounts:account")
    return render(request, "accounts/deletion_request.html", {"form": form, "open_request": open_request})


@require_POST
@login_required
def deletion_request_cancel(request: HttpRequest) -> HttpResponse:
    open_request = data_rights.deletion_request_open(user=request.user)
    if open_request is None:
        messages.info(request, _("취소할 삭제 요청이 없습니다."))
        return redirect("accounts:account")
    try:
        data_rights.deletion_request_cancel(deletion_request=open_request, user=request.user)
    except AccountError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("계정 삭제 요청을 취소했습니다."))
    return redirect("accounts:account")
