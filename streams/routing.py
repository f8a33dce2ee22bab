"""Websocket routes, mounted by ``console.asgi`` under the session auth stack."""

from __future__ import annotations

from django.urls import path

from streams.consumers import TopicTailConsumer

websocket_urlpatterns = [
    path("ws/topics/<str:topic>/tail/", TopicTailConsumer.as_asgi(), name="topic-tail"),
]
