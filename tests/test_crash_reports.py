"""A process that dies of a crash in native code says where it was: gunicorn's workers and the mail
worker print each thread's Python stack (faulthandler) before they die, and the service goes on.

Such a crash is rare and not ours to cause on demand, so the tests send the signal a segmentation
fault raises. Without faulthandler the log holds only gunicorn's "was sent SIGSEGV!", which tells
nobody where to look; with it, an operator's report names the code. `PYTHONFAULTHANDLER` is
cleared, so that only the service's own setup can turn it on."""

import os
import re
import resource
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYS
from tests.helpers.servers import Gunicorn, start_mail_worker, wait_for

# The line faulthandler writes first when a segmentation fault kills the process; each thread's stack follows.
CRASH = "Fatal Python error: Segmentation fault"


@pytest.fixture
def no_core_files():
    """The killed processes must not leave core files in the checkout (the kernel writes them in the
    process's working folder on machines that keep them)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    yield
    resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))


def test_a_web_worker_that_crashes_leaves_its_stack_in_the_log_and_is_replaced(database_url, tmp_path, no_core_files):
    env = {**TEST_KEYS, "DATABASE_URL": database_url, "MAIL_URL": f"file://{tmp_path}/out", "PYTHONFAULTHANDLER": ""}
    server = Gunicorn(env, workers=1)
    try:
        [crashed] = server.worker_pids()
        os.kill(crashed, signal.SIGSEGV)
        replacement = wait_for(lambda: [p for p in server.worker_pids() if p != crashed], 30, "a new worker")
        log = Path(server.log.name).read_text(errors="replace")
        assert f"Worker (pid:{crashed}) was sent SIGSEGV!" in log
        before_gunicorn_noticed = log.split(f"Worker (pid:{crashed}) was sent SIGSEGV!")[0]
        assert CRASH in before_gunicorn_noticed, log[-3000:]
        # The worker's threads, with the frames they were in: gunicorn's loop at the least.
        stack = before_gunicorn_noticed.split(CRASH, 1)[1]
        assert re.search(r"(Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):", stack)
        assert re.search(r'File ".*/gunicorn/workers/\w+\.py", line \d+ in \w+', stack)

        wait_for(lambda: len(server.worker_pids()) == 1, 30, "the new worker to boot")
        with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=10) as answer:
            assert answer.status == 200, "the service answers again"
        assert replacement[0] in server.worker_pids()
    finally:
        server.stop()


def test_a_mail_worker_that_crashes_leaves_its_stack_on_stderr(
    app, database_url, petition_id, pending_signature, tmp_path, no_core_files
):
    pending_signature(petition_id)  # one email queued: once it is sent, the worker is surely set up
    outbox = tmp_path / "outbox"
    env = {
        **{key: str(value) for key, value in TEST_KEYS.items()},
        "DATABASE_URL": database_url,
        "MAIL_URL": f"file://{outbox}",
        "BASE_URL": "http://petitions.test",
        "PYTHONFAULTHANDLER": "",
    }
    log_path = tmp_path / "mail-worker.log"
    worker = start_mail_worker(env, log_path, interval=0.1)
    try:
        wait_for(lambda: list(outbox.glob("*.eml")), 30, "the queued email")
        worker.send_signal(signal.SIGSEGV)
        assert worker.wait(10) == -signal.SIGSEGV
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    output = log_path.read_text(errors="replace")
    assert CRASH in output, output[-3000:]
    stack = output.split(CRASH, 1)[1]
    # Where the worker was: its own loop, in the service's code.
    assert re.search(r'File ".*/petition/mail/worker\.py", line \d+ in \w+', stack), stack[-3000:]
