"""Moving the test database between migration states, for the tests of migrations that move models between apps."""

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets) -> None:
    """Migrate to exactly `targets` ((app, migration) pairs; None unapplies an app): later migrations of those apps,
    and the migrations that depend on them, are unapplied."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def migrate_to_latest() -> None:
    """Back to every app's latest migration, as the rest of the suite expects the database."""
    executor = MigrationExecutor(connection)
    migrate_to(executor.loader.graph.leaf_nodes())
