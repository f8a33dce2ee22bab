from __future__ import annotations

from pathlib import Path

from broker.storage.log_manager import CLEAN_SHUTDOWN_FILE, LogManager


def test_a_crash_is_detected_even_when_only_internal_topics_have_partitions(tmp_path: Path) -> None:
    (tmp_path / "__cluster_metadata").mkdir()
    (tmp_path / "__consumer_offsets-7").mkdir()
    assert LogManager(tmp_path).had_clean_shutdown is False


def test_a_fresh_directory_and_a_clean_stop_need_no_recovery(tmp_path: Path) -> None:
    (tmp_path / "__cluster_metadata").mkdir()
    assert LogManager(tmp_path).had_clean_shutdown is True  # nothing to recover yet
    (tmp_path / "orders-0").mkdir()
    (tmp_path / CLEAN_SHUTDOWN_FILE).touch()
    manager = LogManager(tmp_path)
    assert manager.had_clean_shutdown is True
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()  # removed: a crash from now on shows
