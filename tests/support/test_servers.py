"""The PostgreSQL and Redis fixtures hand out servers that really work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from tests.support import servers


def test_postgres_url_accepts_password_login_and_queries(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    assert parts.hostname == "127.0.0.1"
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT current_database(), current_user, 6 * 7").fetchone()
        assert row == (parts.path.lstrip("/"), parts.username, 42)
        conn.execute("CREATE TABLE fixture_probe (id serial PRIMARY KEY, note text)")
        conn.execute("INSERT INTO fixture_probe (note) VALUES ('kept')")
        conn.commit()
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        assert conn.execute("SELECT note FROM fixture_probe").fetchall() == [("kept",)]
        conn.execute("DROP TABLE fixture_probe")
        conn.commit()


def test_postgres_url_rejects_wrong_password(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    wrong = postgres_url.replace(f":{parts.password}@", ":not-the-password@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=10)


def test_postgres_server_does_not_run_as_root(postgres_url: str) -> None:
    """PostgreSQL refuses to run as root; when the suite is root it runs as `postgres`."""
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        assert os.stat(f"/proc/{row[0]}").st_uid != 0


def test_redis_url_answers_ping_and_stores_values(redis_url: str) -> None:
    assert urlsplit(redis_url).hostname == "127.0.0.1"
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
        client.set("fixture-probe", b"value")
        assert client.get("fixture-probe") == b"value"
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
    finally:
        client.delete("fixture-probe")
        client.close()


def test_find_redis_server_names_debian_package_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(servers.MissingServerBinary, match="redis-server"):
        servers.find_redis_server()


def test_find_postgres_bindir_names_debian_package_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(servers.glob, "glob", lambda pattern: [])
    with pytest.raises(servers.MissingServerBinary, match="`postgresql`"):
        servers.find_postgres_bindir()


def test_missing_server_binary_fails_rather_than_skips(tmp_path: Path) -> None:
    """A suite whose database tests silently skip would hide a broken CI image."""
    repo_root = Path(__file__).resolve().parents[2]
    (tmp_path / "conftest.py").write_text((repo_root / "tests" / "conftest.py").read_text())
    (tmp_path / "test_probe.py").write_text("def test_needs_redis(redis_url):\n    pass\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_probe.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PATH": "/nonexistent", "PYTHONPATH": str(repo_root)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "install the Debian package `redis-server`" in result.stdout
