"""The lawyers' filing workspace in the Django admin: cohorts, waves and export jobs."""

from filing.admin import cohorts  # noqa: F401
