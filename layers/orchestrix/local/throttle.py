"""API Gateway's method throttling for the local gateway: one token bucket per throttled
route, shared by every caller as in API Gateway; an empty bucket is a 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from orchestrix import wiring


class TokenBucket:
    def __init__(self, limit: wiring.Throttle, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = limit.rate
        self._burst = float(limit.burst)
        self._tokens = float(limit.burst)
        self._now = now
        self._at = now()
        self._lock = threading.Lock()

    def take(self) -> float | None:
        """None when the request may pass; else the seconds until a token is back."""
        with self._lock:
            now = self._now()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return (1 - self._tokens) / self._rate


class Throttles:
    def __init__(self, routes: tuple[wiring.Route, ...]) -> None:
        self._buckets = {
            (r.method, r.path): TokenBucket(r.throttle) for r in routes if r.throttle is not None
        }

    def wait(self, route: wiring.Route) -> float | None:
        """None: pass; else how long the caller should wait (Retry-After)."""
        bucket = self._buckets.get((route.method, route.path))
        return None if bucket is None else bucket.take()
