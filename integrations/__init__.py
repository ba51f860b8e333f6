"""The seams for outside providers (identity, payments, address search, OCR): one package per kind of service, each
with a small interface in its `__init__.py` and backends chosen by a dotted path in settings (core/backends.py).
Messages are the outbox's channel backends (notifications/backends/). docs/architecture.md, "Outside providers"."""
