"""Beat may miss ticks (Redis down, beat restarted): every periodic job must do, on the next tick,
everything that fell due in between (work one job hands to another within a tick or two), and do
it once however many ticks then arrive."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from casework.models import Action, Referral
from casework.services import action_create, referral_create
from followups import schedule as followups_schedule
from followups.models import FollowUp, Notification, OutboxMessage
from followups.services import followup_create
from sync import schedule as sync_schedule
from tests.factories import actor
from vru.celery import app

pytestmark = pytest.mark.django_db

EVERY_PERIODIC_TASK = [*followups_schedule.PERIODIC_TASKS, *sync_schedule.PERIODIC_TASKS]
# Rows a run may add each time without doing anything twice: its own bookkeeping.
BOOKKEEPING = {"audit.accesslog", "django_celery_beat.periodictask"}


def snapshot() -> Counter:
    return Counter(
        {
            model._meta.label_lower: model._default_manager.count()
            for model in apps.get_models()
            if model._meta.label_lower not in BOOKKEEPING and model._meta.managed
        }
    )


def tick() -> None:
    app.loader.import_default_modules()
    for item in EVERY_PERIODIC_TASK:
        app.tasks[item.task].apply().get()


def test_the_first_tick_after_an_outage_catches_up_and_later_ticks_add_nothing(
    officer, sergeant, case
):
    hours_ago = timezone.now() - timedelta(hours=6)
    # What fell due while beat was not running:
    followup_create(
        kind="divert_check_in",
        due_at=hours_ago,
        subject_resource="enrolment",
        subject_id="00000000-0000-0000-0000-000000000001",
        title="DIVERT check-in",
        assignee_user=officer,
    )
    intake = referral_create(
        actor=actor(officer),
        concerns=["domestic_abuse"],
        description="Police attended a domestic incident; child present.",
        person={"given_name": "Amira", "family_name": "Hassan"},
    )
    Referral.objects.filter(pk=intake.referral.pk).update(screening_due_at=hours_ago)
    FollowUp.objects.filter(subject_id=str(intake.referral.pk)).update(due_at=hours_ago)
    action = action_create(
        actor=actor(officer), case=case, title="Home visit", due_date=timezone.localdate()
    )
    Action.objects.filter(pk=action.pk).update(due_date=timezone.localdate() - timedelta(days=2))
    # Work written down while Redis was down, never published:
    stranded = [
        OutboxMessage.objects.create(
            task_name="followups.send_notification_emails",
            kwargs={"notification_ids": []},
            created_at=hours_ago,
        ).pk
    ]

    tick()
    # A sweep's new follow-up (the overdue action) is delivered by deliver_due on the next tick.
    tick()
    caught_up = snapshot()

    assert not OutboxMessage.objects.filter(pk__in=stranded, published_at__isnull=True).exists()
    assert FollowUp.objects.filter(status=FollowUp.Status.ESCALATED).count() == 1
    assert Notification.objects.filter(recipient=sergeant).count() == 1  # the missed deadline
    assert Notification.objects.filter(recipient=officer).count() == 2  # check-in, overdue action
    for _ in range(3):
        tick()
    assert snapshot() == caught_up
