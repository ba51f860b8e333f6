"""The lawyers' filing workspace in the Django admin: cohorts, waves, export jobs and readiness overrides."""

from filing.admin import cohorts, readiness  # noqa: F401
