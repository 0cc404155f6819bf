"""Limits on the signing path and the partner API, counted in fixed windows: signatures per client
address and petition (beyond which they are quietly flagged), confirmations per address (beyond which
the answer is 429), and requests per partner key (429 too).

These run on every signature and confirmation of a burst, so they cost one Redis round trip for all
of a limit's windows (`20/minute;200/hour`), or nothing but a dictionary without Redis. Flask-Limiter,
which the partner API used before, spent more than that on every request of the app: a round trip per
window, headers, and without Redis a timer thread on most hits. Limits are written as Flask-Limiter's
were, and parsed by the `limits` package.

Keys hold a client address only as the keyed hash the database uses (`personal.ip_hash`), so a
look at Redis tells no one who signed what.
"""

import logging
import math
import os
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse_many

from petition.services import personal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    over: bool
    retry_after: int = 0  # seconds until the window that was exceeded ends


class _MemoryWindows:
    """Counts for this process alone (each gunicorn worker counts apart: production wants Redis)."""

    def __init__(self):
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pruned_at = 0.0

    def increment(self, keys: list[tuple[str, int]]) -> list[int]:
        now = time.time()
        with self._lock:
            if len(self._counts) > 10_000 or now - self._pruned_at > 60:
                self._prune(now)
            counts = []
            for key, _expiry in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
                counts.append(self._counts[key])
            return counts

    def _prune(self, now: float) -> None:
        # A key ends with the time its window ends; anything ended is dropped.
        self._counts = {k: n for k, n in self._counts.items() if float(k.rpartition(":")[2]) > now}
        self._pruned_at = now


class _RedisWindows:
    def __init__(self, url: str):
        self.url = url
        self._client = None
        self._pid = None

    def _redis(self):
        import redis

        if self._client is None or self._pid != os.getpid():
            self._client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            self._pid = os.getpid()
        return self._client

    def increment(self, keys: list[tuple[str, int]]) -> list[int]:
        pipe = self._redis().pipeline(transaction=False)
        for key, expiry in keys:
            pipe.incr(key)
            pipe.expire(key, expiry, nx=True)
        return pipe.execute()[::2]


class RateLimits:
    def __init__(self, app: Flask):
        self.prefix = app.config.get("RATELIMIT_KEY_PREFIX", "") + "petition-rl"
        url = app.config.get("REDIS_URL")
        self.windows = _RedisWindows(url) if url else _MemoryWindows()
        # While Redis is unreachable each process counts alone, as without Redis: limits stay in force
        # (a partner key cannot flood the API during an outage), and nothing turns into an error.
        self.fallback = _MemoryWindows()

    def hit(self, name: str, spec: str, *scope: object, ip: str | None) -> Verdict:
        """Count one event of `name` for this client address (within `scope`, e.g. a petition)."""
        if not ip:
            return Verdict(False)
        return self.hit_for(name, spec, *scope, who=personal.ip_hash(ip))

    def hit_for(self, name: str, spec: str, *scope: object, who: str) -> Verdict:
        """Count one event of `name` for `who`: a key that names no person (a hash, a partner's id)."""
        now = time.time()
        keys, ends = [], []
        for item in parse_many(spec):
            seconds = item.get_expiry()
            end = (math.floor(now / seconds) + 1) * seconds
            keys.append((":".join([self.prefix, name, *map(str, scope), who, str(int(end))]), seconds + 1))
            ends.append((item.amount, end))
        try:
            counts = self.windows.increment(keys)
        except Exception as error:  # a missing Redis never turns a request into an error
            log.warning("rate limit storage unavailable, counting in this process: %s", type(error).__name__)
            counts = self.fallback.increment(keys)
        exceeded = [end for (amount, end), count in zip(ends, counts, strict=True) if count > amount]
        if not exceeded:
            return Verdict(False)
        return Verdict(True, max(1, math.ceil(max(exceeded) - now)))


def init_app(app: Flask) -> None:
    app.extensions["rate_limits"] = RateLimits(app)


def hit(name: str, spec: str, *scope: object, ip: str | None) -> Verdict:
    return current_app.extensions["rate_limits"].hit(name, spec, *scope, ip=ip)


def hit_for(name: str, spec: str, *scope: object, who: str) -> Verdict:
    return current_app.extensions["rate_limits"].hit_for(name, spec, *scope, who=who)
