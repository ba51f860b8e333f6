"""OCR with Tesseract 5 (Debian's tesseract-ocr and tesseract-ocr-kor) through pytesseract. docs/providers/ocr.md.

pytesseract runs the `tesseract` program on a temporary file and reads its TSV output: it needs only the program
and its language data from the Debian packages (the Makefile's SITE_PACKAGES and the Dockerfile install them), no
compiler or library headers, and its `timeout` ends the program when it runs too long. Not a sandbox: Tesseract
really reads the picture here, in development, in the tests and in production alike.
"""

from functools import cache

import pytesseract
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from core.exceptions import ProviderError
from integrations.ocr import OcrBackend, OcrResult, OcrWord

# Tesseract marks the rows of its TSV that are words with level 5 (1 page, 2 block, 3 paragraph, 4 line).
WORD_LEVEL = 5


def _engine_error(*, retryable: bool, code: str) -> ProviderError:
    if retryable:
        message = _("글자 읽기가 제시간에 끝나지 않았습니다. 잠시 뒤에 다시 시도합니다.")
    else:
        message = _("글자를 읽는 프로그램이 동작하지 않습니다. 관리자에게 알려 주세요.")
    return ProviderError(message, retryable=retryable, code=code, extra={"provider": "tesseract"})


@cache
def tesseract_version() -> str:
    """The installed Tesseract's version ("5.3.0"); ProviderError when the program is missing."""
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError as error:
        raise _engine_error(retryable=False, code="ocr_engine_missing") from error


def _lines(words: list[OcrWord]) -> dict[tuple[int, int, int], list[str]]:
    lines: dict[tuple[int, int, int], list[str]] = {}
    for word in words:
        lines.setdefault((word.block, word.paragraph, word.line), []).append(word.text)
    return lines


def _join_lines(lines: dict[tuple[int, int, int], list[str]]) -> str:
    text, previous_block = [], None
    for (block, _paragraph, _line), line_words in lines.items():
        if previous_block is not None and block != previous_block:
            text.append("")
        text.append(" ".join(line_words))
        previous_block = block
    return "\n".join(text)


class TesseractOcrBackend(OcrBackend):
    """Tesseract 5 on this machine; settings.OCR_TIMEOUT_SECONDS bounds one reading."""

    provider = "tesseract"

    def read(self, image: Image.Image, *, languages: tuple[str, ...]) -> OcrResult:
        version = tesseract_version()
        try:
            data = pytesseract.image_to_data(
                image,
                lang="+".join(languages),
                output_type=pytesseract.Output.DICT,
                timeout=settings.OCR_TIMEOUT_SECONDS,
            )
        except pytesseract.TesseractNotFoundError as error:
            raise _engine_error(retryable=False, code="ocr_engine_missing") from error
        except pytesseract.TesseractError as error:  # the program failed: a missing language, a crash
            raise _engine_error(retryable=False, code="ocr_engine_failed") from error
        except RuntimeError as error:  # pytesseract's time-out ends the program and raises a bare RuntimeError
            raise _engine_error(retryable=True, code="ocr_timeout") from error
        words = [
            OcrWord(
                text=text.strip(),
                confidence=float(data["conf"][index]),
                box=(data["left"][index], data["top"][index], data["width"][index], data["height"][index]),
                block=data["block_num"][index],
                paragraph=data["par_num"][index],
                line=data["line_num"][index],
            )
            for index, text in enumerate(data["text"])
            if data["level"][index] == WORD_LEVEL and text.strip()
        ]
        return OcrResult(text=_join_lines(_lines(words)), words=words, engine="tesseract", engine_version=version)
