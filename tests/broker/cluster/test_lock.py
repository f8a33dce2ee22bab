"""Kafka's .lock file: one owner per log directory at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.cluster.lock import lock_log_dir


def test_a_locked_log_directory_refuses_a_second_owner_until_released(tmp_path: Path) -> None:
    first = lock_log_dir(tmp_path / "logs")
    with pytest.raises(OSError, match=r"Failed to acquire lock on file \.lock in .*logs"):
        lock_log_dir(tmp_path / "logs")
    first.release()
    second = lock_log_dir(tmp_path / "logs")  # released: free again
    second.release()
    second.release()  # idempotent
