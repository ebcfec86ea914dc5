"""Notification emails carry a title and a link, never case content, and go out once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from followups import emails, tasks
from followups.models import Notification
from followups.services import followups_deliver_due, notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def notification(officer, case, make_followup):
    make_followup(case=case, assignee_user=officer, title="Case review due on 3 March 2027")
    followups_deliver_due()
    return Notification.objects.get()


def test_the_email_is_a_title_and_a_link(mailoutbox, officer, case, notification):
    assert emails.send_one(notification.pk)
    [mail] = mailoutbox
    assert mail.to == [officer.email]
    assert mail.subject == "VRU Case Coordination: Case review due on 3 March 2027"
    assert f"{settings.SITE_URL}/cases/{case.pk}" in mail.body
    # Nothing about the person or the case beyond the link.
    for secret in (case.summary, case.subject.given_name, case.subject.family_name, case.reference):
        assert secret not in mail.body
        assert secret not in mail.subject
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_it_is_sent_once_however_often_the_task_runs(mailoutbox, notification):
    tasks.send_notification_emails([str(notification.pk)])
    tasks.send_notification_emails([str(notification.pk)])
    assert emails.sweep(min_age=timedelta(0)) == 0
    assert len(mailoutbox) == 1


def test_a_lease_held_by_another_worker_is_respected_until_it_runs_out(mailoutbox, notification):
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=timezone.now())
    assert not emails.send_one(notification.pk)
    assert emails.sweep(min_age=timedelta(0)) == 0
    # The worker holding it died: after the lease the sweep sends it.
    Notification.objects.filter(pk=notification.pk).update(
        email_claimed_at=timezone.now() - emails.LEASE - timedelta(seconds=1)
    )
    assert emails.sweep(min_age=timedelta(0)) == 1
    assert len(mailoutbox) == 1


def test_a_failed_send_is_retried_by_the_sweep(monkeypatch, mailoutbox, notification):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as m:
        m.setattr("django.core.mail.EmailMessage.send", refuse)
        assert not emails.send_one(notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is None
    assert notification.email_claimed_at is None
    assert emails.sweep(min_age=timedelta(0)) == 1
    assert len(mailoutbox) == 1


def test_young_notifications_are_left_to_their_own_task(mailoutbox, notification):
    assert emails.sweep() == 0
    assert mailoutbox == []


def test_notify_skips_inactive_people(mailoutbox, officer, sergeant):
    sergeant.is_active = False
    sergeant.save()
    created = notify(recipients=[officer, sergeant], kind="k", title="t", dedupe_key="x")
    assert [n.recipient for n in created] == [officer]
