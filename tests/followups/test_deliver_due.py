"""Delivering due follow-ups: the assignees are told once, whoever runs the sweep and how often."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followups import kinds
from followups.models import FollowUp, Notification, OutboxMessage
from followups.services import followups_deliver_due, notify
from tests import factories
from tests.followups.conftest import statuses

pytestmark = pytest.mark.django_db


def notified(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", "title", "link"))


def test_it_tells_the_assignee_once_and_marks_it_notified(officer, case, make_followup):
    followup = make_followup(case=case, assignee_user=officer, kind=kinds.CASE_REVIEW)
    assert followups_deliver_due() == 1
    assert notified(officer) == [(kinds.CASE_REVIEW, "DIVERT check-in due", f"/cases/{case.pk}")]
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.NOTIFIED
    assert followup.notified_at is not None
    # The email goes through the outbox, by notification id only.
    assert list(OutboxMessage.objects.values_list("task_name", "kwargs")) == [
        (
            "followups.send_notification_emails",
            {"notification_ids": [str(Notification.objects.get().pk)]},
        )
    ]

    assert followups_deliver_due() == 0
    assert len(notified(officer)) == 1


def test_a_second_claim_of_the_same_row_gets_nothing(officer, make_followup):
    """Two workers that read the same due row: only one conditional UPDATE moves it."""
    from followups.services import _claim

    followup = make_followup(assignee_user=officer)
    now = timezone.now()
    assert [f.pk for f in _claim(now, 10, None)] == [followup.pk]
    assert _claim(now, 10, [followup.pk]) == []


def test_the_database_refuses_a_second_notification_for_the_same_key(officer, make_followup):
    followup = make_followup(assignee_user=officer)
    first = notify(recipients=[officer], kind="k", title="t", dedupe_key=followup.dedupe_key)
    again = notify(recipients=[officer], kind="k", title="t", dedupe_key=followup.dedupe_key)
    assert len(first) == 1
    assert again == []
    # Even if a pending row were delivered again (e.g. reset by hand), the key holds.
    FollowUp.objects.filter(pk=followup.pk).update(status="pending")
    followups_deliver_due()
    assert Notification.objects.filter(recipient=officer).count() == 1


def test_what_is_not_due_or_not_pending_is_left_alone(officer, make_followup):
    later = make_followup(assignee_user=officer, due_in=timedelta(hours=1))
    cancelled = make_followup(assignee_user=officer)
    FollowUp.objects.filter(pk=cancelled.pk).update(status=FollowUp.Status.CANCELLED)
    assert followups_deliver_due() == 0
    assert statuses() == {later.pk: "pending", cancelled.pk: "cancelled"}


def test_a_partner_follow_up_goes_to_its_practitioners_and_managers(
    officer, sergeant, police, teacher, make_followup
):
    inactive = factories.make_user(police)
    inactive.is_active = False
    inactive.save()
    make_followup(assignee_partner=police)
    followups_deliver_due()
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {
        officer.email,
        sergeant.email,
    }


def test_manager_kinds_go_to_managers_only(officer, sergeant, police, make_followup):
    make_followup(assignee_partner=police, kind=kinds.RETENTION_REVIEW)
    followups_deliver_due()
    assert list(Notification.objects.values_list("recipient__email", flat=True)) == [sergeant.email]


def test_a_case_follow_up_reaches_nobody_who_cannot_see_the_case(
    officer, teacher, school, case, make_followup
):
    """The school is not on the case: its staff are not told about it, even if assigned."""
    make_followup(case=case, assignee_partner=school)
    make_followup(case=case, assignee_user=teacher, kind="other")
    assert followups_deliver_due() == 2
    assert not Notification.objects.exists()


def test_a_shared_partner_is_told_while_the_share_lasts(
    teacher, school, shared_case, make_followup
):
    make_followup(case=shared_case, assignee_partner=school)
    followups_deliver_due()
    assert len(notified(teacher)) == 1


def test_escalation_kinds_are_claimed_as_escalated(sergeant, police, make_followup):
    followup = make_followup(assignee_partner=police, kind=kinds.SCREENING_OVERDUE)
    followups_deliver_due()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.ESCALATED
    assert followup.escalated_at is not None
    assert notified(sergeant)[0][0] == kinds.SCREENING_OVERDUE


def test_large_batches_in_constant_queries_per_batch(police, officer, sergeant, make_followup):
    users = [factories.make_user(police) for _ in range(5)]
    for n in range(60):
        make_followup(assignee_user=users[n % 5])
    with CaptureQueriesContext(connection) as ctx:
        assert followups_deliver_due(batch=25) == 60
    # 3 batches: claim (3) + partner members (0) + notifications (2) + outbox (1) each, plus
    # the savepoint bookkeeping; nothing per follow-up.
    assert len(ctx.captured_queries) <= 3 * 12
    assert Notification.objects.count() == 60
