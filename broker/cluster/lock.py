"""Kafka's ``.lock`` file: one process at a time owns a log directory.

A broker holds an exclusive ``flock`` on ``<log.dirs>/.lock`` while it runs, so a
second broker on the same directory, or an offline tool writing the cluster metadata
(``headwater users --config``), fails at once instead of corrupting it. The lock goes
away with the process, also after a crash; the file itself stays, empty.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".lock"


class LogDirLock:
    """The held lock; released by :meth:`release`, on leaving a ``with`` block, or when
    the process ends."""

    def __init__(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(log_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise OSError(
                f"Failed to acquire lock on file {LOCK_FILE} in {log_dir}. A Kafka instance "
                "in another process or thread is using this directory."
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LogDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_log_dir(log_dir: Path) -> LogDirLock:
    """Lock a log directory or raise :class:`OSError` naming the directory."""
    return LogDirLock(log_dir)
