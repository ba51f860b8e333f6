"""The staff workspace in the Django admin, one module per area."""

from claims.admin import claims, damage_models, reference  # noqa: F401
