"""Rate-limited warnings: a console that is down for an hour must not write a line per hook or per batch."""

from __future__ import annotations

import logging
import os
import threading
import time

logger = logging.getLogger("durable_console_push")

WARNING_INTERVAL_SECONDS = 60.0

_lock = threading.Lock()
_last: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def warn(key: str, message: str, *args: object, exc_info: bool = False) -> None:
    """Log at warning at most once per interval per key, saying how many were suppressed since."""
    try:
        moment = time.monotonic()
        with _lock:
            last = _last.get(key)
            if last is not None and moment - last < WARNING_INTERVAL_SECONDS:
                _suppressed[key] = _suppressed.get(key, 0) + 1
                return
            _last[key] = moment
            suppressed = _suppressed.pop(key, 0)
        if suppressed:
            message = f"{message} ({suppressed} similar warnings suppressed)"
        logger.warning(message, *args, exc_info=exc_info)
    except Exception:  # noqa: S110 - a log line is never worth failing a hook for
        pass


def _after_fork_in_child() -> None:
    """A fork can happen while another thread holds the lock; the child has only the forking thread."""
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset() -> None:
    """Forget the intervals (tests)."""
    with _lock:
        _last.clear()
        _suppressed.clear()
