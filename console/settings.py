"""Django settings for the Headwater console.

Two deployments share this one file, chosen by the environment:

* the embedded default (``headwater up`` on a laptop): SQLite in
  ``HEADWATER_DATA_DIR`` (default ``<repo>/data``), an in-memory channel layer and
  eager in-process Celery;
* a server deployment: ``DATABASE_URL`` (PostgreSQL, parsed by dj-database-url) and
  ``REDIS_URL`` (channels_redis layer, Celery broker and result backend).

``HEADWATER_BOOTSTRAP_SERVERS`` (default ``127.0.0.1:9092``) names the Kafka-compatible
cluster the console manages; it is reached only through the Kafka protocol.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HEADWATER_DATA_DIR") or BASE_DIR / "data").resolve()
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

HEADWATER_BOOTSTRAP_SERVERS = os.environ.get("HEADWATER_BOOTSTRAP_SERVERS", "127.0.0.1:9092")

# How the console logs in to the cluster (its admin client, the reconciler, the live tail):
# librdkafka properties (security.protocol, sasl.mechanism, sasl.username, sasl.password)
# from HEADWATER_KAFKA_CREDENTIALS, else <data>/console-credentials.properties when it
# exists (`headwater up` writes it, mode 0600, on first run). Never logged.
HEADWATER_KAFKA_CREDENTIALS = os.environ.get("HEADWATER_KAFKA_CREDENTIALS") or str(
    DATA_DIR / "console-credentials.properties"
)


def _client_properties(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


HEADWATER_KAFKA_CLIENT_CONFIG = _client_properties(HEADWATER_KAFKA_CREDENTIALS)
# Headwater's broker reads each service account's plan limits from client-quota keys
# (docs/console.md, "Plan limits on the broker"); Apache Kafka refuses those keys, so
# against another cluster set this off and only the console's own checks hold.
HEADWATER_PLAN_POLICY_ON_BROKER = os.environ.get("HEADWATER_PLAN_POLICY_ON_BROKER", "1") != "0"
# Seconds between periodic reconciles of every tenant (Celery beat).
HEADWATER_RECONCILE_SECONDS = float(os.environ.get("HEADWATER_RECONCILE_SECONDS", "30"))

# Seconds an admin request (Metadata, CreateTopics, ListOffsets...) may take before the
# console reports the cluster as unreachable.
HEADWATER_ADMIN_TIMEOUT = float(os.environ.get("HEADWATER_ADMIN_TIMEOUT", "5"))


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def _secret_key() -> str:
    """``HEADWATER_SECRET_KEY``, else a random key kept in the data directory.

    Persisting it keeps logins valid across restarts of the embedded console.
    """
    configured = os.environ.get("HEADWATER_SECRET_KEY")
    if configured:
        return configured
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_flag("HEADWATER_DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("HEADWATER_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "daphne",  # ASGI runserver, so `manage.py runserver` serves websockets too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "console",
    "streams",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.cluster",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "console.sqlite3",
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery (console/celery.py reads the CELERY_* names): a real worker and beat, started by
# `headwater up`. With Redis they use it; the embedded default needs no server: kombu's
# filesystem transport queues messages as files under the data directory, and results
# are files too. Never eager: a task runs in the worker, as in production.
CELERY_DIR = DATA_DIR / "celery"
for _folder in ("queue", "processed", "results"):
    (CELERY_DIR / _folder).mkdir(parents=True, exist_ok=True)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DIR / 'results'}"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DIR / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "reconcile-all-tenants": {
        "task": "console.tasks.reconcile_all",
        "schedule": HEADWATER_RECONCILE_SECONDS,
    },
    "worker-heartbeat": {
        "task": "console.tasks.worker_heartbeat",
        "schedule": float(os.environ.get("HEADWATER_HEARTBEAT_SECONDS", "60")),
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "topic-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # librdkafka's own log lines (connection refused while the broker is down...)
        "headwater.kafka": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# The REST API (console/api/, django-ninja): "ninja" serves Swagger UI's files from its own
# static files, so /api/v1/docs fetches nothing from the internet; every answer under
# /api/ is JSON, Django's own 404/405/500 pages included (console/api/middleware.py).
INSTALLED_APPS.append("ninja")
MIDDLEWARE.insert(0, "console.api.middleware.JsonErrorsMiddleware")
