"""The Celery app. Broker and results come from REDIS_URL; without it, tasks run inline (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("kakao_claims")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
