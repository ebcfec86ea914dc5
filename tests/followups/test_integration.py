"""Reliability with real parts: Celery worker processes, a Redis server and PostgreSQL.

Run beside the test services (they export TEST_REDIS_SERVER and TEST_POSTGRES_URL):

    python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL pytest -m integration tests/followups'

Each test starts its own redis-server on a free loopback port (so it can stop and kill it) and
`celery -A vru worker` processes pointed at pytest's test database; the tests commit their data
(transaction=True) so the workers see it. Every process is killed in `finally`, and every wait is
bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.apps import apps
from django.db import connection
from django.utils import timezone

from followups.models import FollowUp, Notification, OutboxMessage
from followups.services import followup_create
from tests.followups.mail_backend import sent

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30
WAIT_TIMEOUT = 40

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("TEST_REDIS_SERVER"),
        reason="needs TEST_REDIS_SERVER (run under scripts/with-test-services.py)",
    ),
]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the test database on PostgreSQL only")


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
            self.proc.kill()
            self.proc.wait(timeout=10)
        wait_for(lambda: not self.ping(), what="redis to stop", timeout=10)


class Worker:
    """`celery -A vru worker` in its own process group, so SIGKILL takes its pool with it."""

    def __init__(self, name: str, env: dict, logdir: Path, **extra_env):
        self.name = name
        self.env = {**env, **extra_env}
        self.logfile = logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.launch()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        wait_for(lambda: " ready." in self.log(), what=f"{self.name} to start", workers=[self])

    def launch(self) -> None:
        args = [sys.executable, "-m", "celery", "-A", "vru", "worker", "-n", f"{self.name}@%h"]
        args += ["--concurrency=2", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        with self.logfile.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.log().splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no shutdown, no acknowledgement, nothing handed back."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def stack(tmp_path):
    """A Redis server, a mail folder, and worker/publisher factories; all stopped afterwards."""
    redis = RedisServer(tmp_path)
    mail = tmp_path / "mail"
    mail.mkdir()
    (tmp_path / "var").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "DJANGO_ENV": "test",
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "tests.followups.mail_backend.EmailBackend",
        "TEST_MAIL_DIR": str(mail),
        "PYTHONPATH": str(ROOT),
    }
    workers: list[Worker] = []
    publishers: list[Celery] = []

    class Stack:
        def worker(self, name: str, **extra_env) -> Worker:
            worker = Worker(name, env, tmp_path, **extra_env)
            workers.append(worker)
            return worker.start()

        def workers(self, *names: str) -> list[Worker]:
            """Several workers, started side by side."""
            started = [Worker(name, env, tmp_path) for name in names]
            workers.extend(started)
            for worker in started:
                worker.launch()
            for worker in started:
                worker.wait_ready()
            return started

        def send(self, task: str, **kwargs) -> None:
            """What beat does: put a task on the Redis queue."""
            if not publishers:
                publishers.append(
                    Celery("integration-tests", broker=redis.url, set_as_current=False)
                )
            publishers[0].send_task(task, kwargs=kwargs)

        def mails(self) -> list[dict]:
            return sent(mail)

    stack = Stack()
    stack.redis, stack.env = redis, env
    redis.start()
    try:
        yield stack
    finally:
        for worker in workers:
            worker.kill()  # nothing to wait for: every test ends with the work done or abandoned
        for publisher in publishers:
            publisher.close()
        redis.stop()
        # Let the database flush after the test: no worker connection may hold a lock.
        shutil.rmtree(mail, ignore_errors=True)


def due_followups(user, n: int) -> list[FollowUp]:
    due = timezone.now() - timedelta(minutes=1)
    return [
        followup_create(
            kind="divert_check_in",
            due_at=due,
            subject_resource="enrolment",
            subject_id=f"00000000-0000-0000-0000-{index:012d}",
            title=f"DIVERT check-in {index}",
            assignee_user=user,
        )
        for index in range(n)
    ]


def pending() -> int:
    return FollowUp.objects.filter(status=FollowUp.Status.PENDING).count()


def test_two_concurrent_workers_notify_each_due_follow_up_exactly_once(officer, stack):
    due_followups(officer, 120)
    workers = stack.workers("w1", "w2")
    for _ in range(8):  # several sweeps at once, small batches: the workers contend for rows
        stack.send("followups.deliver_due", batch=5)

    wait_for(lambda: pending() == 0, what="every follow-up claimed", workers=workers)
    wait_for(lambda: len(stack.mails()) >= 120, what="120 emails", workers=workers)
    time.sleep(1)  # anything sent twice would arrive now

    assert Notification.objects.count() == 120
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"notified"}
    mails = stack.mails()
    assert len(mails) == 120
    assert len({m["subject"] for m in mails}) == 120
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()
    for worker in workers:  # both really took part
        assert "followups.deliver_due" in worker.log()


def test_a_worker_killed_mid_sweep_loses_nothing_and_sends_nothing_twice(officer, stack):
    import psycopg

    due_followups(officer, 10)
    # Hold inserts into the notification table, so the sweep stops in the middle of its
    # transaction: follow-ups claimed, notifications not yet written.
    blocker = psycopg.connect(stack.env["DATABASE_URL"])
    # Activity statistics are a snapshot per transaction: watch from an autocommit connection.
    watcher = psycopg.connect(stack.env["DATABASE_URL"], autocommit=True)
    try:
        blocker.execute("LOCK TABLE followups_notification IN SHARE ROW EXCLUSIVE MODE")
        first = stack.worker("w1")
        stack.send("followups.deliver_due")

        def blocked_backend():
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO \"followups_notification\"%%'"
            ).fetchone()
            return row[0] if row else None

        wait_for(lambda: blocked_backend() is not None, what="the sweep to block", workers=[first])
        backend = blocked_backend()
        assert pending() == 10  # the claim is not committed

        first.kill()
        # PostgreSQL notices a dead client the next time it writes to it; end the orphaned
        # backend now rather than wait, as a TCP keepalive would.
        watcher.execute("SELECT pg_terminate_backend(%s)", [backend])
        blocker.rollback()
    finally:
        blocker.close()
        watcher.close()

    assert pending() == 10
    assert Notification.objects.count() == 0
    assert stack.mails() == []

    # The message died with the worker (unacknowledged until the visibility timeout): the next
    # beat tick's sweep finds the work in the database instead.
    second = stack.worker("w2")
    stack.send("followups.deliver_due")
    wait_for(lambda: pending() == 0, what="the restarted sweep", workers=[second])
    wait_for(lambda: len(stack.mails()) >= 10, what="10 emails", workers=[second])
    time.sleep(1)
    assert Notification.objects.count() == 10
    assert len(stack.mails()) == 10


def test_a_worker_killed_while_emailing_is_covered_by_the_email_sweep(officer, stack):
    [followup] = due_followups(officer, 1)
    slow = stack.worker("slow", TEST_MAIL_DELAY="60")
    stack.send("followups.deliver_due")
    wait_for(
        lambda: Notification.objects.filter(email_claimed_at__isnull=False).exists(),
        what="the email to be claimed",
        workers=[slow],
    )
    slow.kill()
    assert stack.mails() == []

    healthy = stack.worker("healthy")
    time.sleep(1.1)  # the lease (1 s here, 10 minutes in production) runs out
    stack.send("followups.email_sweep", lease_seconds=1, min_age_seconds=0)
    wait_for(lambda: len(stack.mails()) == 1, what="the email", workers=[healthy])
    stack.send("followups.email_sweep", lease_seconds=1, min_age_seconds=0)
    stack.send("followups.deliver_due")
    time.sleep(2)
    assert len(stack.mails()) == 1
    assert Notification.objects.get().emailed_at is not None
    followup.refresh_from_db()
    assert followup.status == "notified"


CREATE_CASE = """
import django
django.setup()
from django.db import transaction
from cases import services
from followups.services import notify
from partners.actor import actor_for_user
from partners.models import User

officer = User.objects.get(email="officer@police.example")
actor = actor_for_user(officer, channel="api")
with transaction.atomic():
    person = services.person_create(actor=actor, data={"given_name": "Tyler", "family_name": "Brooks"})
    case = services.case_create(actor=actor, subject=person, data={"summary": "Knife found at school."})
    notify(recipients=[officer], kind="case_assigned", title="A case was assigned to you",
           link=f"/cases/{case.pk}", dedupe_key=f"case_assigned:{case.pk}")
print(case.pk)
"""


def test_redis_down_while_a_case_is_created_then_the_relay_sends_the_work(officer, stack):
    from cases.models import Case

    stack.redis.stop()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", CREATE_CASE],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    case = Case.objects.get(pk=result.stdout.strip())  # the request succeeded
    assert elapsed < 20
    [message] = OutboxMessage.objects.all()
    assert message.task_name == "followups.send_notification_emails"
    assert message.published_at is None  # the work is written down, not lost
    assert message.attempts == 1
    assert message.last_error

    stack.redis.start()  # empty: whatever Redis held is gone
    worker = stack.worker("w1")
    stack.send("followups.outbox_relay", min_age_seconds=0)
    wait_for(lambda: len(stack.mails()) == 1, what="the email", workers=[worker])
    [mail] = stack.mails()
    assert mail["to"] == [officer.email]
    assert f"/cases/{case.pk}" in mail["body"]
    assert "Knife" not in mail["body"]
    message.refresh_from_db()
    assert message.published_at is not None


@pytest.mark.skipif(not apps.is_installed("casework"), reason="casework not built yet")
def test_a_missed_screening_deadline_is_escalated_to_the_managers_once(officer, sergeant, stack):
    from casework.services import referral_create
    from tests.followups.conftest import actor

    intake = referral_create(
        actor=actor(officer),
        concerns=["domestic_abuse"],
        description="Police attended a domestic incident; child present.",
        person={"given_name": "Amira", "family_name": "Hassan"},
        received_at=timezone.now() - timedelta(hours=80),
    )
    assert intake.referral.screening_due_at < timezone.now()
    workers = stack.workers("w1", "w2")
    for _ in range(2):  # beat twice, or a duplicate beat: still once
        stack.send("followups.sweep_missed_screening")
        stack.send("followups.deliver_due")

    escalated = FollowUp.objects.filter(subject_id=intake.referral.pk, status="escalated")
    wait_for(escalated.exists, what="the escalation", workers=workers)
    wait_for(lambda: len(stack.mails()) >= 1, what="the email", workers=workers)
    time.sleep(1.5)
    [notification] = Notification.objects.all()
    assert notification.recipient == sergeant
    [mail] = stack.mails()
    assert mail["to"] == [sergeant.email]
    assert mail["subject"].startswith("VRU Case Coordination: Deadline missed")
    assert "Amira" not in mail["body"] + mail["subject"]
