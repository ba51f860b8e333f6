"""Korean mobile numbers, the address of an SMS or 알림톡: kept in one form, 010XXXXXXXX (11 digits, no dashes)."""

import re

from django.utils.translation import gettext as _

from core.exceptions import InvalidInputError

_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"010\d{8}")


def phone_number_normalised(value: str) -> str:
    """`value` as 010XXXXXXXX: dashes, dots, spaces and brackets dropped, the country code (+82, 82, 0082) replaced
    by the leading 0. Anything that is not then a 010 mobile number is refused (InvalidInputError)."""
    digits = _SEPARATORS.sub("", value.strip())
    for prefix in ("+82", "0082", "82"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            digits = digits if digits.startswith("0") else f"0{digits}"
            break
    if not _MOBILE.fullmatch(digits):
        raise InvalidInputError(_("휴대전화 번호는 010으로 시작하는 11자리 숫자여야 합니다."), code="phone_invalid")
    return digits


def phone_number_masked(number: str) -> str:
    """`010-****-5678`, for the admin (never log a number at all)."""
    return f"{number[:3]}-****-{number[-4:]}" if len(number) >= 7 else "***"
