"""The bounded pool of open log files (broker/storage/file_pool.py)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from broker.storage.file_pool import FilePool


def write(pool_file, data: bytes) -> None:  # type: ignore[no-untyped-def]
    with pool_file.use() as fd:
        os.write(fd, data)


def read(pool_file, size: int = 1 << 16) -> bytes:  # type: ignore[no-untyped-def]
    with pool_file.use() as fd:
        return os.pread(fd, size, 0)


def test_at_most_capacity_files_are_open_and_evicted_ones_reopen_with_their_data(
    tmp_path: Path,
) -> None:
    pool = FilePool(4)
    files = [pool.file(tmp_path / f"{i}.log") for i in range(10)]
    for i, pool_file in enumerate(files):
        write(pool_file, f"file {i};".encode())
        assert pool.open_count <= 4
    assert pool.evictions >= 6
    for i, pool_file in enumerate(files):
        write(pool_file, b"more")  # O_APPEND survives a reopen
        assert read(pool_file) == f"file {i};more".encode()
        assert pool.open_count <= 4


def test_the_least_recently_used_file_is_closed_first(tmp_path: Path) -> None:
    pool = FilePool(2)
    a, b = pool.file(tmp_path / "a"), pool.file(tmp_path / "b")
    read(a)  # a is now the most recently used
    c = pool.file(tmp_path / "c")
    assert (a.is_open, b.is_open, c.is_open) == (True, False, True)


def test_a_pinned_file_is_never_closed_the_pool_grows_instead(tmp_path: Path) -> None:
    pool = FilePool(2)
    pinned = pool.file(tmp_path / "pinned")
    with pinned.use() as fd:
        others = [pool.file(tmp_path / f"{i}") for i in range(5)]
        assert pinned.is_open
        os.write(fd, b"still mine")  # the descriptor is the same file throughout
        for other in others:
            read(other)
    assert read(pinned) == b"still mine"
    assert pool.open_count <= 2  # back under capacity once the pin is released


def test_a_file_that_vanished_is_an_error_not_a_new_empty_file(tmp_path: Path) -> None:
    pool = FilePool(1)
    first = pool.file(tmp_path / "first")
    pool.file(tmp_path / "second")  # evicts first
    assert not first.is_open
    (tmp_path / "first").unlink()
    with pytest.raises(FileNotFoundError):
        read(first)
    assert not (tmp_path / "first").exists()


def test_a_file_closed_for_good_is_ebadf_as_a_closed_descriptor_is(tmp_path: Path) -> None:
    pool = FilePool()
    pool_file = pool.file(tmp_path / "gone")
    pool_file.close()
    with pytest.raises(OSError) as closed:
        read(pool_file)
    assert closed.value.errno == errno.EBADF
    assert pool.open_count == 0


def test_syncs_on_other_threads_never_hit_a_closed_or_reused_descriptor(tmp_path: Path) -> None:
    """The group-commit flusher fdatasyncs on its own threads while the event loop
    reads and appends, evicting: every file keeps exactly its own bytes, and no
    operation fails with EBADF."""
    pool = FilePool(3)
    files = [pool.file(tmp_path / f"{i}.log") for i in range(12)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def flusher() -> None:
        while not stop.is_set():
            for pool_file in files:
                try:
                    with pool_file.use() as fd:
                        os.fdatasync(fd)
                except BaseException as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=flusher) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(200):
            for i, pool_file in enumerate(files):
                write(pool_file, bytes([i]) * 8)
                assert read(pool_file) == bytes([i]) * 8 * (round_ + 1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert pool.evictions > 0


def test_closing_a_file_another_thread_is_using_waits_for_that_use(tmp_path: Path) -> None:
    """Retention or DeleteTopics closes a segment on the event loop while the flusher
    (fdatasync) or the log cleaner (pread, on an executor) is inside ``use()`` on
    another thread. The descriptor must stay open, naming its own file, until that use
    ends: closed at once, its number goes to the next open and the other thread syncs
    or reads a different file."""
    pool = FilePool()
    doomed = pool.file(tmp_path / "doomed.log")
    write(doomed, b"doomed bytes")
    inode = (tmp_path / "doomed.log").stat().st_ino
    in_use = threading.Event()
    closed = threading.Event()
    seen: list[tuple[int, bytes]] = []

    def reader() -> None:
        with doomed.use() as fd:
            in_use.set()
            closed.wait(10)
            seen.append((os.fstat(fd).st_ino, os.pread(fd, 64, 0)))

    thread = threading.Thread(target=reader)
    thread.start()
    assert in_use.wait(10)
    doomed.close()  # the event loop closes it meanwhile...
    newcomer = pool.file(tmp_path / "newcomer.log")  # ...and opens another file
    write(newcomer, b"someone else's bytes")
    closed.set()
    thread.join(10)
    assert seen == [(inode, b"doomed bytes")]
    assert pool.open_count == 1  # the deferred close happened when the use ended
    with pytest.raises(OSError) as after:
        read(doomed)
    assert after.value.errno == errno.EBADF


def test_a_new_use_of_a_closed_file_is_ebadf_even_while_an_old_use_holds_it(
    tmp_path: Path,
) -> None:
    pool = FilePool()
    pool_file = pool.file(tmp_path / "held")
    with pool_file.use():
        pool_file.close()
        with pytest.raises(OSError) as late:
            read(pool_file)
        assert late.value.errno == errno.EBADF
    assert not pool_file.is_open
