"""Notification emails: a title and a link, never case content, through Django's email backend.

Each email is claimed with a lease (a conditional UPDATE of `email_claimed_at`) before it is sent
and marked sent after. Two workers never send the same email at once; a worker that dies mid-send
leaves the lease to run out, and the email sweep sends it then. The only window for a duplicate is
a worker dying between the mail server accepting the message and the row being marked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from followups.kinds import FOLLOWUPS_PATH
from followups.models import Notification

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# The sweep leaves young rows to the task enqueued with them, and gives up on very old ones.
SWEEP_MIN_AGE = timedelta(minutes=2)
SWEEP_MAX_AGE = timedelta(days=2)
SWEEP_BATCH = 200


def _claimable(now, lease: timedelta) -> Q:
    return Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - lease)
    )


def render(notification: Notification) -> EmailMessage:
    url = f"{settings.SITE_URL}{notification.link or FOLLOWUPS_PATH}"
    body = render_to_string(
        "followups/email/notification.txt",
        {
            "title": notification.title,
            "url": url,
            "all_url": f"{settings.SITE_URL}{FOLLOWUPS_PATH}",
        },
    )
    return EmailMessage(
        subject=f"VRU Case Coordination: {notification.title}"[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
    )


def send_one(notification_id, *, lease: timedelta = LEASE) -> bool:
    """Send one notification's email unless it was sent or another worker holds it."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(_claimable(now, lease), pk=notification_id)
        .filter(recipient__is_active=True, email_attempts__lt=MAX_ATTEMPTS)
        .update(email_claimed_at=now, email_attempts=F("email_attempts") + 1)
    )
    if claimed != 1:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        render(notification).send(fail_silently=False)
    except Exception:
        # Give the lease back so the next sweep tries again (up to MAX_ATTEMPTS).
        Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            email_claimed_at=None
        )
        logger.exception("notification email %s could not be sent", notification_id)
        return False
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


def send_many(notification_ids: Iterable, *, lease: timedelta = LEASE) -> int:
    return sum(send_one(pk, lease=lease) for pk in notification_ids)


def sweep(*, lease: timedelta = LEASE, min_age: timedelta = SWEEP_MIN_AGE, now=None) -> int:
    """Send what a lost task, a dead worker or a mail server outage left unsent."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            _claimable(now, lease),
            created_at__lte=now - min_age,
            created_at__gte=now - SWEEP_MAX_AGE,
            email_attempts__lt=MAX_ATTEMPTS,
            recipient__is_active=True,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return send_many(ids, lease=lease)
