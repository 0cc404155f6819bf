"""gunicorn settings sized to the machine: `gunicorn -c gunicorn.conf.py wsgi:app`.

Python runs one thread at a time per process, so there is one worker process per core, and threads
inside each: a few serve requests while others wait on the database, and each open live-update
stream (GET /api/v1/petitions/<slug>/events) holds one more, mostly asleep. So threads = request
threads + the streams a process admits (LIVE_MAX_STREAMS; past it, viewers are told to poll). gunicorn
hands any request to any of those threads; the app itself lets at most GUNICORN_THREADS of them run at
once (petition/request_gate.py), and sizes its database pool to match.
Every figure can be changed from the environment without editing this file. In production the same
file runs two pools per machine, `app` and `live` (streams only): see docs/deploy.md.
"""

import faulthandler
import os

# A process killed by a crash in native code (a segmentation fault in a C extension) would leave only
# gunicorn's "Worker (pid:...) was sent SIGSEGV!" in the log. With faulthandler, the Python stack of
# each of its threads comes first: where it crashed, which is what a bug report needs. It prints
# file names, lines and function names, never values. Enabled here, in the master, so that every
# worker forked from it inherits it; left alone when already on (PYTHONFAULTHANDLER, -X faulthandler).
if not faulthandler.is_enabled():
    faulthandler.enable(all_threads=True)

cores = len(os.sched_getaffinity(0))

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", cores))
worker_class = "gthread"
request_threads = int(os.environ.get("GUNICORN_THREADS", 8))
threads = request_threads + int(os.environ.get("LIVE_MAX_STREAMS", 500))
# Open connections per worker, streams and idle keep-alive ones included.
worker_connections = threads + 256
keepalive = 5
# A worker that stops answering its heartbeat for this long is replaced. (Requests themselves are
# short; streams end by themselves after LIVE_STREAM_SECONDS.)
timeout = 30
graceful_timeout = 10
# Replace workers now and then, staggered, so that slow growth of memory never adds up. Not often: a
# new worker spends 0.6 s of CPU importing the app and more warming it, and the other one serves alone
# meanwhile. With 20,000, a burst of signing (about 600-850 requests a second per worker) replaced each
# worker every half minute, and 30 % fewer signatures a second were confirmed (bench/README,
# 2026-12-05); with 250,000 it is every five to seven minutes. Workers stayed near 120 MB through
# 325,000 requests each.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 250_000))
max_requests_jitter = max_requests // 10
# The app and its workers are created after fork: no connection pool or thread is shared.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # off unless asked: a log line per request costs
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# gunicorn itself takes the scheme (X-Forwarded-Proto) from the addresses listed here. It follows
# TRUSTED_PROXIES, which tells the app how many proxies to believe: with none (0, the default) it believes
# no address, so a client on this host cannot claim HTTPS (and get HSTS); with a proxy, the one on this
# host, or FORWARDED_ALLOW_IPS. (Connections over a Unix socket are always believed by gunicorn.)
trusted_proxies = int(os.environ.get("TRUSTED_PROXIES") or 0)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if trusted_proxies else ""
