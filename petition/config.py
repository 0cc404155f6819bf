"""Configuration: defaults, then the environment, then the caller's overrides (tests)."""

import base64
import os
import secrets
from pathlib import Path

from petition.db_engine import engine_options

CONFIRM_TOKEN_DAYS = 7


def _instance_secret(instance: Path, name: str) -> str:
    """A random secret generated on first use and kept in the instance folder.

    Created with O_EXCL so that gunicorn workers starting together agree on one value."""
    path = instance / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def database_url(url: str) -> str:
    """SQLAlchemy 2 maps bare `postgresql://` to psycopg2; this project ships psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def build_config(instance: Path, overrides: dict | None = None) -> dict:
    env = os.environ
    overrides = overrides or {}

    def setting(name: str, default=None):
        if name in overrides:
            return overrides[name]
        return env.get(name) or default

    def secret(name: str, filename: str) -> str:
        return setting(name) or _instance_secret(instance, filename)

    database = database_url(setting("DATABASE_URL") or f"sqlite:///{instance / 'petition.db'}")
    # Requests of one process that run the app at once (petition/request_gate.py): the same figure as
    # the request threads gunicorn.conf.py gives each worker beside its live-update streams.
    request_threads = max(1, int(setting("GUNICORN_THREADS", 8)))
    config = {
        "SQLALCHEMY_DATABASE_URI": database,
        # No pool_pre_ping: it is a round trip on every request; idle connections are checked instead.
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database, request_threads),
        "REQUEST_THREADS": request_threads,
        "SECRET_KEY": secret("SECRET_KEY", "secret_key"),
        # Personal fields are sealed with the first key; older keys still open what they sealed.
        "DATA_KEYS": secret("DATA_KEYS", "data_keys"),
        # Keys the email hash that deduplicates signatures; it must never change once people have signed.
        "HASH_KEY": secret("HASH_KEY", "hash_key"),
        "BASE_URL": str(setting("BASE_URL", "http://127.0.0.1:5000")).rstrip("/"),
        "MAIL_URL": setting("MAIL_URL") or f"file://{instance / 'outbox'}",
        "MAIL_FROM": setting("MAIL_FROM", "petitions@localhost"),
        "REDIS_URL": setting("REDIS_URL"),
        # Rate-limit counters (petition/rate_limits.py) live in Redis when there is one; in memory they
        # count per worker process.
        "PARTNER_API_RATE_LIMIT": setting("PARTNER_API_RATE_LIMIT", "120/minute"),
        # Signatures per client address and petition; beyond it they are kept as flagged for review
        # (a rally on one Wi-Fi can exceed it: organisers release such signatures in one go).
        "SIGN_RATE_LIMIT": setting("SIGN_RATE_LIMIT", "20/minute;200/hour"),
        "RATELIMIT_KEY_PREFIX": setting("RATELIMIT_KEY_PREFIX", ""),
        "CONFIRM_RATE_LIMIT": setting("CONFIRM_RATE_LIMIT", "60/minute"),
        "TRUSTED_PROXIES": int(setting("TRUSTED_PROXIES", 0)),
        "MIN_FILL_SECONDS": float(setting("MIN_FILL_SECONDS", 2)),
        "EMAIL_CHECK_DELIVERABILITY": str(setting("EMAIL_CHECK_DELIVERABILITY", "")).lower() in {"1", "true", "yes"},
        "CONFIRM_TOKEN_MAX_AGE": CONFIRM_TOKEN_DAYS * 24 * 3600,
        "SIGN_FORM_MAX_AGE": 24 * 3600,
        "MAX_EMAILS_PER_SIGNATURE": int(setting("MAX_EMAILS_PER_SIGNATURE", 5)),  # a day, per signature
        # How long a mail worker holds the update messages it claimed: after a crash they wait this long
        # (and the one it was sending is counted in doubt). Far longer than a slice takes.
        "UPDATE_LEASE_SECONDS": float(setting("UPDATE_LEASE_SECONDS", 300)),
        "COUNTER_SHARDS": int(setting("COUNTER_SHARDS", 16)),
        # Who is responsible for the signers' data (GDPR controller), shown on /privacy; unset, the notice
        # says in the reader's language that it is the organisers of each campaign.
        "PRIVACY_CONTROLLER": setting("PRIVACY_CONTROLLER"),
        "PRIVACY_CONTACT": setting("PRIVACY_CONTACT"),
        "IP_HASH_DAYS": int(setting("IP_HASH_DAYS", 7)),
        # How long a petition's public JSON and page may be served from memory (petition/public_cache.py).
        "PUBLIC_CACHE_SECONDS": float(setting("PUBLIC_CACHE_SECONDS", 1.0)),
        # How long a process may use what it read about a petition (status, thresholds, blocklist) while
        # signing and confirming (petition/services/petition_facts.py).
        "PETITION_CACHE_SECONDS": float(setting("PETITION_CACHE_SECONDS", 1.0)),
        # SQLite: how long a connection waits for a lock held outside the writers' queue (petition/db_engine.py).
        "SQLITE_BUSY_TIMEOUT_MS": int(setting("SQLITE_BUSY_TIMEOUT_MS", 10_000)),
        # Request bodies: at most this many bytes on any route whose view declares no `@body_limit`
        # (a signing form is under 4 KiB; organisers' petition texts and CSV uploads declare more), and at
        # most this much form text held in memory (a URL-encoded body, or one multipart text field).
        "MAX_CONTENT_LENGTH": int(setting("MAX_CONTENT_LENGTH", 64 * 1024)),
        "MAX_FORM_MEMORY_SIZE": int(setting("MAX_FORM_MEMORY_SIZE", 2 * 1024 * 1024)),
        # Live totals (petition/live): streams per process, their length, and how often figures refresh.
        "LIVE_MAX_STREAMS": int(setting("LIVE_MAX_STREAMS", 500)),
        "LIVE_STREAM_SECONDS": float(setting("LIVE_STREAM_SECONDS", 300)),
        "LIVE_MIN_INTERVAL": float(setting("LIVE_MIN_INTERVAL", 1.0)),
        "LIVE_POLL_SECONDS": float(setting("LIVE_POLL_SECONDS", 0)),  # 0: each second, or 15 s with Redis
        "LIVE_CHANNEL": setting("LIVE_CHANNEL", "petition-live"),
        "BABEL_DEFAULT_LOCALE": "en",
        "WTF_CSRF_TIME_LIMIT": None,
        # Our forms carry their own translated messages; Flask-WTF would otherwise load WTForms' own
        # catalogue from disk on every request that builds a form.
        "WTF_I18N_ENABLED": False,
    }
    config.update(organiser_settings(config["BASE_URL"], setting))
    config.update({key: value for key, value in overrides.items() if key != "DATABASE_URL"})
    return config


def organiser_settings(base_url: str, setting) -> dict:
    """The organisers' login: a cookie only our pages can read, sent over HTTPS whenever the site is
    served over HTTPS, and sessions that end after an idle time and after an absolute time."""
    return {
        "SESSION_COOKIE_NAME": "organiser_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "ORGANISER_IDLE_MINUTES": int(setting("ORGANISER_IDLE_MINUTES", 60)),
        "ORGANISER_SESSION_HOURS": int(setting("ORGANISER_SESSION_HOURS", 12)),
        # Failed logins allowed per account and per client address within the window.
        "LOGIN_FAILURES_PER_ACCOUNT": int(setting("LOGIN_FAILURES_PER_ACCOUNT", 5)),
        "LOGIN_FAILURES_PER_ADDRESS": int(setting("LOGIN_FAILURES_PER_ADDRESS", 20)),
        "LOGIN_FAILURE_WINDOW_MINUTES": int(setting("LOGIN_FAILURE_WINDOW_MINUTES", 15)),
    }
