"""Errors the account services raise for the views to show."""

from core.exceptions import InvalidInputError


class AccountError(InvalidInputError):
    """A refusal the person should read: the message is translated and safe to show."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
