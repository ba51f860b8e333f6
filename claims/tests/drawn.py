"""Pictures drawn with the Nanum font for the evidence-reading tests: what Tesseract then reads is known."""

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


def drawn_png(lines, *, size=(900, 520), font_size=40, exif=None) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """A picture with each (position, text) drawn in black (PNG, or JPEG with `exif=`), and each line's box
    (left, top, right, bottom)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(nanum_path(), font_size)
    boxes = []
    for position, text in lines:
        draw.text(position, text, font=font, fill="black")
        boxes.append(draw.textbbox(position, text, font=font))
    buffer = io.BytesIO()
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif, quality=95)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue(), boxes
