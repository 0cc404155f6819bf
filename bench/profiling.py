"""`--profile`: sample gunicorn workers with py-spy while the signing flow runs, and say where the
time went (inclusive share of samples, by function, for the app's own code and the big libraries)."""

import asyncio
import shutil
from collections import Counter
from pathlib import Path

INTERESTING = ("petition/", "psycopg/connection.py", "jinja2/environment.py", "sqlalchemy/orm/session.py",
               "wtforms/form.py", "email_validator", "cryptography", "itsdangerous", "flask/app.py")  # fmt: skip


async def record(pids: list[int], seconds: float, out: Path) -> list[Path]:
    spy = shutil.which("py-spy") or str(Path(__file__).parent / ".venv/bin/py-spy")
    files = [out / f"profile-{pid}.txt" for pid in pids]
    processes = [
        await asyncio.create_subprocess_exec(
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(path),
            "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for pid, path in zip(pids, files, strict=True)
    ]
    await asyncio.gather(*(p.wait() for p in processes))
    return [path for path in files if path.exists()]


def summarise(files: list[Path], top: int = 25) -> list[tuple[float, str]]:
    """Share of busy request-thread samples spent in (or under) each interesting function."""
    inclusive: Counter = Counter()
    busy = 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if "handle_request" not in stack:
                continue  # idle pool threads, the arbiter loop, live streams waiting
            if "wait_newer" in stack.split(";")[-1] or "Condition.wait" in stack.split(";")[-1]:
                continue
            n = int(count)
            busy += n
            for frame in set(stack.split(";")):
                if any(mark in frame for mark in INTERESTING):
                    inclusive[frame] += n
    return [(100 * n / busy, frame) for frame, n in inclusive.most_common(top)] if busy else []
