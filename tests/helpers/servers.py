"""Real servers for fault tests: a private PostgreSQL instance the test may stop, and gunicorn."""

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, seconds: float, what: str, every: float = 0.01):
    """Polls `condition` until it gives something true, and returns that; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
    return found


def start_mail_worker(env: dict[str, str], log: Path, interval: float) -> subprocess.Popen:
    """`flask --app wsgi mail-worker` in a process of its own, with `env` on top of this one's, its
    output (stdout and stderr) written to `log`."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail-worker", "--interval", str(interval)]
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on its own port: stopping it harms no
    other test. As root, it runs as the `postgres` system user (PostgreSQL refuses to run as root)."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise FileNotFoundError("no PostgreSQL server binaries (initdb) on this machine")
        self.bin = Path(binaries[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="pg-private-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=3"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def start_on_a_free_port(self, attempts: int = 3) -> None:
        """PostgreSQL cannot listen on port 0: a port found free may be taken (by a parallel worker,
        another checkout's tests) before the server binds it, so try another one."""
        for attempt in range(attempts):
            try:
                return self.start()
            except subprocess.CalledProcessError:
                log = (self.dir / "log").read_text(errors="replace") if (self.dir / "log").exists() else ""
                if attempt == attempts - 1 or "could not bind" not in log:
                    raise
                (self.dir / "log").unlink()
                self.port = free_port()

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        if os.environ.get("REQUIRE_TEST_SERVICES") == "1":
            pytest.fail(f"cannot create a private PostgreSQL cluster: {error}")
        pytest.skip(f"cannot create a private PostgreSQL cluster: {error}")
    server.start_on_a_free_port()
    yield server
    server.destroy()


class Gunicorn:
    """`gunicorn wsgi:app` in a subprocess, configured through the environment, on a port the kernel
    picks (port 0, read back from its log): no other server started meanwhile can hold it."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.port: int | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        command = [
            sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", str(workers),
            "--bind", "127.0.0.1:0", "--no-control-socket", "--graceful-timeout", "2",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_ready(workers)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, workers: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.port is None:
                listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", Path(self.log.name).read_text())
                self.port = int(listening.group(1)) if listening else None
            if self.port is not None and len(self.worker_pids()) >= workers:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                except OSError:
                    pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start:\n" + Path(self.log.name).read_text()[-3000:])

    def worker_pids(self) -> list[int]:
        text = Path(self.log.name).read_text()
        booted = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", text)]
        return [pid for pid in booted if Path(f"/proc/{pid}").exists() and _parent(pid) == self.process.pid]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        Path(self.log.name).unlink(missing_ok=True)


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
