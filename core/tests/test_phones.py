"""Phone numbers kept as 010XXXXXXXX and masked in the admin; SMS text measured as Korean providers do."""

import pytest

from core.exceptions import InvalidInputError, ProviderError
from core.phones import phone_number_masked, phone_number_normalised
from notifications.models import address_masked
from notifications.sms import LMS_MAX_BYTES, SMS_MAX_BYTES, sms_bytes, sms_kind, sms_unencodable


@pytest.mark.parametrize(
    "value",
    ["01012345678", "010-1234-5678", " 010 1234 5678 ", "010.1234.5678", "(010) 1234-5678", "+82 10-1234-5678",
     "+821012345678", "82-10-1234-5678", "0082 10 1234 5678", "+82 010-1234-5678"],
)  # fmt: skip
def test_a_mobile_number_is_kept_as_eleven_digits(value):
    assert phone_number_normalised(value) == "01012345678"


@pytest.mark.parametrize(
    "value", ["", "010-1234-567", "010-1234-56789", "02-123-4567", "011-123-4567", "+1 010 1234 5678", "010-abcd-5678"]
)
def test_anything_but_a_010_mobile_number_is_refused(value):
    with pytest.raises(InvalidInputError) as raised:
        phone_number_normalised(value)
    assert raised.value.code == "phone_invalid"


def test_phone_numbers_are_masked_for_the_admin_like_email_addresses():
    assert phone_number_masked("01012345678") == "010-****-5678"
    assert address_masked("01012345678") == "010-****-5678"
    assert address_masked("01012345678, kim@example.com") == "010-****-5678, k***@example.com"


def test_ascii_counts_one_byte_and_hangul_two():
    assert sms_bytes("abc 123!") == 8
    assert sms_bytes("안녕하세요") == 10
    assert sms_bytes("[카카오] 신청 A-1") == 1 + 6 + 1 + 1 + 4 + 1 + 3
    assert sms_bytes("★※漢") == 6  # KS X 1001 symbols and Hanja are two bytes too


def test_characters_euc_kr_cannot_encode_count_two_bytes_and_are_named():
    assert sms_bytes("😀") == 2
    assert sms_bytes("뷁") == 2  # not the 8-byte jamo sequence Python's codec would write
    assert sms_unencodable("좋아요😀뷁😀 ok") == ["😀", "뷁"]
    assert sms_unencodable("모두 보낼 수 있는 글자") == []


def test_ninety_bytes_is_an_sms_one_more_is_an_lms_and_past_two_thousand_is_refused():
    assert sms_kind("가" * 45) == "SMS" and sms_bytes("가" * 45) == SMS_MAX_BYTES
    assert sms_kind("가" * 45 + "a") == "LMS"
    assert sms_kind("a" * LMS_MAX_BYTES) == "LMS"
    with pytest.raises(ProviderError) as raised:
        sms_kind("가" * 1000 + "a")
    assert not raised.value.retryable and raised.value.code == "message_too_long"
