"""Real parts for reliability tests: a Redis server the test can stop and freeze, Celery workers
and gunicorn web servers, all pointed at pytest's PostgreSQL test database.

Run beside the test services (they export TEST_REDIS_SERVER and TEST_POSTGRES_URL):

    python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL pytest -m integration'

A module uses them with `pytestmark = REAL_PARTS` and the `stack` fixture (tests/conftest.py). The tests commit their data (transaction=True) so the other processes see it. Every
process is started in its own session and killed in `finally`, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.followups.mail_backend import sent  # noqa: F401 (for the stack fixture)

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30
WAIT_TIMEOUT = 40

REAL_PARTS = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("TEST_REDIS_SERVER"),
        reason="needs TEST_REDIS_SERVER (run under scripts/with-test-services.py)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, what: str, timeout: float = WAIT_TIMEOUT, workers=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for worker in workers:
            worker.check_alive()
        time.sleep(0.2)
    logs = "\n".join(w.tail() for w in workers)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")


class RedisServer:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.dir = tmp / f"redis-{self.port}"
        self.dir.mkdir()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        args = [os.environ["TEST_REDIS_SERVER"], "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--dir", str(self.dir), "--save", "", "--appendonly", "no"]
        args += ["--maxmemory-policy", "noeviction"]
        log = (self.dir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(self.ping, what="redis-server", timeout=START_TIMEOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot die otherwise
            self.proc.kill()
            self.proc.wait(timeout=10)
        wait_for(lambda: not self.ping(), what="redis to stop", timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, but nothing ever answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        wait_for(self.ping, what="redis to answer again", timeout=10)


class Process:
    """A server process in its own session, so a SIGKILL takes its children with it."""

    def __init__(self, name: str, env: dict, logdir: Path, **extra_env):
        self.name = name
        self.env = {**env, **extra_env}
        self.logfile = logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def args(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self):
        self.launch()
        self.wait_ready()
        return self

    def launch(self) -> None:
        with self.logfile.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        wait_for(self.ready, what=f"{self.name} to start", workers=[self])

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.log().splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the process group: no shutdown, no acknowledgement, nothing handed back."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


class Worker(Process):
    """`celery -A vru worker`."""

    def args(self) -> list[str]:
        args = [sys.executable, "-m", "celery", "-A", "vru", "worker", "-n", f"{self.name}@%h"]
        return [*args, "--concurrency=2", "--loglevel=INFO", "--without-gossip", "--without-mingle"]

    def ready(self) -> bool:
        return " ready." in self.log()


class Gunicorn(Process):
    """The production web server: `gunicorn vru.wsgi` with sync workers on a loopback port."""

    def __init__(self, name: str, env: dict, logdir: Path, *, workers: int = 2, **extra_env):
        super().__init__(name, env, logdir, **extra_env)
        self.port = free_port()
        self.workers = workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "vru.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--timeout", "30", "--graceful-timeout", "1", "--error-logfile", "-",
        ]  # fmt: skip

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return b" 200 " in s.recv(64).split(b"\r\n")[0]
        except OSError:
            return False


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
