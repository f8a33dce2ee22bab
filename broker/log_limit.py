"""Rate-limit identical log lines, with a count of those suppressed.

A consumer retrying against a broker out of descriptors once made it write 21,000
identical lines a second. :class:`RepeatedLineFilter`, installed on the handlers of
``headwater broker`` and ``headwater up`` (``install``), lets at most ``burst``
identical lines (same logger, level and formatted message) through per ``interval_s``;
the first line let through after a quiet spell says how many were suppressed before
it: ``... (suppressed 20,994 identical lines in the last 10 s)``.

A flood that stops is not left uncounted: with the ``handler`` it is installed on, the
filter reports an ended window that suppressed lines as a line of its own
(``(suppressed 20,994 identical lines in the last 10 s) <the line>``) once any other
line comes after the window ended (checked at most once a second), and ``flush()``
(called at exit) reports every window still holding a count. ``install`` puts one
filter on each handler, so a record that two handlers see is counted once by each.

Lines that differ (another connection id, another partition) are different lines: the
filter bounds floods of the same line, not the log's volume. It remembers at most
``max_keys`` distinct lines (the oldest forgotten first), so its memory is bounded.
Thread-safe (logging calls filters under the handler's lock; a lock of its own anyway).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

SWEEP_INTERVAL_S = 1.0


@dataclass(slots=True)
class _Window:
    started: float
    passed: int = 0
    suppressed: int = 0


class RepeatedLineFilter(logging.Filter):
    def __init__(
        self,
        *,
        burst: int = 5,
        interval_s: float = 10.0,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
        handler: logging.Handler | None = None,
    ) -> None:
        super().__init__()
        self._handler = handler
        self._last_sweep = clock()
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._clock = clock
        self._windows: OrderedDict[tuple[str, int, str], _Window] = OrderedDict()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "suppressed_count", False):
            return True  # our own report of a flood that ended
        try:
            message = record.getMessage()
        except Exception:
            return True
        key = (record.name, record.levelno, message)
        now = self._clock()
        if self._handler is not None and now - self._last_sweep >= SWEEP_INTERVAL_S:
            self._last_sweep = now
            self._report(self._ended(now, keep=key))
        return self._count(key, message, record, now)

    def flush(self) -> None:
        """Report every window still holding suppressed lines (at exit)."""
        self._report(self._ended(float("inf"), keep=None))

    def _ended(self, now: float, *, keep: tuple[str, int, str] | None) -> list[logging.LogRecord]:
        """Forget windows that ended (but ``keep``'s, counted by the caller); a report
        of each that suppressed lines."""
        reports = []
        with self._lock:
            for key in [k for k, w in self._windows.items() if now - w.started >= self.interval_s]:
                if key == keep:
                    continue
                window = self._windows.pop(key)
                if window.suppressed:
                    name, level, message = key
                    report = logging.LogRecord(
                        name,
                        level,
                        __file__,
                        0,
                        "(suppressed %s identical lines in the last %.0f s) %s",
                        (f"{window.suppressed:,}", self.interval_s, message),
                        None,
                    )
                    report.suppressed_count = window.suppressed
                    reports.append(report)
        return reports

    def _report(self, reports: list[logging.LogRecord]) -> None:
        if self._handler is not None:
            for report in reports:
                self._handler.handle(report)

    def _count(
        self, key: tuple[str, int, str], message: str, record: logging.LogRecord, now: float
    ) -> bool:
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.started >= self.interval_s:
                suppressed = window.suppressed if window is not None else 0
                self._windows[key] = _Window(started=now, passed=1)
                self._windows.move_to_end(key)
                while len(self._windows) > self.max_keys:
                    self._windows.popitem(last=False)
                if suppressed:
                    span = now - window.started if window is not None else self.interval_s
                    record.msg = (
                        f"{message} (suppressed {suppressed:,} identical lines "
                        f"in the last {span:.0f} s)"
                    )
                    record.args = None
                return True
            if window.passed < self.burst:
                window.passed += 1
                return True
            window.suppressed += 1
            return False


def install(logger: logging.Logger | None = None) -> list[RepeatedLineFilter]:
    """Put a filter on each handler of ``logger`` (the root logger by default), once,
    and report what they still count at exit."""
    filters = []
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RepeatedLineFilter) for f in handler.filters):
            line_filter = RepeatedLineFilter(handler=handler)
            handler.addFilter(line_filter)
            filters.append(line_filter)
    if filters:
        atexit.register(lambda: [line_filter.flush() for line_filter in filters])
    return filters
