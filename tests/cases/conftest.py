"""The persons, cases, shares and agreement come from tests/conftest.py."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def expire(case, partner):
    """Make a share expire now, as time passing would."""
    from cases.models import CaseGroupObjectPermission, Share

    past = timezone.now() - timedelta(seconds=1)
    Share.objects.filter(case=case, partner=partner).update(expires_at=past)
    CaseGroupObjectPermission.objects.filter(content_object=case, group=partner.group).update(
        expires_at=past
    )
