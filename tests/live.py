"""Run MVidarr for real, as separate processes, for tests and benchmarks.

``LiveApp("embedded")`` is ``manage.py serve`` alone (SQLite, in-process
workers). ``LiveApp("redis")`` is ``serve`` + ``worker`` + ``scheduler`` on a
Redis database of its own and, when PostgreSQL answers, a fresh PostgreSQL
database. Each app gets its own data dir and, from ``prepare()``, a copy of
the run's migrated database with the users alice, bob and staff, each with an
API key.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import redis

# The app to run: this tree, or another checkout (``bench.compare`` measures two).
REPO = Path(os.environ.get("MVIDARR_APP_DIR") or Path(__file__).resolve().parent.parent)
USERS = {"alice": False, "bob": False, "staff": True}
PASSWORD = "correct-horse-battery-staple"
SQLITE_FILE = "mvidarr.sqlite3"  # in the data dir (settings.DATABASES)
PR_SET_PDEATHSIG = 1  # prctl(2)
REDIS_URL = os.environ.get("MVIDARR_TEST_REDIS_URL", "redis://127.0.0.1:6379")
POSTGRES_URL = os.environ.get("MVIDARR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

SEED = """
import json
from django.contrib.auth import get_user_model
from mvidarr.models import ApiKey
keys = {}
for name, staff in %r.items():
    user = get_user_model().objects.create_user(name, password=%r, is_staff=staff)
    keys[name] = ApiKey.issue(user)[1]
print(json.dumps(keys))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveApp:
    def __init__(
        self,
        mode: str,
        extra_env: dict[str, str] | None = None,
        redis_url: str = REDIS_URL,
        serve_args: tuple[str, ...] = (),
        postgres_url: str = POSTGRES_URL,
    ) -> None:
        self.mode = mode
        self.postgres_url = postgres_url
        self.serve_args = serve_args
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"mvidarr-{mode}-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "MVIDARR_DATA_DIR": str(self.data_dir),
            "MVIDARR_ALLOW_PRIVATE_URLS": "true",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.env.pop("DATABASE_URL", None)
        self._pg_db = None
        if mode == "redis":
            self.redis_db = _pick_redis_db(redis_url)
            self.env["REDIS_URL"] = f"{redis_url}/{self.redis_db}"
            self.env["DATABASE_URL"] = self._create_pg_database()

    # -- lifecycle -----------------------------------------------------------

    def prepare(self) -> LiveApp:
        """The database and the users, with nothing running yet: a copy of the
        run's template (``_template``)."""
        source, self.keys = _template(self.postgres_url if self._pg_db else None)
        if self._pg_db:
            _pg_admin(self.postgres_url, f'DROP DATABASE "{self._pg_db}"')
            _pg_admin(self.postgres_url, f'CREATE DATABASE "{self._pg_db}" TEMPLATE "{source}"')
        else:
            data_dir = Path(self.env["MVIDARR_DATA_DIR"])
            data_dir.mkdir(parents=True, exist_ok=True)
            with (
                contextlib.closing(sqlite3.connect(source)) as template,
                contextlib.closing(sqlite3.connect(data_dir / SQLITE_FILE)) as database,
            ):
                template.backup(database)
        return self

    def start(self) -> LiveApp:
        self.prepare()
        self.start_serve()
        if self.mode == "redis":
            self.start_process("worker", "worker")
            self.start_process("scheduler", "scheduler")
        self.wait_healthy()
        return self

    def start_serve(self) -> subprocess.Popen:
        return self.start_process(
            "serve", "serve", "--port", str(self.port), "--no-migrate", *self.serve_args
        )

    def manage(self, *args: str) -> str:
        return run_manage(self.env, *args)

    def start_process(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.procs[name] = proc
        return proc

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        self._signal(name, sig)
        self._reap(name)

    def _signal(self, name: str, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, sig)

    def _reap(self, name: str) -> None:
        proc = self.procs.pop(name)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{self.log(name)}")
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=2).status_code == 200:
                    if self.mode == "redis":
                        time.sleep(0.5)  # let the worker connect its consumers
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"MVidarr did not come up:\n{self.log('serve')}")

    def log(self, name: str, tail: int | None = 5000) -> str:
        """What the process ``name`` printed: its last ``tail`` characters, or all of it."""
        path = self.data_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-tail:] if tail else text

    def stop(self) -> None:
        names = list(self.procs)
        for name in names:  # all at once: each takes a second or so to stop
            self._signal(name, signal.SIGTERM)
        for name in names:
            self._reap(name)
        if self._pg_db:
            _pg_admin(self.postgres_url, f'DROP DATABASE IF EXISTS "{self._pg_db}" WITH (FORCE)')
        if self.mode == "redis":
            redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()

    def __enter__(self) -> LiveApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------

    def client(self, user: str | None = "alice") -> httpx.Client:
        headers = {"X-Api-Key": self.keys[user]} if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def ws_headers(self, user: str) -> dict[str, str]:
        return {"X-Api-Key": self.keys[user]}

    def _create_pg_database(self) -> str:
        self._pg_db = f"mvidarr_live_{uuid.uuid4().hex[:10]}"
        _pg_admin(self.postgres_url, f'CREATE DATABASE "{self._pg_db}"')
        return f"{self.postgres_url}/{self._pg_db}"


def run_manage(env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()) -> str:
    """What ``manage.py args`` printed (run under ``prefix``, e.g. in a network
    namespace); RuntimeError with what it said if it failed."""
    command = [*prefix, sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


# Per database server (None: SQLite): the template's name and its users' API keys.
_templates: dict[str | None, tuple[str, dict[str, str]]] = {}


def _template(postgres_url: str | None) -> tuple[str, dict[str, str]]:
    """This run's database, migrated and with USERS and their API keys: a
    SQLite file, or a database of the PostgreSQL server ``postgres_url``; made
    on first use and removed when the run ends. Each app gets a copy, so
    migrating (3–4 s) and hashing three passwords (~2.5 s) happen once per
    run rather than once per app."""
    if postgres_url not in _templates:
        data_dir = tempfile.mkdtemp(prefix="mvidarr-template-")
        atexit.register(shutil.rmtree, data_dir, True)
        env = {**os.environ, "MVIDARR_DATA_DIR": data_dir}
        env.pop("DATABASE_URL", None)
        if postgres_url:
            source = f"mvidarr_template_{uuid.uuid4().hex[:10]}"
            _pg_admin(postgres_url, f'CREATE DATABASE "{source}"')
            atexit.register(_drop_template, postgres_url, source)
            env["DATABASE_URL"] = f"{postgres_url}/{source}"
        else:
            source = os.path.join(data_dir, SQLITE_FILE)
        run_manage(env, "migrate", "-v0")
        keys = json.loads(run_manage(env, "shell", "-c", SEED % (USERS, PASSWORD)).splitlines()[-1])
        _templates[postgres_url] = source, keys
    return _templates[postgres_url]


def _drop_template(server_url: str, name: str) -> None:
    # A drill's own PostgreSQL server may be gone by now, and the template with it.
    with contextlib.suppress(psycopg.OperationalError):
        _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(server_url: str, sql: str) -> None:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _die_with_parent() -> None:
    """In the app's process before it runs: SIGTERM it when the test run that
    started it dies without stopping it (killed by a timeout, say). An app
    left running would go on taking jobs from the Redis database the next run
    is given, and fail that run's jobs against its own database."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _pick_redis_db(redis_url: str) -> int:
    """A Redis database number no other test run is using right now."""
    for db in range(1, 16):
        client = redis.Redis.from_url(f"{redis_url}/{db}")
        if client.set("mvidarr-test-owner", os.getpid(), nx=True, ex=3600):
            client.flushdb()
            client.set("mvidarr-test-owner", os.getpid(), ex=3600)
            return db
    raise RuntimeError("No free Redis database for the test run")


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with this environment."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mvidarr.settings", **env},
        capture_output=True,
        text=True,
    )
