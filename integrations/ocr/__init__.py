"""The OCR seam: reading the words of an evidence image, with where each word stands. docs/providers/ocr.md.

`ocr_backend().image_read(image_bytes, languages=("kor", "eng"))` gives an `OcrResult`: the text, line by line, and
its `OcrWord`s, each with the engine's confidence (0-100) and its box in the pixels of the upright image (EXIF
rotation applied), so staff can be shown where a date or an amount was read.

Before any engine sees it, the picture is opened here (`ocr_image_open`): a file Pillow cannot read is refused as
`OcrImageError` (400); one declaring more than OCR_MAX_PIXELS is refused before it is decoded (a decompression
bomb: a small file that would expand to gigabytes); one longer than OCR_MAX_SIDE on a side is read at a smaller
scale and its boxes given back in the original's pixels. An engine that is missing, crashes or runs past its time
limit raises ProviderError. Backends: `integrations.ocr.tesseract.TesseractOcrBackend` (Tesseract 5 on this machine).
"""

import io
import warnings
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.backends import ProviderBackend, backend_from_setting
from core.exceptions import InvalidInputError

# 60 megapixels holds any phone's normal photo (12-50 MP) and any screenshot; decoding one takes about 180 MB.
OCR_MAX_PIXELS = 60_000_000
# Text in a photo is read as well at 3,000 pixels on the long side as at more, in a fraction of the time.
OCR_MAX_SIDE = 3000
EXIF_ORIENTATION = 0x0112
ORIENTATIONS_TURNED = frozenset({5, 6, 7, 8})  # a quarter turn: the upright picture's width is the stored height


class OcrImageError(InvalidInputError):
    """The picture cannot be read (not an image, damaged) or is too large to read."""

    default_code = "ocr_image_invalid"


@dataclass(frozen=True)
class OcrWord:
    """One word: its text, the engine's confidence (0-100), its box (left, top, width, height) in the pixels of
    the upright image, and which block, paragraph and line (numbered by the engine, from 1) it belongs to."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]
    block: int
    paragraph: int
    line: int


@dataclass(frozen=True)
class OcrResult:
    """What was read: `text` (words joined by spaces, lines by newlines, blocks by a blank line), the `words`,
    the engine's name and version, and the size (width, height) of the upright image the boxes refer to."""

    text: str
    words: list[OcrWord] = field(default_factory=list)
    engine: str = ""
    engine_version: str = ""
    image_size: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class OcrImage:
    """A picture ready for an engine: `image` (upright, at most OCR_MAX_SIDE on a side) and `scale`, the factor
    from its pixels back to the original's."""

    image: Image.Image
    original_size: tuple[int, int]
    scale: float


def _unreadable() -> OcrImageError:
    return OcrImageError(
        _("그림 파일을 읽을 수 없습니다. JPG나 PNG 사진으로 다시 올려 주세요."), code="image_unreadable"
    )


def _too_large() -> OcrImageError:
    return OcrImageError(
        _("그림이 너무 커서 글자를 읽을 수 없습니다. 해상도를 줄이거나 필요한 부분만 캡처해서 올려 주세요."),
        code="image_too_large",
    )


def ocr_image_open(image_bytes: bytes) -> OcrImage:
    """The picture decoded, upright and scaled down for reading; OcrImageError when it cannot be read or would
    decode to more than OCR_MAX_PIXELS."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(image_bytes))
            width, height = image.size
            if width * height > OCR_MAX_PIXELS:
                raise _too_large()
            # Checked apart from decoding: WeasyPrint, imported in the same process, sets Pillow's
            # LOAD_TRUNCATED_IMAGES, which makes decoding fill the missing part of a damaged picture; verify()
            # still refuses a PNG whose chunks are cut short or fail their checksums.
            image.verify()
            image = Image.open(io.BytesIO(image_bytes))
            # JPEG decodes straight to a smaller scale: the full picture never has to be held in memory.
            image.draft("RGB", (OCR_MAX_SIDE, OCR_MAX_SIDE))
            turned = image.getexif().get(EXIF_ORIENTATION, 1) in ORIENTATIONS_TURNED
            image.load()
            image = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _too_large() from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise _unreadable() from error
    original_size = (height, width) if turned else (width, height)
    if image.mode not in {"L", "RGB"}:
        # Transparent parts become white paper, not black: dark text on them stays readable.
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    if max(image.size) > OCR_MAX_SIDE:
        image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE), Image.Resampling.LANCZOS)
    return OcrImage(image=image, original_size=original_size, scale=original_size[0] / image.size[0])


class OcrBackend(ProviderBackend):
    """Reads the words of a picture. A backend implements `read(picture, languages)` for a picture already opened
    by `ocr_image_open`, giving boxes in that picture's pixels; callers use `image_read`."""

    def image_read(self, image_bytes: bytes, *, languages: tuple[str, ...] = ("kor", "eng")) -> OcrResult:
        picture = ocr_image_open(image_bytes)
        result = self.read(picture.image, languages=languages)
        words = result.words
        if picture.scale != 1.0:
            words = [
                replace(word, box=tuple(round(value * picture.scale) for value in word.box)) for word in result.words
            ]
        return replace(result, words=words, image_size=picture.original_size)

    def read(self, image: Image.Image, *, languages: tuple[str, ...]) -> OcrResult:
        raise NotImplementedError


def ocr_backend() -> OcrBackend:
    """The backend that settings.OCR_BACKEND names."""
    return backend_from_setting("OCR_BACKEND")
