"""The per-process hub behind live totals.

Each process keeps one `Channel` per petition that has viewers here. Any number of viewers wait on
it; one refresher thread reads the petition's figures from the database at most once per
`LIVE_MIN_INTERVAL` seconds, however many confirmations came in, and wakes the viewers only when the
figures changed. It learns of changes three ways: from this process (`announce`), from other
processes and machines through Redis pub/sub when `REDIS_URL` is set, and by polling the counters
every `LIVE_POLL_SECONDS` (each second without Redis; a slow safety net with it).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)


class Channel:
    """What the viewers of one petition wait on: the latest figures (JSON text) and their version."""

    def __init__(self, petition_id: int):
        self.petition_id = petition_id
        self.condition = threading.Condition()
        self.version = 0
        self.data: str | None = None
        self.event: bytes | None = None
        self.viewers = 0
        self.dirty = True
        self.refreshed_at = float("-inf")

    def offer(self, data: str) -> None:
        with self.condition:
            if data != self.data:
                self.data = data
                self.version += 1
                # Encoded once here rather than by each of the hundreds of viewers it wakes.
                self.event = f"id: {self.version}\ndata: {data}\n\n".encode()
                self.condition.notify_all()

    def wait_newer(self, version: int, timeout: float) -> tuple[int, bytes | None]:
        """The latest version and its event (bytes ready to send), once newer than `version`."""
        with self.condition:
            self.condition.wait_for(lambda: self.version > version, timeout)
            return self.version, self.event


class Hub:
    def __init__(self, snapshot: Callable[[int], str | None], min_interval: float, poll_interval: float):
        self.snapshot = snapshot
        self.min_interval = min_interval
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._channels: dict[int, Channel] = {}
        self._wake = threading.Event()
        self._pid: int | None = None
        self.on_start: Callable[[], None] | None = None

    def watch(self, petition_id: int) -> Channel:
        with self._lock:
            self._start_once()
            channel = self._channels.get(petition_id)
            if channel is None:
                channel = self._channels[petition_id] = Channel(petition_id)
            channel.viewers += 1
        if channel.data is None:
            # The first viewer gets figures at once rather than after the next refresh.
            self._refresh(channel)
        return channel

    def leave(self, channel: Channel) -> None:
        with self._lock:
            channel.viewers -= 1
            if channel.viewers <= 0 and self._channels.get(channel.petition_id) is channel:
                del self._channels[channel.petition_id]

    def changed(self, petition_id: int | None = None) -> None:
        """Figures of one petition (or, with None, of any) may have changed. Wakes the refresher only
        when a channel with viewers here was clean: during a burst, once per refresh, not per change."""
        woke = False
        with self._lock:
            targets = self._channels.values() if petition_id is None else [self._channels.get(petition_id)]
            for channel in targets:
                if channel is not None and not channel.dirty:
                    channel.dirty = woke = True
        if woke:
            self._wake.set()

    def viewer_count(self) -> int:
        with self._lock:
            return sum(c.viewers for c in self._channels.values())

    def _start_once(self) -> None:
        # Threads do not survive fork: a process that inherited this hub starts its own.
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="live-hub", daemon=True).start()
        if self.on_start is not None:
            self.on_start()

    def _refresh(self, channel: Channel) -> None:
        channel.dirty = False
        channel.refreshed_at = time.monotonic()
        try:
            data = self.snapshot(channel.petition_id)
        except Exception:  # a database hiccup: keep the last figures and try again next round
            log.exception("live: cannot read petition %s", channel.petition_id)
            channel.dirty = True
            return
        if data is not None:
            channel.offer(data)

    def _due(self, now: float) -> tuple[list[Channel], float]:
        """Channels to refresh now, and how long until the next one is due."""
        due, wait = [], self.poll_interval
        with self._lock:
            for channel in self._channels.values():
                since = now - channel.refreshed_at
                ready_at = self.min_interval if channel.dirty else self.poll_interval
                if since >= ready_at:
                    due.append(channel)
                else:
                    wait = min(wait, ready_at - since)
        return due, wait

    def _run(self) -> None:
        wait = self.poll_interval
        while True:
            self._wake.wait(timeout=wait)
            self._wake.clear()
            due, wait = self._due(time.monotonic())
            for channel in due:
                self._refresh(channel)
            if due:
                wait = min(wait, self.min_interval)


class Live:
    """The app's live-update service: the hub, the Redis link, and the cap on open streams."""

    def __init__(self, app: Flask):
        self.app = app
        self.redis_url = app.config.get("REDIS_URL")
        self.channel_name = app.config["LIVE_CHANNEL"]
        poll = app.config["LIVE_POLL_SECONDS"] or (15.0 if self.redis_url else 1.0)
        self.hub = Hub(self._snapshot, min_interval=app.config["LIVE_MIN_INTERVAL"], poll_interval=float(poll))
        self.hub.on_start = self._listen if self.redis_url else None
        self.max_streams = app.config["LIVE_MAX_STREAMS"]
        self._streams = 0
        self._streams_lock = threading.Lock()
        self._redis = None
        self._redis_pid: int | None = None
        # Petitions whose change other processes have yet to hear of, published by one thread a few
        # times a second rather than one Redis round trip per confirmation.
        self._unpublished: set[int] = set()
        self._publish = threading.Event()
        self._publisher_pid: int | None = None

    # Streams ---------------------------------------------------------------------------------
    def admit(self) -> bool:
        """A stream holds a server thread; past the cap, clients fall back to polling the JSON API."""
        with self._streams_lock:
            if self._streams >= self.max_streams:
                return False
            self._streams += 1
            return True

    def release(self) -> None:
        with self._streams_lock:
            self._streams -= 1

    # Changes -----------------------------------------------------------------------------------
    PUBLISH_INTERVAL = 0.2

    def announce(self, petition_id: int) -> None:
        self.hub.changed(petition_id)
        if not self.redis_url:
            return
        if self._publisher_pid != os.getpid():
            self._publisher_pid = os.getpid()
            threading.Thread(target=self._publish_forever, name="live-publish", daemon=True).start()
        self._unpublished.add(petition_id)
        self._publish.set()

    def _publish_forever(self) -> None:
        while True:
            self._publish.wait()
            self._publish.clear()
            while self._unpublished:
                petition_id = self._unpublished.pop()
                try:
                    self._client().publish(self.channel_name, str(petition_id))
                except Exception as error:  # a confirmation never fails for Redis: polling catches up
                    log.warning("live: cannot publish to Redis: %s", type(error).__name__)
            time.sleep(self.PUBLISH_INTERVAL)

    def _client(self):
        import redis

        if self._redis is None or self._redis_pid != os.getpid():
            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._redis_pid = os.getpid()
        return self._redis

    def _listen(self) -> None:
        threading.Thread(target=self._listen_forever, name="live-redis", daemon=True).start()

    def _listen_forever(self) -> None:
        import redis

        while True:
            try:
                client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel_name)
                # Anything published while we were not listening: look at every petition once.
                self.hub.changed(None)
                for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes) and data.isdigit():
                        self.hub.changed(int(data))
            except Exception as error:
                log.warning("live: Redis subscription lost (%s); retrying", type(error).__name__)
                time.sleep(1)

    # Figures ---------------------------------------------------------------------------------
    def _snapshot(self, petition_id: int) -> str | None:
        """The JSON of GET /api/v1/petitions/<slug>, as one line of text."""
        from petition.api.serialise import petition_detail
        from petition.extensions import db
        from petition.models import Petition, PetitionStatus
        from petition.services.counting import read_counts
        from petition.timeutil import utcnow

        with self.app.app_context():
            try:
                petition = db.session.get(Petition, petition_id)
                now = utcnow()
                if petition is None or petition.status_at(now) == PetitionStatus.DRAFT:
                    return None
                payload = petition_detail(petition, read_counts(db.session, petition_id), now)
            finally:
                db.session.remove()
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
