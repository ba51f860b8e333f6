"""The wave annex grouped by claim tier (filing/tiers.py), as judgments group plaintiff lists: businesses, paid-service
users, other financial losses, solatium only; plaintiff numbers kept, a subtotal per tier and the total."""

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from filing.models import ExportJob, WaveMember
from filing.tests.test_exports import exported, frozen_wave, lawyer  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

NAMES = ["가회사", "나위자", "다유료", "라지출"]


def tiered_wave(actor):
    """Plaintiff 1 a company, 2 solatium only, 3 a paid-service user (the factory's claim), 4 extra expenses."""
    wave = frozen_wave(actor, names=NAMES)
    WaveMember.objects.filter(wave=wave, number=1).update(claimant_type="company", business_name="가주식회사")
    WaveMember.objects.filter(wave=wave, number=2).update(claimed_by_kind={}, estimated_by_rule={"solatium": 100_000})
    WaveMember.objects.filter(wave=wave, number=4).update(
        claimed_by_kind={"expense": 50_000}, estimated_by_rule={"expense": 50_000, "solatium": 100_000}
    )
    return wave


def test_the_annex_xlsx_groups_plaintiffs_by_tier_with_a_subtotal_each(lawyer):  # noqa: F811
    wave = tiered_wave(lawyer)
    amounts = dict(wave.members.values_list("number", "amount_claimed"))
    sheet = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_XLSX, wave=wave))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    start = next(index for index, row in enumerate(rows) if row[0] == "번호") + 1
    body = [(row[0], row[1], row[3]) for row in rows[start:]]
    assert body == [
        ("사업자 (영업 손실)", None, None),
        (1, "가주식회사 (대표자 가회사)", amounts[1]),
        ("소계: 사업자 (영업 손실)", "1명", amounts[1]),
        ("유료 서비스 이용자", None, None),
        (3, "다유료", amounts[3]),
        ("소계: 유료 서비스 이용자", "1명", amounts[3]),
        ("추가 지출·기타 손해", None, None),
        (4, "라지출", amounts[4]),
        ("소계: 추가 지출·기타 손해", "1명", amounts[4]),
        ("위자료만 청구", None, None),
        (2, "나위자", amounts[2]),
        ("소계: 위자료만 청구", "1명", amounts[2]),
        ("합계", "4명", sum(amounts.values())),
    ]


def test_the_annex_pdf_shows_each_tier_in_order_and_subtotals_adding_up_to_the_total(lawyer):  # noqa: F811
    wave = tiered_wave(lawyer)
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_PDF, wave=wave))).pages
    )
    headings = ["사업자 (영업 손실)", "유료 서비스 이용자", "추가 지출·기타 손해", "위자료만 청구"]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    subtotals = [int(amount.replace(",", "")) for amount in re.findall(r"소계: [^\n]*?금 ([\d,]+)원", text)]
    assert len(subtotals) == 4 and sum(subtotals) == wave.claimed_total
