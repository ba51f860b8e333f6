"""Reading what an evidence file says (claims/services/evidence_reading.py): dates and times in their Korean forms,
won amounts, service names and resident registration numbers, from text and from OCR words with their boxes; and
once through the real Tesseract on a drawn chat screenshot."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from claims.services.evidence_reading import (
    amount_matched,
    amounts_found,
    lines_from_text,
    lines_from_words,
    moments_found,
    proof_of_use_judged,
    resident_number_valid,
    resident_numbers_found,
    service_names,
    services_found,
)
from devtools.drawing import drawn_png
from integrations.ocr import OcrWord, ocr_backend


def moments(text, *, default_year=2022):
    return [(m.day, m.clock) for m in moments_found(lines_from_text(text), default_year=default_year)]


def word(text, left, top, *, width=None, line=1, block=1):
    return OcrWord(
        text=text, confidence=95.0, box=(left, top, width or 20 * len(text), 30), block=block, paragraph=1, line=line
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022년 10월 15일 토요일", date(2022, 10, 15)),
        ("2022 년 10 월 15 일", date(2022, 10, 15)),
        ("결제일 2022.10.15", date(2022, 10, 15)),
        ("2022. 10. 15.", date(2022, 10, 15)),
        ("2022-10-15", date(2022, 10, 15)),
        ("2022/10/16", date(2022, 10, 16)),
        ("10월 16일", date(2022, 10, 16)),
    ],
)
def test_each_date_form_is_read(text, expected):
    assert moments(text) == [(expected, None)]


def test_a_date_without_a_year_takes_the_default_year():
    assert moments("10월 15일", default_year=2023) == [(date(2023, 10, 15), None)]


@pytest.mark.parametrize(
    "text",
    ["2022.13.15", "2022년 2월 30일", "1.2.3.4", "010-1234-5678", "2022-10-15-01", "v2022.10.15.3"],
)
def test_what_is_not_a_date_is_not_read_as_one(text):
    assert [day for day, _clock in moments(text)] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("오후 3:28", time(15, 28)),
        ("오전 11:05", time(11, 5)),
        ("오전 12:10", time(0, 10)),
        ("오후 12:10", time(12, 10)),
        ("15:42", time(15, 42)),
        ("15:42:07", time(15, 42, 7)),
        ("3:28 PM", time(15, 28)),
    ],
)
def test_each_time_form_is_read(text, expected):
    assert moments(text) == [(None, expected)]


@pytest.mark.parametrize("text", ["25:10", "오후 13:10", "1:2:3:4", "12:345"])
def test_what_is_not_a_time_is_not_read_as_one(text):
    assert moments(text) == []


def test_a_date_and_a_time_on_one_line_are_one_moment():
    assert moments("2022-10-15 15:42 결제") == [(date(2022, 10, 15), time(15, 42))]
    assert moments("2022.10.15 오후 3:28") == [(date(2022, 10, 15), time(15, 28))]


def test_a_chat_time_takes_the_date_separator_above_it():
    chat = "\n".join(
        ["15:51", "2022년 10월 15일 토요일", "친구 메시지가 안 가요 오후 3:28", "2022년 10월 16일 일요일", "오전 9:02"]
    )
    found = moments_found(lines_from_text(chat), default_year=2022)
    assert [(m.day, m.clock) for m in found] == [
        (None, time(15, 51)),  # the status-bar clock, above any date
        (date(2022, 10, 15), time(15, 28)),
        (date(2022, 10, 16), time(9, 2)),
    ]
    assert [reason.text for reason in found[1].reason] == ["2022년 10월 15일", "오후 3:28"]


def test_ocr_words_are_put_in_lines_top_to_bottom_and_a_split_date_is_joined():
    words = [
        word("오후", 100, 400, line=1, block=2),
        word("3:28", 160, 400, line=1, block=2),
        # Tesseract splits "2022년": the pieces are neighbours on one line, given out of order here.
        word("10", 300, 200, line=1, block=1),
        word("2022", 200, 200, line=1, block=1),
        word("년", 290, 200, width=10, line=1, block=1),
        word("월", 340, 200, line=1, block=1),
        word("15일", 380, 200, line=1, block=1),
    ]
    lines = lines_from_words(words)
    assert [line.text for line in lines] == ["2022 년 10 월 15일", "오후 3:28"]
    (moment,) = moments_found(lines, default_year=2022)
    assert (moment.day, moment.clock) == (date(2022, 10, 15), time(15, 28))
    date_reason, time_reason = moment.reason
    assert [w.text for w in date_reason.words] == ["2022", "년", "10", "월", "15일"]
    assert time_reason.boxes == ((100, 400, 40, 30), (160, 400, 80, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45,000원", [45000]),
        ("45,000 원", [45000]),
        ("45000원", [45000]),
        ("₩12,345", [12345]),
        ("￦ 12,345", [12345]),
        ("12,345 KRW", [12345]),
        ("금액 45,000", [45000]),
        ("결제 금액: 35,000", [35000]),
        ("총 결제금액 ₩39,000", [39000]),
        ("택시 2건 18,200원 / 대리 1건 22,000원", [18200, 22000]),
        ("1,234,567원", [1234567]),
    ],
)
def test_each_amount_form_is_read_once(text, expected):
    assert [amount.won for amount in amounts_found(lines_from_text(text))] == expected


@pytest.mark.parametrize("text", ["2022.10.15", "010-1234-5678", "금액 10%", "승인번호 12345678 카드", "3:28"])
def test_what_is_not_an_amount_is_not_read_as_one(text):
    assert amounts_found(lines_from_text(text)) == []


def test_an_amount_split_from_its_unit_by_ocr_points_at_both_words():
    lines = lines_from_words([word("35,000", 10, 10), word("원", 140, 10)])
    (amount,) = amounts_found(lines)
    assert amount.won == 35000
    assert [w.text for w in amount.reason.words] == ["35,000", "원"]


SERVICES = [
    ("kakaotalk", "카카오톡 (메시지)", ""),
    ("kakao-t", "카카오T (택시·대리 등)", ""),
    ("daum-mail", "다음 메일", ""),
    ("kakaopay", "카카오페이", ""),
    ("kakao-page", "카카오페이지", ""),
    ("talk-channel", "카카오톡 채널 (톡채널)", ""),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KakaoTalk 연결이 원활하지 않습니다", ["kakaotalk"]),
        ("카카오톡 메시지 전송 실패", ["kakaotalk"]),
        ("Kakao T 호출 실패", ["kakao-t"]),
        ("카카오 T 택시", ["kakao-t"]),
        ("카카오T", ["kakao-t"]),
        ("다음 메일 접속 불가", ["daum-mail"]),
        ("다음메일", ["daum-mail"]),
        ("카카오페이지 결제", ["kakao-page"]),
        ("카카오페이 결제", ["kakaopay"]),
        ("카카오톡 채널 예약", ["talk-channel"]),
        ("다음 주에 봐요", []),
        ("KakaoTalkative", []),
    ],
)
def test_service_names_from_the_reference_data_are_read(text, expected):
    found = services_found(lines_from_text(text), service_names(SERVICES))
    assert [service.slug for service in found] == expected


def test_service_names_come_from_the_reference_services(db):
    from claims.models import Service

    table = service_names(Service.objects.values_list("slug", "name_ko", "name_en"))
    found = services_found(lines_from_text("Kakao T 호출 / 다음 메일 / 카카오톡"), table)
    assert [service.slug for service in found] == ["kakao-t", "daum-mail", "kakaotalk"]


@pytest.mark.parametrize(
    ("birth", "gender", "valid"),
    [
        ("900101", "1", True),
        ("991231", "2", True),
        ("050229", "3", False),  # 2005 was not a leap year
        ("040229", "4", True),
        ("000229", "3", True),
        ("000229", "1", False),  # 1900 was not a leap year
        ("901301", "1", False),
        ("900132", "2", False),
        ("900101", "9", False),
        ("900101", "0", False),
        ("851015", "5", True),
        ("151015", "8", True),
    ],
)
def test_a_resident_number_needs_a_real_birth_date_and_a_gender_digit_from_1_to_8(birth, gender, valid):
    assert resident_number_valid(birth, gender) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("주민등록번호 900101-1234567", ["900101-1234567"]),
        ("900101 - 2345678 홍길동", ["900101-2345678"]),
        ("전화 010-1234-5678", []),
        ("사업자등록번호 123-45-67890", []),
        ("계좌 110-123-456789", []),
        ("계좌 123456-12-345678", []),
        ("계좌 900101-1234567-01", []),
        ("900101-9234567", []),
        ("901301-1234567", []),
        ("900101-1******", []),
        ("9001011234567", []),
    ],
)
def test_resident_numbers_are_told_from_phone_account_and_business_numbers(text, expected):
    assert [found.number for found in resident_numbers_found(lines_from_text(text))] == expected


def test_a_resident_number_is_masked_and_its_last_seven_digits_boxed():
    # One OCR word holding the whole number, 14 characters at 10 pixels each, then a name.
    lines = lines_from_words([word("900101-1234567", 100, 50, width=140), word("홍길동", 260, 50)])
    (found,) = resident_numbers_found(lines)
    assert found.masked == "900101-*******"
    assert found.hidden_boxes == ((170, 50, 70, 30),)
    # Split in three words by the engine: only the last one is hidden.
    lines = lines_from_words([word("900101", 100, 50, width=60), word("-", 165, 50, width=5), word("1234567", 175, 50)])
    (found,) = resident_numbers_found(lines)
    assert found.hidden_boxes == ((175, 50, 140, 30),)


def test_a_drawn_chat_screenshot_read_by_tesseract_gives_the_moment_and_its_boxes():
    picture, boxes = drawn_png(
        [
            ((260, 60), "2022년 10월 15일 토요일"),
            ((60, 200), "카카오톡 메시지가 안 가요"),
            ((60, 300), "오후 3:42"),
            ((60, 400), "택시비 18,200원"),
        ]
    )
    time_box = boxes[2]

    lines = lines_from_words(ocr_backend().image_read(picture).words)

    found = [m for m in moments_found(lines, default_year=2022) if m.clock]
    assert [(m.day, m.clock) for m in found] == [(date(2022, 10, 15), time(15, 42))]
    for left, top, width, height in found[0].reason[1].boxes:
        assert time_box[0] - 8 <= left and left + width <= time_box[2] + 8
        assert time_box[1] - 8 <= top and top + height <= time_box[3] + 8
    assert [amount.won for amount in amounts_found(lines)] == [18200]
    assert [s.slug for s in services_found(lines, service_names([("kakaotalk", "카카오톡 (메시지)", "")]))] == [
        "kakaotalk"
    ]


SEOUL = ZoneInfo("Asia/Seoul")
# Kakao T's window: 2022-10-15 15:30 to 10-16 14:00, Korean time.
KAKAO_T = [(datetime(2022, 10, 15, 15, 30, tzinfo=SEOUL), datetime(2022, 10, 16, 14, 0, tzinfo=SEOUL))]
# Daum Mail's window holds whole days (10-16 .. 10-19).
DAUM_MAIL = [(datetime(2022, 10, 15, 15, 30, tzinfo=SEOUL), datetime(2022, 10, 20, 23, 0, tzinfo=SEOUL))]


def judged(text, windows=KAKAO_T, **kwargs):
    return proof_of_use_judged(moments_found(lines_from_text(text), default_year=2022), windows, tzinfo=SEOUL, **kwargs)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("2022년 10월 15일 토요일\n오후 3:42", "yes"),
        ("2022-10-16 13:59", "yes"),
        ("2022-10-16 14:00", "no"),  # the window's end is the restoration: not inside
        ("2022-10-15 15:29", "no"),
        ("2022-10-14 15:42\n2022-10-17 09:00", "no"),
        ("2022-10-14", "no"),  # a date alone, wholly outside
        ("2022-10-15", "unknown"),  # a date alone the window only partly covers
        ("오후 3:42", "unknown"),  # a time with no date
        ("영수증", "unknown"),
        ("2022-10-14 15:42\n2022-10-15 16:00", "yes"),  # one moment inside is enough
    ],
)
def test_proof_of_use_is_a_moment_inside_the_window(text, verdict):
    assert judged(text).verdict == verdict


def test_a_date_alone_wholly_inside_the_window_is_proof_of_use():
    assert judged("다음 메일 2022.10.17 수신 실패", DAUM_MAIL).verdict == "yes"


def test_the_judgement_says_why():
    proof = judged("2022년 10월 15일 토요일\n메시지\n오후 3:42")
    assert proof.moment == datetime(2022, 10, 15, 15, 42, tzinfo=SEOUL)
    assert [part.text for part in proof.reason] == ["2022년 10월 15일", "오후 3:42"]
    proof = judged("2022-10-14 15:42\n2022-10-13")
    assert proof.verdict == "no"
    assert [part.text for part in proof.reason] == ["2022-10-14", "15:42", "2022-10-13"]


def test_a_photo_taken_inside_the_window_is_proof_of_use_without_any_text():
    taken_at = datetime(2022, 10, 15, 18, 5, tzinfo=SEOUL)
    proof = judged("", taken_at=taken_at)
    assert (proof.verdict, proof.moment) == ("yes", taken_at)


@pytest.mark.parametrize(
    ("text", "expected", "match"),
    [
        ("결제 금액 39,000원", 39000, "equal"),
        ("18,200원\n합계 39,000", 39000, "equal"),
        ("결제 금액 22,000원", 39000, "different"),
        ("영수증", 39000, "not_found"),
        ("결제 금액 39,000원", None, "no_loss_item"),
    ],
)
def test_amounts_are_compared_with_the_loss_item(text, expected, match):
    assert amount_matched(amounts_found(lines_from_text(text)), expected)[0] == match


def test_the_benchmark_corpus_is_the_same_for_a_seed_and_its_truth_is_read():
    from bench.evidence_reading import KINDS, corpus, measure

    first, again = corpus(5, 22), corpus(5, 22)
    assert [sample.image for sample in first] == [sample.image for sample in again]
    assert [sample.kind for sample in first] == list(KINDS)
    assert all(sample.moments for sample in first)
    figures = {metric.metric: metric.value for metric in measure(count=5, seed=22)}
    assert figures["evidence reading, amount recall"] == 1.0
    assert figures["evidence reading, resident number recall"] == 1.0
    assert figures["evidence reading, resident number precision"] == 1.0
    assert figures["evidence reading, date precision"] == 1.0
