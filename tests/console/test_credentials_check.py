"""The console started on its own (daphne, runserver, manage.py) refuses a credentials
file that group or others may read, with the message ``headwater up`` gives (issue 10):
one rule, :func:`broker.common.private_file.exposed`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.support.console import REPO_ROOT, ConsoleServer
from tests.support.net import free_port, port_open, wait_until


def credentials(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "console-credentials.properties"
    path.write_text("security.protocol=PLAINTEXT\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_the_system_check_refuses_a_file_others_may_read(
    settings: SettingsWrapper, tmp_path: Path, mode: int
) -> None:
    path = credentials(tmp_path, mode)
    settings.HEADWATER_KAFKA_CREDENTIALS = str(path)
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", tags=["security"])
    message = str(refused.value)
    assert "console.E101" in message
    assert f"{path} is readable by others (mode {mode:04o})" in message
    assert f"Run: chmod 600 {path}" in message


def test_the_system_check_passes_a_private_or_missing_file(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.HEADWATER_KAFKA_CREDENTIALS = str(credentials(tmp_path, 0o600))
    call_command("check", tags=["security"])
    settings.HEADWATER_KAFKA_CREDENTIALS = str(tmp_path / "absent.properties")
    call_command("check", tags=["security"])


def _env(data_dir: Path, path: Path) -> dict[str, str]:
    server = ConsoleServer(data_dir, bootstrap="127.0.0.1:1")
    return {**server.env(), "HEADWATER_KAFKA_CREDENTIALS": str(path)}


def test_daphne_alone_refuses_to_start_with_a_readable_file(tmp_path: Path) -> None:
    path = credentials(tmp_path, 0o644)
    port = free_port()
    daphne = subprocess.run(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "console.asgi:application"],
        cwd=REPO_ROOT, env=_env(tmp_path / "data", path), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert daphne.returncode != 0
    assert f"{path} is readable by others (mode 0644)" in daphne.stderr
    assert f"Run: chmod 600 {path}" in daphne.stderr
    assert not port_open("127.0.0.1", port)


def test_manage_py_refuses_and_names_the_file(tmp_path: Path) -> None:
    path = credentials(tmp_path, 0o644)
    check = subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "migrate", "--noinput"],
        cwd=REPO_ROOT, env=_env(tmp_path / "data", path), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert check.returncode != 0
    assert "console.E101" in check.stderr and f"chmod 600 {path}" in check.stderr


def test_daphne_starts_with_a_private_file(tmp_path: Path) -> None:
    path = credentials(tmp_path, 0o600)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "console.asgi:application"],
        cwd=REPO_ROOT, env=_env(tmp_path / "data", path), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: port_open("127.0.0.1", port), timeout=30, what="daphne to listen")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=15)
