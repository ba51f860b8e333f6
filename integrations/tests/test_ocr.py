"""The OCR seam with the real Tesseract: pictures drawn here with the Nanum font, read back with their words where
they were drawn; unreadable and oversized pictures refused before the engine; a missing, failing or hung engine."""

import io
import stat
import struct
import zlib
from functools import partial

import pytesseract
import pytest
from PIL import Image, ImageFile

from core.exceptions import ProviderError
from devtools.drawing import drawn_image
from integrations.ocr import OCR_MAX_SIDE, OcrImageError, ocr_backend
from integrations.ocr.tesseract import TesseractOcrBackend, tesseract_version

# Box edges may differ from Pillow's text box by a few pixels (anti-aliasing, the engine's own edges).
TOLERANCE = 8


drawn = partial(drawn_image, size=(1400, 500), font_size=48)


def png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def inside(box, line_box) -> bool:
    left, top, width, height = box
    line_left, line_top, line_right, line_bottom = line_box
    return (
        left >= line_left - TOLERANCE
        and top >= line_top - TOLERANCE
        and left + width <= line_right + TOLERANCE
        and top + height <= line_bottom + TOLERANCE
    )


def lines_of(result):
    """The words grouped by the line the engine put them on, in reading order."""
    lines = {}
    for word in result.words:
        lines.setdefault((word.block, word.paragraph, word.line), []).append(word)
    return list(lines.values())


RECEIPT = [
    ((80, 80), "카카오 서비스 장애 보상 신청"),
    ((80, 200), "결제 금액 35,000"),
    ((80, 320), "Receipt KAKAO PAY 2022-10-15"),
]


@pytest.fixture(scope="module")
def receipt():
    image, boxes = drawn(RECEIPT)
    return png(image), boxes


def test_the_configured_backend_is_tesseract_and_not_a_sandbox():
    backend = ocr_backend()
    assert isinstance(backend, TesseractOcrBackend)
    assert not backend.sandbox


def test_korean_and_english_words_are_read_where_they_were_drawn(receipt):
    image_bytes, boxes = receipt
    result = ocr_backend().image_read(image_bytes)

    lines = lines_of(result)
    assert [[word.text for word in line] for line in lines] == [
        ["카카오", "서비스", "장애", "보상", "신청"],
        ["결제", "금액", "35,000"],
        ["Receipt", "KAKAO", "PAY", "2022-10-15"],
    ]
    for words, line_box in zip(lines, boxes, strict=True):
        assert all(inside(word.box, line_box) for word in words), (words, line_box)
        lefts = [word.box[0] for word in words]
        assert lefts == sorted(lefts)
        assert all(word.confidence > 60 for word in words)
    # The last word of a line ends near the line's right edge: the boxes are not merely inside, they fit.
    assert abs(sum(lines[2][-1].box[::2]) - boxes[2][2]) <= TOLERANCE


def test_the_text_keeps_lines_and_blocks(receipt):
    result = ocr_backend().image_read(receipt[0])
    assert result.text == "카카오 서비스 장애 보상 신청\n결제 금액 35,000\n\nReceipt KAKAO PAY 2022-10-15"


def test_the_result_names_the_engine_and_the_image_size(receipt):
    result = ocr_backend().image_read(receipt[0])
    assert result.engine == "tesseract"
    assert result.engine_version.startswith("5.")
    assert result.image_size == (1400, 500)


def test_english_alone_can_be_asked_for(receipt):
    result = ocr_backend().image_read(receipt[0], languages=("eng",))
    assert "Receipt KAKAO PAY 2022-10-15" in result.text


def test_a_large_picture_is_read_smaller_and_its_boxes_given_in_its_own_pixels():
    size = (2 * OCR_MAX_SIDE, OCR_MAX_SIDE // 2)
    image, [line_box] = drawn([((OCR_MAX_SIDE, 600), "KAKAO 2022-10-15")], size=size, font_size=120)

    result = ocr_backend().image_read(png(image))

    assert result.image_size == size
    assert [word.text for word in result.words] == ["KAKAO", "2022-10-15"]
    assert all(inside(word.box, line_box) for word in result.words), (result.words, line_box)
    assert result.words[0].box[0] >= OCR_MAX_SIDE - TOLERANCE


def test_a_transparent_picture_is_read_on_white():
    image, _boxes = drawn([((40, 40), "KAKAO PAY")], size=(600, 160), mode="RGBA", background=(0, 0, 0, 0))
    assert [word.text for word in ocr_backend().image_read(png(image)).words] == ["KAKAO", "PAY"]


def test_a_photo_stored_sideways_is_read_upright():
    upright, _boxes = drawn([((40, 40), "KAKAO PAY")], size=(600, 160))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held on its side stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to show": undoes the quarter turn above
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", quality=95, exif=exif.tobytes())

    result = ocr_backend().image_read(buffer.getvalue())

    assert result.image_size == (600, 160)
    assert [word.text for word in result.words] == ["KAKAO", "PAY"]


@pytest.mark.parametrize(
    "image_bytes",
    [b"", b"not a picture at all", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"],
    ids=["empty", "text", "pdf"],
)
def test_a_file_that_is_not_a_picture_is_refused(image_bytes):
    with pytest.raises(OcrImageError) as refused:
        ocr_backend().image_read(image_bytes)
    assert refused.value.code == "image_unreadable"
    assert refused.value.status_code == 400


def corrupted(image_bytes: bytes) -> bytes:
    middle = len(image_bytes) // 2
    return (
        image_bytes[:middle]
        + bytes(byte ^ 0xFF for byte in image_bytes[middle : middle + 16])
        + image_bytes[middle + 16 :]
    )


@pytest.mark.parametrize("load_truncated_images", [False, True], ids=["pillow-default", "as-weasyprint-sets-it"])
@pytest.mark.parametrize("damage", ["cut-short", "corrupted"])
def test_a_damaged_picture_is_refused(receipt, monkeypatch, load_truncated_images, damage):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated_images)
    image_bytes = receipt[0][: len(receipt[0]) // 2] if damage == "cut-short" else corrupted(receipt[0])
    with pytest.raises(OcrImageError) as refused:
        ocr_backend().image_read(image_bytes)
    assert refused.value.code == "image_unreadable"


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels: a decompression bomb's shape."""
    real = png(Image.new("L", (1, 1), 255))
    header = struct.pack(">II", width, height) + real[24:29]  # size, then depth, colour, compression, filter, interlace
    chunk = b"IHDR" + header
    return real[:8] + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


@pytest.mark.parametrize(("width", "height"), [(8000, 8000), (100_000, 100_000)])
def test_a_picture_declaring_too_many_pixels_is_refused_before_it_is_decoded(width, height):
    with pytest.raises(OcrImageError) as refused:
        ocr_backend().image_read(png_declaring(width, height))
    assert refused.value.code == "image_too_large"
    assert refused.value.status_code == 400


def fake_tesseract(tmp_path, script: str) -> str:
    path = tmp_path / "tesseract"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def engine(monkeypatch):
    """Lets a test swap the tesseract program (the real version read first, as in any running process)."""
    tesseract_version()

    def swap(command: str) -> None:
        monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", command)

    yield swap
    tesseract_version.cache_clear()


def test_a_missing_engine_is_a_provider_error_that_is_not_retried(engine, receipt):
    engine("/nonexistent/tesseract")
    tesseract_version.cache_clear()
    with pytest.raises(ProviderError) as failed:
        ocr_backend().image_read(receipt[0])
    assert (failed.value.code, failed.value.retryable) == ("ocr_engine_missing", False)


def test_a_crashing_engine_is_a_provider_error_that_is_not_retried(engine, receipt, tmp_path):
    engine(fake_tesseract(tmp_path, "echo 'Segmentation fault' >&2; exit 139"))
    with pytest.raises(ProviderError) as failed:
        ocr_backend().image_read(receipt[0])
    assert (failed.value.code, failed.value.retryable) == ("ocr_engine_failed", False)


def test_a_language_the_engine_lacks_is_a_provider_error(receipt):
    with pytest.raises(ProviderError) as failed:
        ocr_backend().image_read(receipt[0], languages=("xyz",))
    assert failed.value.code == "ocr_engine_failed"


def test_an_engine_that_runs_past_its_time_limit_is_ended_and_retried_later(engine, receipt, tmp_path, settings):
    engine(fake_tesseract(tmp_path, "exec sleep 600"))
    settings.OCR_TIMEOUT_SECONDS = 1
    with pytest.raises(ProviderError) as failed:
        ocr_backend().image_read(receipt[0])
    assert (failed.value.code, failed.value.retryable) == ("ocr_timeout", True)
