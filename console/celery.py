"""The console's Celery app: Redis when ``REDIS_URL`` is set, else kombu's filesystem
transport under the data directory; a real worker either way (``headwater up`` runs one,
and beat).

Settings come from ``console.settings`` under the ``CELERY_`` prefix; tasks are found
in each installed app's ``tasks`` module.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("headwater")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
