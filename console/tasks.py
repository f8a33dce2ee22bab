"""Celery tasks. Thin, like views: they parse their arguments and call services.

``reconcile_tenant`` runs after each change a service commits, ``reconcile_all`` from
beat; both only call :mod:`console.reconcile`. ``worker_heartbeat`` runs from beat
(``CELERY_BEAT_SCHEDULE``) and says the worker and beat are both alive; ``ping``
answers a caller, so a deployment can check the whole path (client -> queue -> worker
-> result backend -> client).
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


@shared_task(ignore_result=True)
def reconcile_tenant(tenant_id: int) -> str:
    """Make the cluster match one tenant's desired state (enqueued after each change)."""
    from console import reconcile

    return reconcile.reconcile_tenant(tenant_id=tenant_id).result


@shared_task(ignore_result=True)
def reconcile_all() -> int:
    """Every tenant, from beat every ``HEADWATER_RECONCILE_SECONDS``: drift made behind
    the console's back shows within one period, and failed writes are retried."""
    from console import reconcile

    return len(reconcile.reconcile_all())
