"""ASGI entry point (``daphne console.asgi:application``): HTTP and websockets.

HTTP goes to Django, with static files served from ``static/`` by Django's
``ASGIStaticFilesHandler`` so the embedded console needs no separate file server
(a production deployment may put one in front). Websockets go through the session
auth stack and an Origin check to the :mod:`streams` routes.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_asgi_app = get_asgi_application()  # sets Django up before importing consumers

from console.checks import refuse_exposed_credentials  # noqa: E402

refuse_exposed_credentials()  # daphne runs no system checks: refuse a readable login file

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from streams.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
