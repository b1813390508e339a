"""Celery application, following Celery's Django recipe."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")

app = Celery("pmhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
