"""Pictures drawn with the Nanum font (Debian fonts-nanum), whose text is known: for the OCR and evidence-reading
tests and the evidence-reading benchmark."""

import io
import subprocess
from functools import cache

from PIL import Image, ImageDraw, ImageFont


@cache
def nanum_path() -> str:
    found = subprocess.run(  # noqa: S603
        ["fc-match", "-f", "%{file}", "NanumGothic"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "NanumGothic" in found, f"fonts-nanum is missing (fc-match gave {found!r})"
    return found


def drawn_image(lines, *, size=(900, 520), font_size=40, mode="RGB", background="white"):
    """A picture with each (position, text) drawn in black, and each line's box (left, top, right, bottom)."""
    image = Image.new(mode, size, background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(nanum_path(), font_size)
    boxes = []
    for position, text in lines:
        draw.text(position, text, font=font, fill="black")
        boxes.append(draw.textbbox(position, text, font=font))
    return image, boxes


def drawn_png(lines, *, size=(900, 520), font_size=40, exif=None) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """drawn_image as PNG bytes (JPEG with `exif=`), and each line's box."""
    image, boxes = drawn_image(lines, size=size, font_size=font_size)
    buffer = io.BytesIO()
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif, quality=95)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue(), boxes
