"""Deploys start several machines at once, each running `flask db upgrade`: exactly one migrates."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_KEYS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgresql_only
def test_concurrent_upgrades_migrate_once_and_all_succeed(database_url, tmp_path):
    server = make_url(database_url)
    name = f"petition_migrate_{uuid.uuid4().hex[:10]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, **TEST_KEYS, "DATABASE_URL": server.set(database=name).render_as_string(False)}
        flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
        runs = [
            subprocess.Popen(flask, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(3)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        assert sum("Running upgrade  -> 0001" in output for output in outputs) == 1
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
