"""Reliability with real parts: Celery worker processes, a Redis server and PostgreSQL
(tests/realparts.py says how to run them)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from followups.models import FollowUp, Notification, OutboxMessage
from followups.services import followup_create
from tests.realparts import REAL_PARTS, ROOT, wait_for

pytestmark = REAL_PARTS


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
    from tests.factories import actor

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
