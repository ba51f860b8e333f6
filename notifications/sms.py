"""How Korean SMS providers measure a text: bytes in EUC-KR, which decide SMS (short) or LMS (long).

Korean carriers and the providers in front of them (Solapi, NHN Cloud, Aligo, Kakao's own 문자 메시지 API) count an
SMS in EUC-KR bytes: ASCII letters, digits, spaces and keyboard symbols 1 byte, Hangul and the other characters of
KS X 1001 (Hanja, full-width symbols such as ★ or ※) 2 bytes. An SMS holds at most 90 bytes ("SMS: 내용 최대
90 Byte", https://developers.kakao.com/docs/in/kims/common; the same 90/2,000-byte limits at Solapi, NHN Cloud and
Aligo); a longer text goes as an LMS of at most 2,000 bytes with a title.

A character EUC-KR cannot encode in one or two bytes counts 2 bytes: an emoji, or Hangul outside its 2,350
precomposed syllables such as "뷁" (Python's codec spells those as an 8-byte jamo sequence that phones do not show).
That is how the Korean counters count every non-ASCII character (Korean/CJK 2 bytes, ASCII 1, emoji flagged as
liable to break: the kr_sms_length checker, https://glama.ai/mcp/connectors/ai.opencurrent/kr-sms-check); we found
no provider page stating another count. Providers replace such characters or refuse the message, so
`sms_unencodable` lets a renderer find them before sending.
"""

from django.utils.translation import gettext as _

from core.exceptions import ProviderError

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000


def _euc_kr_bytes(character: str) -> int | None:
    """1 or 2, or None for a character EUC-KR has no one- or two-byte code for."""
    try:
        size = len(character.encode("euc_kr"))
    except UnicodeEncodeError:
        return None
    return size if size <= 2 else None


def sms_bytes(text: str) -> int:
    """The length of `text` as Korean SMS providers count it (see the module's docstring)."""
    return sum(_euc_kr_bytes(character) or 2 for character in text)


def sms_unencodable(text: str) -> list[str]:
    """The characters of `text` that EUC-KR cannot encode in one or two bytes, each once, in order."""
    return list(dict.fromkeys(character for character in text if _euc_kr_bytes(character) is None))


def sms_kind(text: str) -> str:
    """ "SMS" up to 90 bytes, "LMS" up to 2,000; a longer text is refused (ProviderError, not retryable)."""
    size = sms_bytes(text)
    if size <= SMS_MAX_BYTES:
        return "SMS"
    if size <= LMS_MAX_BYTES:
        return "LMS"
    raise ProviderError(
        _("문자 메시지가 너무 깁니다(%(size)d바이트, 최대 %(max)d바이트).") % {"size": size, "max": LMS_MAX_BYTES},
        retryable=False,
        code="message_too_long",
    )
