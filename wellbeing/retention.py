"""How long supervision check-ins are kept: SUPERVISION_RETENTION_MONTHS (24 by default, at least
12) after the date each was held; then the daily task deletes it, with the follow-up its sign-off
scheduled. Idempotent: a second run finds nothing older than the cutoff.

A deletion is counted in the worker's log (how many, before which date), never what was deleted.
Training records are not check-ins: they are kept with the account.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from followups.models import FollowUp
from wellbeing.access import CHECK_IN
from wellbeing.models import CheckIn

logger = logging.getLogger(__name__)
BATCH = 1000


def cutoff(now: datetime | None = None) -> date:
    """Check-ins held before this date are past their retention."""
    return timezone.localdate(now or timezone.now()) - relativedelta(
        months=settings.SUPERVISION_RETENTION_MONTHS
    )


def check_ins_prune(*, now: datetime | None = None, batch: int = BATCH) -> int:
    before = cutoff(now)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                CheckIn.objects.filter(held_on__lt=before)
                .order_by("held_on")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            FollowUp.objects.filter(subject_resource=CHECK_IN, subject_id__in=ids).delete()
            deleted += CheckIn.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("supervision check-ins held before %s deleted: %d", before, deleted)
    return deleted
