"""Embedded default vs. server deployment, chosen by DATABASE_URL / REDIS_URL."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

SETTINGS = Path(__file__).resolve().parents[2] / "console" / "settings.py"


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("DATABASE_URL", "REDIS_URL", "HEADWATER_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_settings_embedded_default_uses_sqlite_in_data_dir_and_in_memory_layers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_settings(monkeypatch, HEADWATER_DATA_DIR=str(tmp_path))
    assert conf["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(conf["DATABASES"]["default"]["NAME"]).parent == tmp_path
    assert conf["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert conf["CELERY_BROKER_URL"] == "filesystem://"
    queue = Path(conf["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"])
    assert queue.is_dir() and queue.is_relative_to(tmp_path)
    assert conf["CELERY_RESULT_BACKEND"].startswith(f"file://{tmp_path}")
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is False  # a real worker, never eager
    assert conf["HEADWATER_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    # the generated secret key is kept, so logins survive a restart
    again = load_settings(monkeypatch, HEADWATER_DATA_DIR=str(tmp_path))
    assert again["SECRET_KEY"] == conf["SECRET_KEY"]


def test_settings_with_database_and_redis_urls_use_postgres_and_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_settings(
        monkeypatch,
        HEADWATER_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://u:p@127.0.0.1:5433/console",
        REDIS_URL="redis://127.0.0.1:6380/1",
        HEADWATER_BOOTSTRAP_SERVERS="10.0.0.1:9092,10.0.0.2:9092",
    )
    db = conf["DATABASES"]["default"]
    assert (db["ENGINE"], db["NAME"], db["PORT"]) == (
        "django.db.backends.postgresql", "console", 5433,
    )  # fmt: skip
    layer = conf["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == ["redis://127.0.0.1:6380/1"]
    assert conf["CELERY_BROKER_URL"] == "redis://127.0.0.1:6380/1"
    assert conf["CELERY_RESULT_BACKEND"] == "redis://127.0.0.1:6380/1"
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is False
    assert conf["HEADWATER_BOOTSTRAP_SERVERS"] == "10.0.0.1:9092,10.0.0.2:9092"


def test_celery_app_reads_django_settings() -> None:
    from console.celery import app

    assert app.conf.broker_url == "filesystem://"
    assert app.conf.task_always_eager is False
