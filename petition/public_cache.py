"""A small per-process cache for what every visitor sees alike: a petition's JSON and its page.

Under a burst, thousands of people load the same petition each second; reading the petition and its
counters and rendering the page for each of them would spend the CPU that signing needs. An entry is
kept at most `PUBLIC_CACHE_SECONDS` (1 s by default, 0 turns caching off), well inside the promise
that a confirmation shows within 2 seconds. Only entries for existing petitions are kept, and at most
`MAX_ENTRIES`, so unknown addresses or odd query strings cannot grow it.
"""

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import Flask, current_app

T = TypeVar("T")
MAX_ENTRIES = 512


class Refreshers:
    """Which expired entries a thread is making anew. Under a burst, every request that arrives while
    an expired entry is being made would otherwise make it too (a page rendered, a petition read, by
    each of them at once); with this, one thread makes it and the others serve the last value a
    moment longer."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys: set[Hashable] = set()

    def claim(self, key: Hashable) -> bool:
        """True if this thread is to make `key` anew (then `release` it); False if another one is."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def release(self, key: Hashable) -> None:
        with self._lock:
            self._keys.discard(key)


class PublicCache:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._refreshers = Refreshers()

    def get_or_make(self, key: Hashable, make: Callable[[], T | None]) -> T | None:
        if self.seconds <= 0:
            return make()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]  # type: ignore[return-value]
        if entry is not None and not self._refreshers.claim(key):
            return entry[1]  # type: ignore[return-value]
        try:
            value = make()
        finally:
            if entry is not None:
                self._refreshers.release(key)
        self._store(key, value, now)
        return value

    def _store(self, key: Hashable, value, now: float) -> None:
        with self._lock:
            if value is None:
                self._entries.pop(key, None)
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            if len(self._entries) < MAX_ENTRIES:
                self._entries[key] = (now + self.seconds, value)


def init_app(app: Flask) -> None:
    app.extensions["public_cache"] = PublicCache(app.config["PUBLIC_CACHE_SECONDS"])


def public_cache() -> PublicCache:
    return current_app.extensions["public_cache"]
