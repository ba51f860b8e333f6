"""No script in an evidence PDF runs in a staff browser: a Lawyer opens the review page of a claim holding every
script-bearing PDF of the generated corpus (stored directly, as files uploaded before the upload check read them
would be), sees each as page images drawn on the server, no dialog and no PDF viewer, and downloads an original as
an attachment. A control shows that the same file in a browser's PDF viewer does raise the dialog."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from accounts.roles import Role
from claims.models import Claim, Evidence
from claims.tasks.evidence import evidence_preview_render_task
from claims.tests import pdf_corpus
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory
from claims.tests.staff import staff_member
from e2e.test_staff_review import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> dict[str, list]:
    """Every dialog (dismissed, so nothing blocks) and every response a PDF viewer could open: a PDF, or any
    response served inline with a PDF's type."""
    seen: dict[str, list] = {"dialogs": [], "pdf_responses": []}

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    def on_response(response):
        content_type = response.headers.get("content-type", "")
        if "pdf" in content_type or response.url.split("?")[0].endswith(".pdf"):
            seen["pdf_responses"].append((response.url, content_type))

    page.on("dialog", on_dialog)
    page.on("response", on_response)
    page.context.on("page", lambda opened: opened.on("dialog", on_dialog))
    return seen


def claim_holding_the_corpus() -> tuple[Claim, list[Evidence]]:
    claim = SubmittedClaimFactory()
    files = {**pdf_corpus.corpus_refused(), **{name: data for name, (data, _) in pdf_corpus.corpus_flagged().items()}}
    rows = [
        EvidenceFactory(
            claim=claim,
            file=ContentFile(data, name="evidence.pdf"),
            original_name=f"{name}.pdf",
            content_type="application/pdf",
            size=len(data),
            preview_status=Evidence.PreviewStatus.PENDING,
        )
        for name, data in files.items()
    ]
    return claim, rows


def test_the_control_a_scripted_pdf_in_the_browser_pdf_viewer_shows_its_dialog(desktop_page):
    """What the review page did before: the reported PDF in an <iframe>. Chromium's viewer runs its script, so the
    watcher below would catch a page that still handed PDFs to it."""
    page = desktop_page
    seen = watch(page)
    data = pdf_corpus.corpus_refused()["objstm_asciihex"]
    page.route(
        "http://pdf-control.invalid/statement.pdf",
        lambda route: route.fulfill(status=200, body=data, headers={"Content-Type": "application/pdf"}),
    )
    page.route(
        "http://pdf-control.invalid/",
        lambda route: route.fulfill(
            status=200,
            body='<iframe src="/statement.pdf" width="600" height="600"></iframe>',
            headers={"Content-Type": "text/html"},
        ),
    )
    page.goto("http://pdf-control.invalid/")
    for _ in range(240):  # a generous deadline (60 s) for the viewer to start on a busy machine
        if seen["dialogs"]:
            break
        page.wait_for_timeout(250)
    assert seen["dialogs"][:1] == ["pdf-script-ran"]
    assert seen["pdf_responses"] == [("http://pdf-control.invalid/statement.pdf", "application/pdf")]


def test_a_lawyer_reviews_every_scripted_pdf_as_page_images_with_no_dialog_and_no_pdf_viewer(desktop_page):
    page = desktop_page
    claim, rows = claim_holding_the_corpus()
    for evidence in rows:  # the preview task, run inline (eager) as the worker would
        assert evidence_preview_render_task.delay(evidence.pk).get() == "ready"
    seen = watch(page)

    sign_in_to_admin(page, staff_member(Role.LAWYER))
    page.goto(page.live_server_url + f"/admin/claims/claim/{claim.pk}/change/")
    expect(page.get_by_test_id("claim-status")).to_be_visible()
    for evidence in rows:
        item = page.get_by_test_id(f"evidence-{evidence.pk}")
        image = item.get_by_role("img", name=f"증빙 PDF {evidence.original_name}, 1쪽")
        image.scroll_into_view_if_needed()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("image => image.naturalWidth") > 200  # the page image itself arrived
        expect(item.get_by_test_id("pdf-findings")).to_be_visible()  # staff are told what the file holds

    assert page.locator("iframe, embed, object").count() == 0
    assert len(page.frames) == 1

    # The original leaves as a download, never opened by the browser.
    first = page.get_by_test_id(f"evidence-{rows[0].pk}")
    with page.expect_download() as download_info:
        first.get_by_role("link", name="원본 내려받기").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with rows[0].file.open("rb") as original:
        assert Path(download.path()).read_bytes() == original.read()

    assert seen["dialogs"] == []
    assert all(content_type == "application/octet-stream" for _url, content_type in seen["pdf_responses"])
    assert len(page.context.pages) == 1
