"""Log formatting: one JSON object per line with the request id, and personal data masked in whatever is written.

Masking happens on the formatted line (message, arguments, extra fields and tracebacks alike), so a value that
slips into a log call, an exception message or a database error still never reaches the log files:
email addresses, phone numbers, resident-registration-like numbers and any other run of nine or more digits
(bank accounts, business numbers) are replaced by a label. Dates, times, amounts and record ids stay readable.
"""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from config.request_context import current_request_id

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![\w.+-])", r"(?![\w-])"
NUMBER_PATTERNS = [
    # Mobile and landline numbers: 010-1234-5678, 010 1234 5678, 01012345678, +82 10-1234-5678, 02-123-4567.
    re.compile(_ALONE_BEFORE + r"(?:\+82[-. ]?0?1[016789]|01[016789])[-. ]?\d{3,4}[-. ]?\d{4}" + _ALONE_AFTER),
    re.compile(_ALONE_BEFORE + r"0\d{1,2}[-. ]\d{3,4}[-. ]\d{4}" + _ALONE_AFTER),
    # Resident registration numbers: 900101-1234567.
    re.compile(_ALONE_BEFORE + r"\d{6}[- ]?[1-8]\d{6}" + _ALONE_AFTER),
    # Any other run of nine or more digits, hyphens allowed (bank accounts, business and card numbers);
    # dates (8 digits) and ids stay readable.
    re.compile(_ALONE_BEFORE + r"\d(?:-?\d){8,}" + _ALONE_AFTER),
]


def mask_personal_data(text: str) -> str:
    """`text` with email addresses replaced by `[email]` and phone, resident and account numbers by `[number]`."""
    text = EMAIL.sub("[email]", text)
    for pattern in NUMBER_PATTERNS:
        text = pattern.sub("[number]", text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the web request or the task being handled, `-` outside either) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class MaskingFormatter(logging.Formatter):
    """Plain text lines, for reading logs in a terminal during development."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


class MaskingJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, any extra fields, exc_info."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def serialize_log_record(self, log_data) -> str:
        return mask_personal_data(super().serialize_log_record(log_data))


def logging_config(*, level: str, json: bool, stream: str = "stdout") -> dict:
    """The LOGGING setting: every record through one console handler, JSON in deployments.

    `stream` is `stdout` for the long-running processes (web, worker, beat: the container collects it) and `stderr`
    under `manage.py` (see manage.py), so that a command's stdout carries only its output (`estimate > out.json`).
    """
    if stream not in {"stdout", "stderr"}:
        raise ValueError(f"The log stream must be stdout or stderr, not {stream!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "config.logging.MaskingJsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            },
            "plain": {
                "()": "config.logging.MaskingFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": f"ext://sys.{stream}",
                "formatter": "json" if json else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Celery's and gunicorn's own loggers go through the same handler (see config/gunicorn.conf.py).
            "celery": {"level": level},
            "django.db.backends": {"level": "INFO"},  # never SQL with parameters, even at DEBUG
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            # urllib3 logs the URLs it requests and retries, queries included (core/http.py logs its own lines).
            "urllib3": {"level": "ERROR"},
        },
    }
