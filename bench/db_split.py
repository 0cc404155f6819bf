"""PostgreSQL's CPU per confirmed signature, split by the program on the other end of each connection.

    bench/.venv/bin/python bench/db_split.py 95 &     # then, within a few seconds:
    make bench BENCH_ARGS="--databases postgresql --runs 1 --seconds 20 --scenarios flow --no-inprocess --watchers 0"

`make bench` gives the database's CPU per signature as one figure. This tells the web workers'
backends ("gunicorn") from the mail workers' ("flask"), so that a change to one side can be seen
beside the other, which it does not touch, as a yardstick for the machine's speed of the moment.
For `seconds` it samples, every 2 s, the backends of the bench's database (`petition_bench_*`):
their CPU from /proc, the client program of each from `ss -tnp` (by the connection's port), and
the number of confirmed signatures. It then takes the two samples about 16 s apart with the most
confirmations between them (the flow's steady window) and prints CPU per confirmed signature per
program. Its own queries (three `psql` calls and one `ss` every 2 s) are not in the figures.
"""

import os
import re
import subprocess
import sys
import time

from servers import cpu_seconds

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres").replace(
    "postgresql+psycopg://", "postgresql://", 1
)


BENCH_DATABASE = "SELECT datname FROM pg_database WHERE datname LIKE 'petition_bench_%' LIMIT 1"


def psql(database: str, sql: str) -> str:
    url = f"{SERVER.rpartition('/')[0]}/{database}"
    return subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True).stdout.strip()


def client_programs() -> dict[int, str]:
    """Local port of each connection to PostgreSQL -> the name of the program that holds it."""
    programs = {}
    for line in subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4].endswith(":5432"):
            name = re.search(r'users:\(\("([^"]+)"', line)
            programs[int(fields[3].rpartition(":")[2])] = name.group(1) if name else "?"
    return programs


def sample(database: str) -> dict:
    # The database's name is the bench's own, read from pg_database.
    query = f"SELECT pid, client_port FROM pg_stat_activity WHERE datname = '{database}' AND client_port IS NOT NULL"  # noqa: S608
    backends = psql("postgres", query)
    programs = client_programs()
    pids = {int(pid): programs.get(int(port), "?") for pid, port in (line.split("|") for line in backends.splitlines())}
    by_program: dict[str, dict[int, float]] = {}
    for pid, seconds in cpu_seconds(list(pids)).items():
        by_program.setdefault(pids[pid], {})[pid] = seconds
    confirmed = psql(database, "SELECT count(*) FROM signatures WHERE status = 'confirmed'")
    return {"at": time.monotonic(), "confirmed": int(confirmed or 0), "cpu": by_program}


def main(seconds: float) -> None:
    deadline, database, samples = time.monotonic() + seconds, "", []
    while time.monotonic() < deadline:
        database = database or psql("postgres", BENCH_DATABASE)
        if database:
            samples.append(sample(database))
        time.sleep(2)
    pairs = [(b["confirmed"] - a["confirmed"], a, b) for i, a in enumerate(samples) for b in samples[i + 1 :]
             if 14 <= b["at"] - a["at"] <= 18]  # fmt: skip
    if not pairs or max(pairs, key=lambda p: p[0])[0] <= 0:
        raise SystemExit("db_split: no confirmations seen; start it just before the flow")
    confirmed, first, last = max(pairs, key=lambda p: p[0])
    print(f"{confirmed} confirmations in {last['at'] - first['at']:.1f} s")
    for program, now in sorted(last["cpu"].items()):
        used = sum(seconds - first["cpu"].get(program, {}).get(pid, 0.0) for pid, seconds in now.items())
        per_signature = 1000 * used / confirmed
        print(f"  backends of {program}: {per_signature:.2f} ms per confirmed signature ({len(now)} backends)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 95)
