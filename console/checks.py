"""System checks of the console's deployment (``manage.py check``, runserver, migrate).

The console's credentials file (``HEADWATER_KAFKA_CREDENTIALS``, read into
``HEADWATER_KAFKA_CLIENT_CONFIG``) holds the password of a super user of the cluster.
``headwater up`` refuses to start when group or others may read it; the console started
on its own must refuse it too, with the same message
(:func:`broker.common.private_file.exposed`, the one rule). Django runs this check
before runserver and migrate; ``console.asgi`` runs :func:`refuse_exposed_credentials`
when daphne loads the application, which runs no system checks.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from broker.common.private_file import exposed

CREDENTIALS_EXPOSED = "console.E101"


def _credentials_problem() -> str | None:
    path = getattr(settings, "HEADWATER_KAFKA_CREDENTIALS", "")
    if not path:
        return None
    try:
        st_mode = os.stat(path).st_mode
    except FileNotFoundError:  # no file: no SASL login (settings reads none either)
        return None
    return exposed(
        str(path), st_mode, holds="the password the console logs in to the Kafka cluster with"
    )


@checks.register(checks.Tags.security)
def credentials_file_is_private(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Error console.E101 when the credentials file is readable by group or others."""
    problem = _credentials_problem()
    if problem is None:
        return []
    return [
        checks.Error(
            problem,
            hint="HEADWATER_KAFKA_CREDENTIALS names the file; make it private to the "
            "user the console runs as (chmod 600).",
            id=CREDENTIALS_EXPOSED,
        )
    ]


def refuse_exposed_credentials() -> None:
    """Raise ImproperlyConfigured (the server does not start) on the check's error."""
    problem = _credentials_problem()
    if problem is not None:
        raise ImproperlyConfigured(problem)
