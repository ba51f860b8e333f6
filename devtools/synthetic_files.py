"""Small real files for synthetic evidence and powers of attorney: PNG "screenshots" and one-page PDFs.

Every file's bytes are a pure function of its key, so a given seed always yields the same files (and the same
SHA-256), and two rows that should share a file (the deliberate duplicates the fraud checks must find) are given
the same key. Pictures differ in their pixels, not only in their bytes, so their perceptual hashes differ too.
"""

import io
import random
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageDraw

from config.hashing import sha256_hex

PNG_SIZE = (48, 64)  # width, height: a tiny portrait "phone screenshot"
PDF_PAGE = (595, 842)  # A4 in points


@dataclass(frozen=True)
class SyntheticFile:
    content: bytes
    content_type: str
    sha256: str
    perceptual_hash: str = ""

    @property
    def size(self) -> int:
        return len(self.content)


def synthetic_png(key: str) -> SyntheticFile:
    """A screenshot-like picture: a light background with a few coloured bars (chat bubbles, buttons)."""
    rng = random.Random(f"png:{key}")
    shade = rng.randrange(220, 256)
    image = Image.new("RGB", PNG_SIZE, (shade, shade, rng.randrange(200, 256)))
    draw = ImageDraw.Draw(image)
    width, height = PNG_SIZE
    for _bar in range(rng.randrange(4, 9)):
        top = rng.randrange(0, height - 4)
        left = rng.randrange(0, width // 2)
        colour = (rng.randrange(0, 140), rng.randrange(0, 140), rng.randrange(0, 200))
        draw.rectangle((left, top, rng.randrange(left + 4, width), top + rng.randrange(2, 7)), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    content = buffer.getvalue()
    return SyntheticFile(content, "image/png", sha256_hex(content), str(imagehash.phash(image)))


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def synthetic_pdf(key: str, *, title: str, lines: tuple[str, ...] = ()) -> SyntheticFile:
    """A valid one-page PDF (Helvetica, ASCII text) that says it is synthetic test data."""
    body = [f"BT /F1 14 Tf 56 780 Td ({_pdf_text(title)}) Tj ET"]
    for number, line in enumerate(("SYNTHETIC BENCHMARK DATA - not a real document", f"key {key}", *lines)):
        body.append(f"BT /F1 10 Tf 56 {750 - 16 * number} Td ({_pdf_text(line)}) Tj ET")
    stream = "\n".join(body).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PDF_PAGE[0]} {PDF_PAGE[1]}] /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >>"
        ).encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    content = bytes(output)
    return SyntheticFile(content, "application/pdf", sha256_hex(content))
