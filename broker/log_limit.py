"""Rate-limit identical log lines, with a count of those suppressed.

A consumer retrying against a broker out of descriptors once made it write 21,000
identical lines a second. :class:`RepeatedLineFilter`, installed on the handlers of
``headwater broker`` and ``headwater up`` (``install``), lets at most ``burst``
identical lines (same logger, level and formatted message) through per ``interval_s``;
the first line let through after a quiet spell says how many were suppressed before
it: ``... (suppressed 20,994 identical lines in the last 10 s)``.

Lines that differ (another connection id, another partition) are different lines: the
filter bounds floods of the same line, not the log's volume. It remembers at most
``max_keys`` distinct lines (the oldest forgotten first), so its memory is bounded.
Thread-safe (logging calls filters under the handler's lock; a lock of its own anyway).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


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
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._clock = clock
        self._windows: OrderedDict[tuple[str, int, str], _Window] = OrderedDict()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        key = (record.name, record.levelno, message)
        now = self._clock()
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


def install(logger: logging.Logger | None = None) -> RepeatedLineFilter:
    """Put one filter on every handler of ``logger`` (the root logger by default)."""
    line_filter = RepeatedLineFilter()
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(line_filter)
    return line_filter
