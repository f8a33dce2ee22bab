"""Celery tasks. Thin, like views: they parse their arguments and call services.

``worker_heartbeat`` runs from beat (``CELERY_BEAT_SCHEDULE``) and says the worker and
beat are both alive; ``ping`` answers a caller, so a deployment can check the whole path
(client -> queue -> worker -> result backend -> client).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task
def ping() -> str:
    return "pong"


@shared_task
def worker_heartbeat() -> float:
    now = time.time()
    log.info("celery worker heartbeat (scheduled by beat)")
    return now
