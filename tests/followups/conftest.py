"""Fixtures for follow-ups: a police-led case (and, from tests/conftest.py, one shared with the
school), and helpers to make follow-ups and read what the outbox would have published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from followups.models import FollowUp
from followups.services import followup_create


@pytest.fixture
def case(make_case):
    """Led by the police (the officer is its lead practitioner); not shared."""
    return make_case(summary="Seen with older peers late at night.")


@pytest.fixture
def make_followup():
    counter = iter(range(1, 10_000))

    def make(*, due_in=timedelta(minutes=-5), kind="divert_check_in", **kwargs):
        defaults = {
            "subject_resource": "case" if kwargs.get("case") else "enrolment",
            "subject_id": kwargs["case"].pk if kwargs.get("case") else _uuid(next(counter)),
            "title": "DIVERT check-in due",
        }
        return followup_create(kind=kind, due_at=timezone.now() + due_in, **{**defaults, **kwargs})

    return make


def _uuid(n: int):
    import uuid

    return uuid.UUID(int=n)


@pytest.fixture
def published(monkeypatch):
    """Every task the outbox publishes, as (task name, kwargs), instead of going to a broker."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        "followups.outbox._send", lambda name, kwargs, message_id: sent.append((name, kwargs))
    )
    return sent


def statuses():
    return dict(FollowUp.objects.values_list("pk", "status"))
