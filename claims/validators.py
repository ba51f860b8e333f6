"""Input checks that do not need the database: business registration numbers, won amounts and the content of
uploaded evidence files (checked by what the bytes are, never by the file name)."""

import re
import warnings
import zlib
from dataclasses import dataclass

import filetype
import pillow_heif
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image

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
        raise ValidationError(_("사업자등록번호는 숫자 10자리입니다 (예: 123-45-67890)."), code="format")
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
# What a PDF may not contain: scripts, actions that open programs, files or forms, embedded files or media. A
# receipt or a bank statement has none of these; staff open evidence PDFs in their browser.
PDF_ACTIVE_CONTENT = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData|GoToE)(?![A-Za-z0-9])"
)
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_ACTIVE_CONTENT_MESSAGE = _(
    "스크립트나 첨부 파일이 들어 있는 PDF는 받지 않습니다. 문서를 연 뒤 인쇄에서 'PDF로 저장'으로 다시 만들어 "
    "올려 주세요."
)

REFUSED_TYPE_MESSAGE = _(
    "올릴 수 없는 파일입니다. 사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있습니다. "
    "파일 이름만 바꾼 파일이나 웹페이지·실행 파일은 받지 않습니다."
)


def evidence_kind_detect(upload: UploadedFile) -> EvidenceKind:
    """What the file really is, judged by its bytes; refuses anything but JPEG, PNG, HEIC and PDF, and images
    that Pillow cannot read."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    guess = filetype.guess(head)
    kind = EVIDENCE_KINDS.get(guess.mime) if guess else None
    if kind is None:
        raise ValidationError(REFUSED_TYPE_MESSAGE, code="type")
    if kind.is_image:
        _verify_image(upload, kind)
    elif not _looks_like_pdf(upload):
        raise ValidationError(_("PDF 파일이 손상되었거나 완전하지 않습니다. 다시 저장해서 올려 주세요."), "damaged")
    elif _pdf_has_active_content(upload):
        raise ValidationError(PDF_ACTIVE_CONTENT_MESSAGE, code="active")
    upload.seek(0)
    return kind


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


def _pdf_has_active_content(upload: UploadedFile) -> bool:
    """Whether the PDF names script, launch, form-submission or embedded-file features anywhere, including inside
    compressed object streams and behind #xx escapes in names (/J#61vaScript)."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    texts = [data]
    for match in PDF_STREAM.finditer(data):
        try:
            texts.append(zlib.decompressobj().decompress(match.group(1), 50 * 1024 * 1024))
        except zlib.error:
            continue
    return any(
        PDF_ACTIVE_CONTENT.search(PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text)) for text in texts
    )


def _looks_like_pdf(upload: UploadedFile) -> bool:
    """A PDF starts with %PDF- and has an end-of-file marker in its last kilobyte."""
    upload.seek(0)
    if upload.read(5) != b"%PDF-":
        return False
    size = upload.size or 0
    upload.seek(max(0, size - 1024))
    return b"%%EOF" in upload.read()
