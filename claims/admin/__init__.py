"""The staff workspace in the Django admin, one module per area."""

from claims.admin import reference  # noqa: F401
