"""Evidence reading, measured (issue 22, docs/evidence-reading.md): a corpus drawn here with the Nanum font whose
truth is known (chat screenshots, error dialogs, receipts, ID-card mock-ups, and degraded photos of screens), read
by the real Tesseract and the finders of claims/services/evidence_reading.py; prints date, amount and resident-
number precision and recall and seconds per image. Needs no database.

    python -m bench.evidence_reading --count 40          # alone
    make bench BENCH_ARGS="--count 0 --only evidence_reading"
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.metrics import Metric, median
from devtools.drawing import nanum_path

WIDTH, HEIGHT = 1080, 900  # a phone screenshot's width; tall enough for every kind
KINDS = ("chat", "error", "receipt", "id_card", "photo_of_screen")
WEEKDAYS = "월화수목금토일"


@dataclass
class Sample:
    kind: str
    image: bytes
    moments: set[str] = field(default_factory=set)  # "2022-10-15 15:42", or "2022-10-15" for a date alone
    amounts: set[int] = field(default_factory=set)
    resident_numbers: set[str] = field(default_factory=set)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(nanum_path(), size)


def _korean_time(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{'오전' if moment.hour < 12 else '오후'} {hour}:{moment.minute:02d}"


def _resident_number(rng: random.Random) -> str:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    gender = rng.choice("12" if birth.year < 2000 else "34")
    return f"{birth:%y%m%d}-{gender}{rng.randrange(10**6):06d}"


def _draw(lines: list[tuple[int, str]], font_size: int = 40) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = _font(font_size)
    for number, (left, text) in enumerate(lines):
        draw.text((left, 40 + number * 80), text, font=font, fill="black")
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _moment(rng: random.Random) -> datetime:
    start = datetime(2022, 10, 14, 8, 0)  # noqa: DTZ001 - what a screen shows: Korean wall-clock time
    return start + timedelta(minutes=rng.randrange(60 * 24 * 6))


def sample(kind: str, rng: random.Random) -> Sample:
    """One drawn picture of `kind` and what it truly shows."""
    moment = _moment(rng)
    day = f"{moment:%Y-%m-%d}"
    if kind in ("chat", "photo_of_screen"):
        later = min(moment + timedelta(minutes=rng.randrange(1, 90)), moment.replace(hour=23, minute=59))
        separator = f"{moment.year}년 {moment.month}월 {moment.day}일 {WEEKDAYS[moment.weekday()]}요일"
        lines = [
            (40, f"{later:%H:%M}"),  # the status-bar clock: a time alone, no date above it
            (300, separator),
            (60, "카카오톡 메시지가 안 가요"),
            (60, _korean_time(moment)),
            (60, "택시 호출도 안 됩니다"),
            (60, _korean_time(later)),
        ]
        truth = {f"{day} {moment:%H:%M}", f"{day} {later:%H:%M}"}
        image = _draw(lines)
        if kind == "photo_of_screen":  # a phone photo of a monitor: tilted, soft, grey, compressed
            image = image.rotate(rng.uniform(-2.5, 2.5), expand=True, fillcolor=(235, 235, 235))
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
            image = Image.blend(image, Image.new("RGB", image.size, (128, 128, 128)), 0.25)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=55)
            return Sample(kind, buffer.getvalue(), moments=truth)
        return Sample(kind, _png(image), moments=truth)
    if kind == "error":
        lines = [
            (60, "카카오톡 연결이 원활하지 않습니다"),
            (60, f"발생 시각 {moment:%Y-%m-%d %H:%M}"),
            (60, "고객센터 1577-3754"),
            (60, f"문의 010-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}"),
        ]
        return Sample(kind, _png(_draw(lines)), moments={f"{day} {moment:%H:%M}"})
    if kind == "receipt":
        amount = rng.randrange(30, 3000) * 100
        lines = [
            (60, "카카오T 블루 이용 영수증"),
            (60, f"이용 일시 {moment:%Y.%m.%d %H:%M}"),
            (60, f"승인번호 {rng.randrange(10**7, 10**8)}"),
            (60, f"사업자등록번호 {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10**4, 10**5)}"),
            (60, f"결제 금액 {amount:,}원"),
        ]
        return Sample(kind, _png(_draw(lines)), moments={f"{day} {moment:%H:%M}"}, amounts={amount})
    number = _resident_number(rng)
    issued = date(2015, 1, 1) + timedelta(days=rng.randrange(365 * 7))
    lines = [
        (60, "주민등록증"),
        (60, "홍길동"),
        (60, number),
        (60, "서울특별시 종로구 세종대로 209"),
        (60, f"{issued.year}. {issued.month}. {issued.day}."),
        (60, f"계좌 {rng.randrange(100, 999)}-{rng.randrange(100, 999)}-{rng.randrange(10**5, 10**6)}"),
    ]
    return Sample(kind, _png(_draw(lines)), moments={f"{issued:%Y-%m-%d}"}, resident_numbers={number})


def corpus(count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)  # noqa: S311 - synthetic pictures, not secrets
    return [sample(KINDS[index % len(KINDS)], rng) for index in range(count)]


def _found(sample_: Sample):
    from claims.services.evidence_reading import (
        amounts_found,
        lines_from_words,
        moments_found,
        resident_numbers_found,
    )
    from integrations.ocr import ocr_backend

    started = time.perf_counter()
    lines = lines_from_words(ocr_backend().image_read(sample_.image).words)
    moments = {
        f"{m.day:%Y-%m-%d} {m.clock:%H:%M}" if m.clock else f"{m.day:%Y-%m-%d}"
        for m in moments_found(lines, default_year=2022)
        if m.day is not None
    }
    amounts = {amount.won for amount in amounts_found(lines)}
    numbers = {found.number for found in resident_numbers_found(lines)}
    return moments, amounts, numbers, time.perf_counter() - started


def _precision_recall(name: str, found: int, true: int, correct: int, images: int) -> list[Metric]:
    precision = correct / found if found else None
    recall = correct / true if true else None
    note = f"{correct} right of {found} found, {true} true"
    return [
        Metric(f"evidence reading, {name} precision", precision, "", n=images, note=note),
        Metric(f"evidence reading, {name} recall", recall, "", n=images, note=note),
    ]


def measure(*, count: int = 40, seed: int = 22) -> list[Metric]:
    """Read the corpus and compare with its truth (micro-averaged over all pictures)."""
    samples = corpus(count, seed)
    tallies = {"date": [0, 0, 0], "amount": [0, 0, 0], "resident number": [0, 0, 0]}
    dates_by_kind = {kind: [0, 0] for kind in KINDS}  # true, read
    seconds = []
    for item in samples:
        moments, amounts, numbers, took = _found(item)
        seconds.append(took)
        dates_by_kind[item.kind][0] += len(item.moments)
        dates_by_kind[item.kind][1] += len(moments & item.moments)
        for name, found, true in (
            ("date", moments, item.moments),
            ("amount", amounts, item.amounts),
            ("resident number", numbers, item.resident_numbers),
        ):
            tallies[name][0] += len(found)
            tallies[name][1] += len(true)
            tallies[name][2] += len(found & true)
    metrics = []
    for name, (found, true, correct) in tallies.items():
        metrics += _precision_recall(name, found, true, correct, len(samples))
    by_kind = ", ".join(f"{kind} {read}/{true}" for kind, (true, read) in dates_by_kind.items() if true)
    metrics[1].note += f"; by kind: {by_kind}"
    metrics.append(
        Metric(
            "evidence reading, seconds per image (median)",
            median(seconds),
            "s",
            n=len(samples),
            note=f"mean {sum(seconds) / len(seconds):.2f} s, max {max(seconds):.2f} s; OCR and extraction",
        )
    )
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evidence reading: accuracy and speed on a drawn corpus.")
    parser.add_argument("--count", type=int, default=40, help="pictures (default 40: 8 of each kind)")
    parser.add_argument("--seed", type=int, default=22)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    for metric in measure(count=options.count, seed=options.seed):
        value = "-" if metric.value is None else f"{metric.value:.3f}"
        print(f"{metric.metric:<52} {value:>8} {metric.unit:<2} {metric.note}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
