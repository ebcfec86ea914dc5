"""How long check-ins are kept (SUPERVISION_RETENTION_MONTHS after the date held)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from followups.models import FollowUp
from tests.wellbeing.conftest import actor, details
from wellbeing import retention, services
from wellbeing.models import CheckIn

pytestmark = pytest.mark.django_db


def test_check_ins_past_their_period_are_deleted_with_their_follow_up(officer, sergeant, settings):
    settings.SUPERVISION_RETENTION_MONTHS = 24
    old = services.check_in_record(actor=actor(sergeant), subject=officer, data=details())
    services.check_in_sign_off(actor=actor(sergeant), check_in=old)
    kept = services.check_in_record(actor=actor(sergeant), subject=officer, data=details())
    held = timezone.localdate() - relativedelta(months=24) - timedelta(days=1)
    CheckIn.objects.filter(pk=old.pk).update(held_on=held)
    assert retention.check_ins_prune() == 1
    assert retention.check_ins_prune() == 0  # idempotent
    assert list(CheckIn.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not FollowUp.objects.filter(subject_id=old.pk).exists()
