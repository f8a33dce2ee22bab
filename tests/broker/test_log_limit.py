"""Identical log lines are rate-limited, with a count of those suppressed (issue 9)."""

from __future__ import annotations

import logging

from broker.log_limit import RepeatedLineFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args: object, name: str = "broker.server.app") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)


def test_a_flood_of_one_line_passes_a_burst_then_is_counted() -> None:
    clock = Clock()
    line_filter = RepeatedLineFilter(burst=3, interval_s=10, clock=clock)
    passed = [line_filter.filter(record("refused %s", "127.0.0.2")) for _ in range(21_000)]
    assert passed.count(True) == 3
    clock.now = 10.0
    after = record("refused %s", "127.0.0.2")
    assert line_filter.filter(after)
    assert after.getMessage() == (
        "refused 127.0.0.2 (suppressed 20,997 identical lines in the last 10 s)"
    )
    assert line_filter.filter(record("refused %s", "127.0.0.2"))  # a new window's burst


def test_different_lines_are_not_suppressed_by_each_other() -> None:
    line_filter = RepeatedLineFilter(burst=1, interval_s=10, clock=Clock())
    assert all(line_filter.filter(record("connection %d closed", n)) for n in range(100))
    assert line_filter.filter(record("same", name="a"))
    assert line_filter.filter(record("same", name="b"))  # another logger: another line
    assert not line_filter.filter(record("same", name="a"))


def test_memory_is_bounded_to_max_keys() -> None:
    line_filter = RepeatedLineFilter(burst=1, max_keys=10, clock=Clock())
    for n in range(1_000):
        line_filter.filter(record("line %d", n))
    assert len(line_filter._windows) == 10


def test_headwater_installs_the_filter_on_its_log_handlers() -> None:
    import subprocess
    import sys

    code = (
        "import logging, sys\n"
        "from broker.cli import main\n"
        "from broker.log_limit import RepeatedLineFilter\n"
        "main(['broker', '--override', 'node.id=not-a-number'])\n"
        "handlers = logging.getLogger().handlers\n"
        "sys.exit(0 if handlers and all(any(isinstance(f, RepeatedLineFilter) "
        "for f in h.filters) for h in handlers) else 1)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_flood_that_stopped_is_reported_when_any_other_line_comes() -> None:
    clock = Clock()
    collect = Collect()
    collect.addFilter(RepeatedLineFilter(burst=2, interval_s=10, clock=clock, handler=collect))
    for _ in range(500):
        collect.handle(record("fetch from %s failed", "127.0.0.2"))
    clock.now = 30.0  # the flood ended; the line never comes again
    collect.handle(record("something else"))
    assert collect.lines == [
        "fetch from 127.0.0.2 failed",
        "fetch from 127.0.0.2 failed",
        "(suppressed 498 identical lines in the last 10 s) fetch from 127.0.0.2 failed",
        "something else",
    ]


def test_flush_reports_what_is_still_counted_once() -> None:
    collect = Collect()
    line_filter = RepeatedLineFilter(burst=1, interval_s=10, clock=Clock(), handler=collect)
    collect.addFilter(line_filter)
    for _ in range(4):
        collect.handle(record("retrying"))
    line_filter.flush()
    line_filter.flush()
    assert collect.lines == ["retrying", "(suppressed 3 identical lines in the last 10 s) retrying"]


def test_install_counts_each_handler_on_its_own_and_only_once() -> None:
    from broker.log_limit import install

    logger = logging.getLogger("test_log_limit_install")
    logger.propagate = False
    first, second = Collect(), Collect()
    logger.addHandler(first)
    logger.addHandler(second)
    assert len(install(logger)) == 2
    assert install(logger) == []  # not stacked by a second call
    for _ in range(20):
        logger.warning("same")
    assert first.lines == second.lines == ["same"] * 5  # each handler sees the whole burst
