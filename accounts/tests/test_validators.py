import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.validators import (
    age_on,
    date_of_birth_validate,
    mobile_phone_format,
    mobile_phone_normalize,
    postal_code_validate,
)


@pytest.mark.parametrize(
    "typed",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "010.1234.5678",
        "+82 10-1234-5678",
        "+821012345678",
        "+82 010 1234 5678",
        "0082-10-1234-5678",
        " 010-1234-5678 ",
    ],
)
def test_korean_mobile_formats_are_stored_as_eleven_digits(typed):
    assert mobile_phone_normalize(typed) == "01012345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "02-123-4567",
        "031-123-4567",
        "010-123-456",
        "010-1234-56789",
        "011-123-4567",
        "+1 650 253 0000",
        "010-abcd-5678",
        "01O-1234-5678",
    ],
)
def test_landlines_short_and_foreign_numbers_are_refused_with_the_expected_format(typed):
    with pytest.raises(ValidationError) as error:
        mobile_phone_normalize(typed)
    assert "010-1234-5678" in error.value.messages[0]


def test_stored_mobile_is_shown_with_hyphens():
    assert mobile_phone_format("01012345678") == "010-1234-5678"
    assert mobile_phone_format("") == ""


@pytest.mark.parametrize("value", ["13487", "06236"])
def test_five_digit_postal_codes_are_valid(value):
    postal_code_validate(value)


@pytest.mark.parametrize("value", ["1348", "134870", "463-400", "abcde", ""])
def test_other_postal_codes_are_refused(value):
    with pytest.raises(ValidationError):
        postal_code_validate(value)


def test_age_counts_full_years_only_after_the_birthday():
    born = dt.date(2010, 10, 15)
    assert age_on(born, dt.date(2024, 10, 14)) == 13
    assert age_on(born, dt.date(2024, 10, 15)) == 14


def years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=28 if (today.month, today.day) == (2, 29) else today.day)


def test_under_14_is_refused_citing_the_guardian_consent_rule():
    thirteen = years_ago(14) + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        date_of_birth_validate(thirteen)
    message = error.value.messages[0]
    assert "만 14세 미만" in message
    assert "개인정보 보호법" in message
    assert "법정대리인" in message
    assert error.value.error_list[0].code == "under_minimum_age"


def test_exactly_14_and_adults_are_accepted_but_future_and_implausible_dates_are_not():
    today = timezone.localdate()
    date_of_birth_validate(years_ago(14))
    date_of_birth_validate(dt.date(1950, 1, 1))
    with pytest.raises(ValidationError):
        date_of_birth_validate(today + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        date_of_birth_validate(dt.date(1850, 1, 1))
