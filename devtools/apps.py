from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development only: the demo data and synthetic-cohort commands (`seed_demo`, `generate_claims`) and the
    generator they and the benchmarks use. Installed by the local and test settings, never shipped in the
    production image (.dockerignore) nor listed in production's INSTALLED_APPS."""

    name = "devtools"
    verbose_name = "Development tools"
