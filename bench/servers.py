"""Starting and stopping what the benchmark measures: databases, gunicorn, mail workers, CLI calls."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "SECRET_KEY": "bench-secret-key",
    "DATA_KEYS": "q0Tz0bRrp2m5gdGyvCZ_4f0C0hO0b4cCLNAsZ4h7T8c=",
    "HASH_KEY": "bench-hash-key",
}
ORGANISER = ("bench-organiser@example.org", "bench-password-123")


class Database:
    """A fresh, empty database for one benchmark run."""

    def __init__(self, kind: str, server_url: str | None, workdir: Path):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            assert server_url, "PostgreSQL needs BENCH_DATABASE_URL"
            base, _, _ = server_url.rpartition("/")
            self.admin = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
            # One name per benchmark process: two runs on one server (other engineers') must not drop
            # each other's database in the middle of a measurement.
            self.name = f"petition_bench_{os.getpid()}"
            self.url = f"{base}/{self.name}"

    def create(self) -> None:
        if self.kind == "postgresql":
            for sql in (f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", f"CREATE DATABASE {self.name}"):
                subprocess.run(["psql", self.admin, "-q", "-c", sql], check=True, capture_output=True)

    def backend_pids(self) -> list[int]:
        """PostgreSQL server processes serving the benchmark's database (their CPU is the app's too)."""
        if self.kind != "postgresql":
            return []
        sql = f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.name}'"  # noqa: S608 (our own name)
        found = subprocess.run(["psql", self.admin, "-At", "-c", sql], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def connected(self, pid: int) -> bool:
        """Whether the process has the database open (the SQLite file, or a TCP connection to the
        PostgreSQL server's port): a started worker gets there only once it has imported the app."""
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            return False
        if self.kind == "sqlite":
            return any(link.endswith("/bench.db") for link in links)
        sockets = {link[8:-1] for link in links if link.startswith("socket:[")}
        port = f"{urlsplit(self.url.replace('+psycopg', '')).port or 5432:04X}"
        for table in ("tcp", "tcp6"):
            try:
                rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if fields[2].endswith(":" + port) and fields[9] in sockets:
                    return True
        return False

    def vacuum(self) -> None:
        if self.kind == "postgresql":
            url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
            subprocess.run(["psql", url, "-q", "-c", "VACUUM (ANALYZE)"], check=True, capture_output=True)

    def drop(self) -> None:
        if self.kind == "postgresql":
            subprocess.run(
                ["psql", self.admin, "-q", "-c", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                capture_output=True,
            )


class App:
    """The environment and interpreter the app runs with, and the processes started from it."""

    def __init__(self, python: str, database: Database, workdir: Path, extra_env: dict | None = None):
        self.python = python
        self.bin = Path(python).parent
        self.workdir = workdir
        self.env = {
            **os.environ,
            **KEYS,
            "DATABASE_URL": database.url,
            "MIN_FILL_SECONDS": "0",
            # The load comes from one address: the per-address limits would flag it (quietly) and the
            # benchmark would measure the flagged path instead of signing.
            "SIGN_RATE_LIMIT": "100000000/minute",
            "CONFIRM_RATE_LIMIT": "100000000/minute",
            "MAIL_URL": f"file://{workdir / 'outbox'}",
            "BASE_URL": "http://127.0.0.1",
            **(extra_env or {}),
        }
        self.processes: list[subprocess.Popen] = []
        self.mailers: list[subprocess.Popen] = []

    def flask(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=check,
        )

    def gunicorn(self, target: str, env: dict | None = None, cwd: Path = ROOT, args: tuple = ()) -> "Gunicorn":
        """gunicorn with the project's gunicorn.conf.py; `args` are more command-line options (they win)."""
        server = Gunicorn(self, target, {**self.env, **(env or {})}, cwd, args)
        self.processes.append(server.process)
        return server

    def mail_workers(self, count: int, mail_url: str) -> list[subprocess.Popen]:
        workers = []
        for _ in range(count):
            process = subprocess.Popen(
                [str(self.bin / "flask"), "--app", "wsgi", "mail-worker", "--interval", "0.05"],
                cwd=ROOT,
                env={**self.env, "MAIL_URL": mail_url},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            workers.append(process)
            self.processes.append(process)
        self.mailers.extend(workers)
        return workers

    def stop_mail(self) -> None:
        for process in self.mailers:
            stop(process)
        self.mailers.clear()

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes.clear()


class Gunicorn:
    def __init__(self, app: App, target: str, env: dict, cwd: Path, args: tuple = ()):
        self.log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log", dir=app.workdir)[1])
        log = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                str(app.bin / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                "127.0.0.1:0",
                "--no-control-socket",
                *args,
                target,
            ],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(cwd)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_for_workers(int(env.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0))))

    def _read_log(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self._read_log())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        stop(self.process)  # never leave a half-started server behind
        raise RuntimeError(f"gunicorn did not start:\n{self._read_log()[-3000:]}")

    def _wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(self.worker_pids()) < count:
            time.sleep(0.1)
        # Each worker imports the app after it appears (preload_app is off): wait until they all sit
        # idle, so that no import lands in a measurement.
        wait_until_idle(self.worker_pids, deadline - time.monotonic())

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def worker_rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.worker_pids()]

    def stop(self) -> None:
        stop(self.process)


def wait_until_idle(pids, timeout: float = 60, busy: float = 0.1) -> None:
    """Wait until the processes `pids()` names use less than `busy` of a core each (over half a second):
    started processes import the app first, which must not land in a measurement. Time spent waiting
    for a core counts as busy too, else a starved import would look idle on a crowded machine. (Not
    for processes that poll: a mail worker wakes 20 times a second and waits for a core each time.)"""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        current = pids()
        used = sum(cpu_seconds(current).values()) + sum(run_queue_seconds(pid) for pid in current)
        if last is not None and used - last < busy * 0.5 * max(1, len(current)):
            return
        last = used
        time.sleep(0.5)


def run_queue_seconds(pid: int) -> float:
    """Time the process's main thread has spent runnable but waiting for a core (/proc/<pid>/schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time each process has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def reaped_seconds(pid: int) -> float:
    """User + system CPU time of the process's children that have exited and been waited for: a
    PostgreSQL backend that came and went inside a window is counted by its postmaster only."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {len(os.sched_getaffinity(0))} cores, {memory:.0f} GiB, Python {sys.version.split()[0]}"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise SystemExit(f"bench: `{tool}` is needed (Debian: apt-get install -y {tool})")
    return path
