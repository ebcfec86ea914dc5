"""scripts/healthcheck.py, the containers' health checks: web over HTTP; worker and beat in-process
(database, migrations, broker, then a remote-control ping of the process itself), against a real
Redis, a real worker and a real beat (tests/realparts.py)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db.migrations.recorder import MigrationRecorder

from core import health
from tests import realparts
from tests.realparts import REAL_PARTS, ROOT, wait_for

SCRIPT = ROOT / "scripts" / "healthcheck.py"
HOST = socket.gethostname()


def script():
    spec = importlib.util.spec_from_file_location("healthcheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(env: dict, *args: str, cwd=None) -> subprocess.CompletedProcess:
    """The script as Docker runs it: its own process, the container's environment."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def states(result: subprocess.CompletedProcess) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


class Beat(realparts.Process):
    """`celery -A vru beat` as docker-compose runs it: answering pings while its scheduler ticks."""

    def args(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "vru", "beat", "--enable-remote-control",
            "--loglevel=INFO", "--schedule", str(self.logfile.with_suffix(".schedule")),
        ]  # fmt: skip

    def ready(self) -> bool:
        return "beat: Starting..." in self.log()


def test_default_node_names_are_the_hosts():
    healthcheck = script()
    assert healthcheck.default_node("worker", "abc123") == "celery@abc123"
    assert healthcheck.default_node("beat", "abc123") == "celerybeat@abc123"
    assert healthcheck.default_node("worker") == f"celery@{HOST}"


def test_an_unreachable_broker_fails_within_the_timeout():
    app = Celery("healthcheck-test", broker=f"redis://127.0.0.1:{realparts.free_port()}/0")
    started = time.monotonic()
    assert script().broker_check(app, 1.0).startswith("unavailable (")
    assert time.monotonic() - started < 10
    app.close()


@pytest.mark.django_db
def test_checks_skip_what_a_failed_check_would_need(monkeypatch):
    healthcheck = script()
    monkeypatch.setattr(health, "_migrations_ok_at", None)
    monkeypatch.setattr(healthcheck, "broker_check", lambda app, timeout: "unavailable (Error)")
    assert healthcheck.checks("worker", "celery@nowhere", 1.0) == {
        "database": "ok",
        "migrations": "ok",
        "broker": "unavailable (Error)",
        "worker": "skipped",
    }
    MigrationRecorder.Migration.objects.filter(app="casework").order_by("-id").first().delete()
    monkeypatch.setattr(health, "_migrations_ok_at", None)
    assert healthcheck.checks("beat", "celerybeat@nowhere", 1.0)["migrations"] == "pending"


@pytest.mark.usefixtures("transactional_db")
def test_web_asks_healthz(live_server, tmp_path):
    env = {**os.environ, "PORT": str(live_server.url.rsplit(":", 1)[1]), "ALLOWED_HOSTS": "*"}
    assert run(env, cwd=tmp_path).returncode == 0
    env["PORT"] = str(realparts.free_port())
    assert run(env, "web", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("mode", ["worker", "beat"])
def test_a_bad_mode_or_option_is_a_usage_error(mode, tmp_path):
    result = run(dict(os.environ), mode, "--timeout", "soon", cwd=tmp_path)
    assert result.returncode == 2 and "--timeout" in result.stderr


class TestAgainstRealProcesses:
    pytestmark = REAL_PARTS

    def test_worker(self, stack, tmp_path):
        stack.worker("w1")
        # From another directory, as `docker exec` may run it: the script finds the project.
        healthy = run(stack.env, "worker", "--node", f"w1@{HOST}", cwd=tmp_path)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert states(healthy) == {
            "database": "ok",
            "migrations": "ok",
            "broker": "ok",
            "worker": "ok",
        }
        # Another node's worker is not this container's.
        other = run(stack.env, "worker", "--node", f"w2@{HOST}", "--timeout", "1")
        assert other.returncode == 1 and states(other)["worker"] == "no reply"

        stack.redis.stop()
        started = time.monotonic()
        down = run(stack.env, "worker", "--node", f"w1@{HOST}", "--timeout", "2")
        assert down.returncode == 1
        assert states(down)["broker"].startswith("unavailable (")
        assert states(down)["worker"] == "skipped"
        assert time.monotonic() - started < 30

    def test_beat_answers_while_its_scheduler_ticks(self, stack, tmp_path):
        beat = Beat("beat", stack.env, tmp_path)
        node = f"celerybeat@{HOST}"
        probe = Celery("healthcheck-probe", broker=stack.redis.url, set_as_current=False)
        try:
            beat.start()
            wait_for(
                lambda: bool(probe.control.ping(destination=[node], timeout=1)),
                what="beat's remote control",
                workers=[beat],
            )
            healthy = run(stack.env, "beat", cwd=tmp_path)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr + beat.tail()
            assert states(healthy)["beat"] == "ok"
            # A beat that no longer runs says nothing: unhealthy.
            os.killpg(beat.proc.pid, signal.SIGSTOP)
            stalled = run(stack.env, "beat", "--timeout", "2")
            assert stalled.returncode == 1 and states(stalled)["beat"] == "no reply"
        finally:
            probe.close()
            if beat.proc is not None:
                os.killpg(beat.proc.pid, signal.SIGCONT)
            beat.kill()
