"""What an evidence file says: dates and times, won amounts, service names and resident registration numbers,
each with the words (and, for a picture, their boxes) it was read from. docs/evidence-reading.md (issue 22).

Plain functions over plain data, no ORM and no I/O: `lines_from_words(ocr_words)` arranges OCR words into lines
(top to bottom, left to right) and `lines_from_text(text)` does the same for a PDF's text (no boxes); the
`*_found(lines, ...)` functions read those lines. Each pattern allows spaces between its parts because Tesseract
splits a number from the Korean unit after it ("2022년" is read as "2022" "년"): a line is matched as its words
joined by single spaces, and a match points back to every word it covers.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from integrations.ocr import OcrWord

Box = tuple[int, int, int, int]  # (left, top, width, height) in the upright picture's pixels


@dataclass(frozen=True)
class ReadWord:
    """A word of a line: its text and, when it came from a picture, its box."""

    text: str
    box: Box | None = None


@dataclass(frozen=True)
class ReadLine:
    """One line of words, in reading order; `text` is the words joined by single spaces."""

    words: tuple[ReadWord, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    def words_between(self, start: int, end: int) -> tuple[ReadWord, ...]:
        """The words that characters [start, end) of `text` fall in."""
        covered, position = [], 0
        for word in self.words:
            word_end = position + len(word.text)
            if position < end and start < word_end:
                covered.append(word)
            position = word_end + 1
        return tuple(covered)

    def boxes_between(self, start: int, end: int) -> tuple[Box, ...]:
        """The boxes of exactly characters [start, end) of `text`: a word only partly covered gives the part of its
        box those characters take (its width shared evenly among its characters)."""
        boxes, position = [], 0
        for word in self.words:
            word_end = position + len(word.text)
            if word.box is not None and position < end and start < word_end:
                first, last = max(start, position) - position, min(end, word_end) - position
                left, top, width, height = word.box
                share = width / len(word.text)
                part_left = left + int(share * first)
                boxes.append((part_left, top, left + round(share * last + 0.4999) - part_left, height))
            position = word_end + 1
        return tuple(boxes)


@dataclass(frozen=True)
class Evidence:
    """Where something was read: the text matched and the words (with boxes) it covers."""

    text: str
    words: tuple[ReadWord, ...]

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(word.box for word in self.words if word.box is not None)


@dataclass(frozen=True)
class FoundMoment:
    """A date, a time or both. `day` is None for a time with no date anywhere above it; `clock` is None for a
    date alone. `reason` holds every part it was put together from (a chat's date separator and the time below)."""

    day: date | None
    clock: time | None
    reason: tuple[Evidence, ...]

    def at(self, tzinfo) -> datetime | None:
        """The moment as an aware datetime in `tzinfo`, when both day and time are known."""
        if self.day is None or self.clock is None:
            return None
        return datetime.combine(self.day, self.clock, tzinfo=tzinfo)


@dataclass(frozen=True)
class FoundAmount:
    won: int
    reason: Evidence


@dataclass(frozen=True)
class FoundService:
    slug: str
    reason: Evidence


@dataclass(frozen=True)
class FoundResidentNumber:
    """A resident registration number; `masked` keeps the birth date and hides the last seven digits, and
    `hidden_boxes` are where those seven digits stand in the picture (empty for text)."""

    number: str
    masked: str
    reason: Evidence
    hidden_boxes: tuple[Box, ...]


def lines_from_words(words: Iterable[OcrWord]) -> list[ReadLine]:
    """OCR words as lines: grouped by the engine's (block, paragraph, line), words left to right, lines top to
    bottom (by the top of their highest word) so a chat's date separator comes before the messages below it."""
    grouped: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        if word.text.strip():
            grouped.setdefault((word.block, word.paragraph, word.line), []).append(word)
    ordered = sorted(grouped.values(), key=lambda line: (min(w.box[1] for w in line), min(w.box[0] for w in line)))
    return [
        ReadLine(words=tuple(ReadWord(text=w.text.strip(), box=w.box) for w in sorted(line, key=lambda w: w.box[0])))
        for line in ordered
    ]


def lines_from_text(text: str) -> list[ReadLine]:
    """Text (a PDF's, or typed) as lines of words without boxes."""
    return [ReadLine(words=tuple(ReadWord(text=part) for part in line.split())) for line in text.splitlines()]


def _evidence(line: ReadLine, match: re.Match) -> Evidence:
    return Evidence(text=match.group(0), words=line.words_between(match.start(), match.end()))


# Dates: "2022년 10월 15일 (토요일)", "2022.10.15", "2022. 10. 15.", "2022-10-15", "2022/10/15", "10월 15일".
_S = r"\s*"
DATE_PATTERNS = (
    re.compile(rf"(?<!\d)(?P<year>20\d\d){_S}년{_S}(?P<month>\d{{1,2}}){_S}월{_S}(?P<day>\d{{1,2}}){_S}일"),
    re.compile(
        rf"(?<![\d.\-/])(?P<year>20\d\d){_S}(?P<sep>[.\-/]){_S}(?P<month>\d{{1,2}}){_S}(?P=sep){_S}"
        rf"(?P<day>\d{{1,2}})(?!\d|{_S}[.\-/]{_S}\d)"
    ),
    re.compile(rf"(?<![\d년])(?P<month>\d{{1,2}}){_S}월{_S}(?P<day>\d{{1,2}}){_S}일"),
)
# Times: "오후 3:28", "오전 11:05", "15:42", "15:42:07", "3:28 PM" (a status-bar clock is a bare "15:42").
TIME_PATTERN = re.compile(
    rf"(?:(?P<half_ko>오전|오후){_S})?(?<![\d:])(?P<hour>[012]?\d){_S}:{_S}(?P<minute>[0-5]\d)"
    rf"(?:{_S}:{_S}(?P<second>[0-5]\d))?(?![\d:])(?:{_S}(?P<half_en>[AaPp][Mm])\b)?"
)


def _dates_on(line: ReadLine, *, default_year: int) -> list[tuple[re.Match, date]]:
    found: list[tuple[re.Match, date]] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(line.text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue  # "10월 15일" inside "2022년 10월 15일" is the same date
            parts = match.groupdict()
            year = int(parts["year"]) if parts.get("year") else default_year
            try:
                day = date(year, int(parts["month"]), int(parts["day"]))
            except ValueError:
                continue
            found.append((match, day))
            taken.append((match.start(), match.end()))
    return sorted(found, key=lambda item: item[0].start())


def _times_on(line: ReadLine) -> list[tuple[re.Match, time]]:
    found = []
    for match in TIME_PATTERN.finditer(line.text):
        hour, minute = int(match["hour"]), int(match["minute"])
        half = match["half_ko"] or (match["half_en"] or "").upper()
        if half:
            if not 1 <= hour <= 12:
                continue
            afternoon = half in {"오후", "PM"}
            hour = hour % 12 + (12 if afternoon else 0)
        if hour > 23:
            continue
        found.append((match, time(hour, minute, int(match["second"] or 0))))
    return found


def moments_found(lines: Sequence[ReadLine], *, default_year: int) -> list[FoundMoment]:
    """Every date and time read, in reading order. A time on a line with a date takes that date; a time alone
    takes the last date above it (a chat's "2022년 10월 15일 토요일" separator); a time with no date above stays a
    time alone; a date no time takes is a date alone. A date without a year ("10월 15일") is in `default_year`."""
    # (line number, position on the line) -> moment; a date is listed alone until a time takes it.
    moments: dict[tuple[int, int], FoundMoment] = {}
    last_date: tuple[tuple[int, int], date, Evidence] | None = None
    for number, line in enumerate(lines):
        dates, times = _dates_on(line, default_year=default_year), _times_on(line)
        for date_match, day in dates:
            place = (number, date_match.start())
            moments[place] = FoundMoment(day=day, clock=None, reason=(_evidence(line, date_match),))
        for time_match, clock in times:
            before = [(date_match, day) for date_match, day in dates if date_match.start() < time_match.start()]
            if before:
                date_match, day = before[-1]
                date_place, date_reason = (number, date_match.start()), _evidence(line, date_match)
            elif last_date is not None:
                date_place, day, date_reason = last_date
            else:
                date_place = None
            place = (number, time_match.start())
            if date_place is None:
                moments[place] = FoundMoment(day=None, clock=clock, reason=(_evidence(line, time_match),))
            else:
                moments.pop(date_place, None)
                moments[place] = FoundMoment(day=day, clock=clock, reason=(date_reason, _evidence(line, time_match)))
        if dates:
            date_match, day = dates[-1]
            last_date = ((number, date_match.start()), day, _evidence(line, date_match))
    return [moments[place] for place in sorted(moments)]


# Won amounts: "45,000원", "45,000 원", "₩12,345" (and the full-width ￦), "12,345 KRW", "금액 45,000".
_NUMBER = r"(?P<number>\d{1,3}(?:,\d{3})+|\d+)"
AMOUNT_KEYWORDS = (
    "총 결제금액",
    "결제금액",
    "승인금액",
    "결제 금액",
    "합계금액",
    "합계",
    "총액",
    "금액",
    "매출",
    "요금",
)
_KEYWORD = "|".join(re.escape(keyword).replace(r"\ ", _S) for keyword in AMOUNT_KEYWORDS)
AMOUNT_PATTERNS = (
    re.compile(rf"[₩￦]{_S}{_NUMBER}(?![\d,])"),
    re.compile(rf"(?<![\d,.]){_NUMBER}{_S}(?:원|KRW\b)"),
    re.compile(rf"(?:{_KEYWORD}){_S}[:：]?{_S}{_NUMBER}(?![\d,.]|{_S}[원%])"),
)


def amounts_found(lines: Sequence[ReadLine]) -> list[FoundAmount]:
    """Every won amount read, in reading order (an amount matched by two forms, "금액 ₩45,000", counts once)."""
    found: list[FoundAmount] = []
    for line in lines:
        spans: list[tuple[int, int, FoundAmount]] = []
        for pattern in AMOUNT_PATTERNS:
            for match in pattern.finditer(line.text):
                start, end = match.span("number")
                if any(s < end and start < e for s, e, _amount in spans):
                    continue
                won = int(match["number"].replace(",", ""))
                spans.append((start, end, FoundAmount(won=won, reason=_evidence(line, match))))
        found.extend(amount for _start, _end, amount in sorted(spans, key=lambda item: item[0]))
    return found


@dataclass(frozen=True)
class ServiceNames:
    """The names a service goes by, as matched: compared without spaces and case."""

    slug: str
    names: tuple[str, ...]


# Spellings seen on screens and receipts that the reference data's names do not give.
SERVICE_EXTRA_NAMES = {
    "kakaotalk": ("KakaoTalk", "카톡"),
    "kakao-t": ("Kakao T", "카카오택시", "카카오 대리"),
    "daum-mail": ("Daum Mail", "Daum 메일", "daum.net"),
    "kakao-mail": ("Kakao Mail",),
    "kakaopay": ("KakaoPay", "Kakao Pay"),
    "kakao-map": ("KakaoMap",),
    "melon": ("Melon",),
    "kakao-webtoon": ("Kakao Webtoon",),
    "kakao-page": ("KakaoPage",),
    "talk-channel": ("Talk Channel", "톡채널"),
    "kakao-hairshop": ("Kakao Hairshop",),
}


def service_names(services: Iterable[tuple[str, str, str]]) -> list[ServiceNames]:
    """The names to look for, from the services reference data as (slug, name_ko, name_en): each name without the
    part in brackets ("카카오톡 (메시지)" is looked for as "카카오톡"), plus SERVICE_EXTRA_NAMES."""
    table = []
    for slug, name_ko, name_en in services:
        names = {re.sub(r"\s*\(.*?\)\s*", "", name).strip() for name in (name_ko, name_en) if name}
        names.update(SERVICE_EXTRA_NAMES.get(slug, ()))
        table.append(ServiceNames(slug=slug, names=tuple(sorted(name for name in names if name))))
    return table


def _compact(text: str) -> tuple[str, list[int]]:
    """`text` without spaces and in lower case, with each remaining character's index in `text`."""
    kept = [(index, char.lower()) for index, char in enumerate(text) if not char.isspace()]
    return "".join(char for _index, char in kept), [index for index, _char in kept]


def services_found(lines: Sequence[ReadLine], names: Sequence[ServiceNames]) -> list[FoundService]:
    """Every service name read, in reading order; the longest name wins where names overlap ("카카오페이지" is
    Kakao Page, not KakaoPay), and a name inside a longer word of Latin letters does not count."""
    candidates = sorted(
        ((_compact(name)[0], entry.slug) for entry in names for name in entry.names), key=lambda c: -len(c[0])
    )
    found: list[FoundService] = []
    for line in lines:
        compact, origin = _compact(line.text)
        taken: list[tuple[int, int, FoundService]] = []
        for name, slug in candidates:
            for match in re.finditer(re.escape(name), compact):
                start, end = match.span()
                if any(s < end and start < e for s, e, _service in taken):
                    continue
                before = compact[start - 1] if start else ""
                after = compact[end] if end < len(compact) else ""
                if name[0].isascii() and before.isascii() and before.isalpha():
                    continue
                if name[-1].isascii() and after.isascii() and after.isalpha():
                    continue
                text_start, text_end = origin[start], origin[end - 1] + 1
                reason = Evidence(text=line.text[text_start:text_end], words=line.words_between(text_start, text_end))
                taken.append((start, end, FoundService(slug=slug, reason=reason)))
        found.extend(service for _s, _e, service in sorted(taken, key=lambda item: item[0]))
    return found


# Resident registration numbers: YYMMDD-GNNNNNN. Not a longer run of digits and dashes (an account number such as
# 123456-12-345678 or 1002-123-456789), not a phone (010-1234-5678) or business number (123-45-67890): those
# have other groupings. The check digit is not tested: numbers issued since October 2020 do not follow it.
RESIDENT_NUMBER_PATTERN = re.compile(
    rf"(?<![\d\-])(?P<birth>\d{{6}}){_S}-{_S}(?P<gender>[1-8])(?P<serial>\d{{6}})(?![\d\-])"
)
CENTURY_BY_GENDER_DIGIT = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}


def resident_number_valid(birth: str, gender: str) -> bool:
    """Whether YYMMDD is a real date in the century the gender digit (1-8) gives."""
    if gender not in CENTURY_BY_GENDER_DIGIT:
        return False
    try:
        date(CENTURY_BY_GENDER_DIGIT[gender] + int(birth[:2]), int(birth[2:4]), int(birth[4:6]))
    except ValueError:
        return False
    return True


def resident_numbers_found(lines: Sequence[ReadLine]) -> list[FoundResidentNumber]:
    """Every resident registration number read, with `hidden_boxes`: the boxes of its last seven digits (the
    gender digit and the serial), the part masked in every copy staff see."""
    found = []
    for line in lines:
        for match in RESIDENT_NUMBER_PATTERN.finditer(line.text):
            if not resident_number_valid(match["birth"], match["gender"]):
                continue
            found.append(
                FoundResidentNumber(
                    number=f"{match['birth']}-{match['gender']}{match['serial']}",
                    masked=f"{match['birth']}-*******",
                    reason=_evidence(line, match),
                    hidden_boxes=line.boxes_between(match.start("gender"), match.end("serial")),
                )
            )
    return found


@dataclass(frozen=True)
class ProofOfUse:
    """Whether the file shows a moment inside an outage window: "yes", "no" or "unknown", the moment that
    decided it (None when none did) and the evidence for it."""

    verdict: str
    moment: datetime | None
    reason: tuple[Evidence, ...]


def proof_of_use_judged(
    moments: Sequence[FoundMoment], windows: Sequence[tuple[datetime, datetime]], *, tzinfo, taken_at=None
) -> ProofOfUse:
    """Judge the moments read (in `tzinfo`, the screens' own time zone) against outage windows [start, end):
    "yes" when a date and time (or the photo's EXIF `taken_at`) falls inside one, or a date alone lies wholly
    inside one; "no" when dates were read and every one falls outside them all (a date alone overlapping none);
    "unknown" otherwise (nothing read, only times without a date, a date the window only partly covers)."""
    full = [(m.at(tzinfo), m.reason) for m in moments if m.day is not None and m.clock is not None]
    if taken_at is not None:
        full.append((taken_at, (Evidence(text=taken_at.astimezone(tzinfo).isoformat(), words=()),)))
    for moment, reason in full:
        if any(start <= moment < end for start, end in windows):
            return ProofOfUse(verdict="yes", moment=moment, reason=reason)
    days_alone = [m for m in moments if m.day is not None and m.clock is None]
    partly = False
    for found in days_alone:
        day_start = datetime.combine(found.day, time(0), tzinfo=tzinfo)
        day_end = datetime.combine(found.day + timedelta(days=1), time(0), tzinfo=tzinfo)
        if any(start <= day_start and day_end <= end for start, end in windows):
            return ProofOfUse(verdict="yes", moment=None, reason=found.reason)
        partly = partly or any(day_start < end and start < day_end for start, end in windows)
    if (full or days_alone) and not partly:
        reason = tuple(part for _moment, parts in full for part in parts)
        reason += tuple(part for found in days_alone for part in found.reason)
        return ProofOfUse(verdict="no", moment=full[0][0] if full else None, reason=reason)
    return ProofOfUse(verdict="unknown", moment=full[0][0] if full else None, reason=())


def amount_matched(amounts: Sequence[FoundAmount], expected: int | None) -> tuple[str, tuple[Evidence, ...]]:
    """The amounts read against the loss item's amount: "equal" (with the amount that equals it), "different"
    (with every amount read), "not_found", or "no_loss_item" when the file supports no loss item."""
    if expected is None:
        return "no_loss_item", ()
    if not amounts:
        return "not_found", ()
    equal = [amount.reason for amount in amounts if amount.won == expected]
    if equal:
        return "equal", (equal[0],)
    return "different", tuple(amount.reason for amount in amounts)
