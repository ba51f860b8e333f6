"""Input checks that do not need the database: business registration numbers, won amounts and the content of
uploaded evidence files (checked by what the bytes are, never by the file name)."""

import re
import warnings
from dataclasses import dataclass

import filetype
import pillow_heif
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image

from claims import pdfs

pillow_heif.register_heif_opener()

BUSINESS_NUMBER_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
WON_CEILING = 1_000_000_000


def business_registration_number_normalize(value: str) -> str:
    """'123-45-67890' or '123 45 67890' -> '1234567890'."""
    return re.sub(r"[\s-]", "", value or "")


def business_registration_number_is_valid(number: str) -> bool:
    """The National Tax Service check digit: weights 1,3,7,1,3,7,1,3,5 on the first nine digits, plus
    floor(d9 * 5 / 10); the tenth digit is (10 - sum % 10) % 10."""
    if not re.fullmatch(r"\d{10}", number):
        return False
    digits = [int(char) for char in number]
    total = sum(d * w for d, w in zip(digits[:9], BUSINESS_NUMBER_WEIGHTS, strict=True))
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10 == digits[9]


def validate_business_registration_number(value: str) -> None:
    number = business_registration_number_normalize(value)
    if not re.fullmatch(r"\d{10}", number):
        raise ValidationError(_("사업자등록번호는 숫자 10자리입니다 (예: 123-45-67891)."), code="format")
    if not business_registration_number_is_valid(number):
        raise ValidationError(
            _("사업자등록번호가 올바르지 않습니다. 사업자등록증에 적힌 번호를 다시 확인해 주세요."), code="check_digit"
        )


def won_parse(value: str, *, allow_zero: bool = False) -> int:
    """'1,234,000', '1 234 000원' or '1234000' -> 1234000. Whole won only, from 1 (or 0) to WON_CEILING."""
    text = re.sub(r"[\s,원₩]", "", str(value))
    if not text:
        raise ValidationError(_("금액을 입력해 주세요."), code="required")
    if not text.isdigit():
        raise ValidationError(_("금액은 숫자로만 입력해 주세요 (예: 1,234,000)."), code="invalid")
    amount = int(text)
    if amount < (0 if allow_zero else 1):
        raise ValidationError(_("금액은 1원 이상이어야 합니다."), code="min_value")
    if amount > WON_CEILING:
        raise ValidationError(_("금액이 너무 큽니다. 10억 원 이하로 입력해 주세요."), code="max_value")
    return amount


@dataclass(frozen=True)
class EvidenceKind:
    content_type: str
    extension: str
    is_image: bool


# What an evidence file may be, by its content. HEIC is what iPhones save photos as.
EVIDENCE_KINDS = {
    "image/jpeg": EvidenceKind("image/jpeg", "jpg", True),
    "image/png": EvidenceKind("image/png", "png", True),
    "image/heic": EvidenceKind("image/heic", "heic", True),
    "image/heif": EvidenceKind("image/heif", "heif", True),
    "application/pdf": EvidenceKind("application/pdf", "pdf", False),
}
# Pillow's format names for the image kinds above.
PILLOW_FORMATS = {"image/jpeg": {"JPEG", "MPO"}, "image/png": {"PNG"}, "image/heic": {"HEIF"}, "image/heif": {"HEIF"}}
SNIFF_BYTES = 8192
# Decompression bombs: Pillow refuses (via the warning turned into an error below) images declaring more pixels.
# 60 megapixels holds any phone's normal photo (12-50 MP) and screenshots; decoding one takes about 180 MB.
Image.MAX_IMAGE_PIXELS = 60_000_000
# PDFs are read with a real parser (claims/pdfs.py). Scripts, program launches and rich media are refused: a
# receipt or a bank statement has none, and the claimant can make a clean copy. Forms that send data, XFA forms and
# files embedded in the PDF are accepted and flagged for staff (some bank and government PDFs carry them); staff
# only ever see PDFs as page images drawn on the server, and download the original as an attachment.
PDF_REFUSED_FINDINGS = frozenset({pdfs.JAVASCRIPT, pdfs.LAUNCH, pdfs.RICH_MEDIA})
PDF_FLAGGED_FINDINGS = frozenset({pdfs.EMBEDDED_FILE, pdfs.XFA, pdfs.SUBMIT_FORM})
PDF_ACTIVE_CONTENT_MESSAGE = _(
    "스크립트나 프로그램 실행 기능이 들어 있는 PDF는 받지 않습니다. 문서를 연 뒤 인쇄에서 'PDF로 저장'으로 다시 "
    "만들거나, 화면을 캡처한 사진으로 올려 주세요."
)
PDF_DAMAGED_MESSAGE = _("PDF 파일이 손상되었거나 완전하지 않습니다. 다시 저장해서 올려 주세요.")
PDF_UNREADABLE_MESSAGES = {
    pdfs.DAMAGED: PDF_DAMAGED_MESSAGE,
    pdfs.NO_PAGES: PDF_DAMAGED_MESSAGE,
    pdfs.PASSWORD: _(
        "암호가 걸린 PDF는 내용을 확인할 수 없어 받지 않습니다. 암호를 푼 뒤 인쇄에서 'PDF로 저장'으로 다시 만들어 "
        "올려 주세요."
    ),
    pdfs.TOO_COMPLEX: _(
        "PDF 파일의 구조가 너무 복잡해서 확인할 수 없습니다. 인쇄에서 'PDF로 저장'으로 다시 만들거나, 화면을 캡처한 "
        "사진으로 올려 주세요."
    ),
}
# What staff are told about a PDF's findings (flags on new uploads; every kind on files uploaded before the check).
PDF_FINDING_LABELS = {
    pdfs.JAVASCRIPT: _("스크립트(JavaScript)가 들어 있습니다."),
    pdfs.LAUNCH: _("프로그램이나 파일을 여는 동작(Launch)이 들어 있습니다."),
    pdfs.RICH_MEDIA: _("동영상·플래시 같은 미디어가 들어 있습니다."),
    pdfs.EMBEDDED_FILE: _("PDF 안에 다른 파일이 첨부되어 있습니다."),
    pdfs.XFA: _("XFA 양식이 들어 있습니다 (양식 안에 스크립트가 있을 수 있습니다)."),
    pdfs.SUBMIT_FORM: _("입력 내용을 외부로 보내거나 가져오는 양식 동작이 들어 있습니다."),
}

REFUSED_TYPE_MESSAGE = _(
    "올릴 수 없는 파일입니다. 사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있습니다. "
    "파일 이름만 바꾼 파일이나 웹페이지·실행 파일은 받지 않습니다."
)


@dataclass(frozen=True)
class EvidenceCheck:
    kind: EvidenceKind
    pdf_findings: tuple[str, ...] = ()  # the flagged (accepted) active content of a PDF, sorted


def evidence_check(upload: UploadedFile) -> EvidenceCheck:
    """What the file really is, judged by its bytes; refuses anything but JPEG, PNG, HEIC and PDF, images that
    Pillow cannot read, PDFs that a parser cannot read or that hold scripts, and returns a PDF's flags."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    guess = filetype.guess(head)
    kind = EVIDENCE_KINDS.get(guess.mime) if guess else None
    if kind is None:
        raise ValidationError(REFUSED_TYPE_MESSAGE, code="type")
    findings: tuple[str, ...] = ()
    if kind.is_image:
        _verify_image(upload, kind)
    elif not _looks_like_pdf(upload):
        raise ValidationError(PDF_DAMAGED_MESSAGE, code="damaged")
    else:
        findings = pdf_findings_check(upload)
    upload.seek(0)
    return EvidenceCheck(kind=kind, pdf_findings=findings)


def evidence_kind_detect(upload: UploadedFile) -> EvidenceKind:
    return evidence_check(upload).kind


def pdf_findings_check(upload: UploadedFile) -> tuple[str, ...]:
    """Refuse a PDF with a script, launch or rich media in any revision, or one no parser can read (saying what
    to do instead); return the flagged findings the file is accepted with."""
    upload.seek(0)
    inspection = pdfs.pdf_inspect(upload.read())
    upload.seek(0)
    if inspection.findings & PDF_REFUSED_FINDINGS:
        raise ValidationError(PDF_ACTIVE_CONTENT_MESSAGE, code="active")
    if inspection.unreadable:
        raise ValidationError(PDF_UNREADABLE_MESSAGES[inspection.unreadable], code=inspection.unreadable)
    return tuple(sorted(inspection.findings & PDF_FLAGGED_FINDINGS))


def _verify_image(upload: UploadedFile, kind: EvidenceKind) -> None:
    damaged = ValidationError(_("사진 파일이 손상되어 열 수 없습니다. 다시 저장해서 올려 주세요."), code="damaged")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as image:
                if image.format not in PILLOW_FORMATS[kind.content_type]:
                    raise damaged
                image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise damaged from None
    finally:
        upload.seek(0)


def _looks_like_pdf(upload: UploadedFile) -> bool:
    """A PDF starts with %PDF- and has an end-of-file marker in its last kilobyte."""
    upload.seek(0)
    if upload.read(5) != b"%PDF-":
        return False
    size = upload.size or 0
    upload.seek(max(0, size - 1024))
    return b"%%EOF" in upload.read()
