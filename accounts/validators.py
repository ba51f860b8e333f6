"""Shape checks for account input: Korean mobile numbers, postal codes and the minimum age to join alone."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MINIMUM_AGE = 14  # PIPA art. 22-2: under-14s need a legal guardian's consent
MAXIMUM_AGE = 120

_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"010\d{8}")
_POSTAL_CODE = re.compile(r"\d{5}")


def mobile_phone_normalize(value: str) -> str:
    """`010-1234-5678`, `01012345678`, `010 1234 5678`, `+82 10-1234-5678` -> `01012345678`."""
    digits = _PHONE_SEPARATORS.sub("", value or "")
    if digits.startswith("+82"):
        digits = "0" + digits[3:].removeprefix("0")
    elif digits.startswith("0082"):
        digits = "0" + digits[4:].removeprefix("0")
    if not _MOBILE.fullmatch(digits):
        raise ValidationError(
            _("휴대전화 번호를 010-1234-5678 또는 01012345678 형식으로 입력해 주세요."),
            code="invalid_mobile",
        )
    return digits


def mobile_phone_format(value: str) -> str:
    """`01012345678` -> `010-1234-5678`; anything else is returned as it is."""
    if _MOBILE.fullmatch(value or ""):
        return f"{value[:3]}-{value[3:7]}-{value[7:]}"
    return value


def postal_code_validate(value: str) -> None:
    if not _POSTAL_CODE.fullmatch(value or ""):
        raise ValidationError(_("우편번호는 숫자 5자리입니다 (예: 13487)."), code="invalid_postal_code")


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Age in full years on `day` (만 나이)."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


def date_of_birth_validate(value: dt.date) -> None:
    """A plausible date of birth of someone at least 14 years old today (Seoul date)."""
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("생년월일이 오늘보다 늦습니다. 다시 확인해 주세요."), code="future")
    age = age_on(value, today)
    if age > MAXIMUM_AGE:
        raise ValidationError(_("생년월일을 다시 확인해 주세요."), code="implausible")
    if age < MINIMUM_AGE:
        raise ValidationError(
            _(
                "만 14세 미만은 혼자 가입할 수 없습니다. 개인정보 보호법 제22조의2에 따라 만 14세 미만 아동의 "
                "개인정보를 처리하려면 법정대리인(부모 등)의 동의가 필요합니다. 부모님 등 법정대리인과 함께 "
                "법률사무소에 문의해 주세요."
            ),
            code="under_minimum_age",
        )
