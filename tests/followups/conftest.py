"""Fixtures for follow-ups: a police-led case shared with the school, and helpers to make
follow-ups and read what the outbox would have published."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from followups.models import FollowUp
from followups.services import followup_create
from partners.actor import actor_for_user
from partners.models import Role
from tests import factories


def actor(user):
    return actor_for_user(user, channel="api")


@pytest.fixture
def agreement(police, school, vru):
    """Police, school and the VRU share under one agreement; the outsider's partner does not."""
    return case_services.agreement_create(
        name="Northshire safeguarding ISA",
        parties=[police, school, vru],
        review_date=date(2030, 1, 1),
    )


@pytest.fixture
def school_manager(school):
    return factories.make_user(school, Role.MANAGER, email="head@school.example")


@pytest.fixture
def make_case(officer):
    def make(by=None, **data):
        by = by or officer
        person = case_services.person_create(
            actor=actor(by), data={"given_name": "Jayden", "family_name": "Clarke"}
        )
        return case_services.case_create(actor=actor(by), subject=person, data=data)

    return make


@pytest.fixture
def case(make_case):
    """Led by the police (the officer is its lead practitioner); not shared."""
    return make_case(summary="Seen with older peers late at night.")


@pytest.fixture
def shared_case(make_case, officer, school, agreement):
    case = make_case(summary="Missing from school.")
    case_services.case_share(
        actor=actor(officer),
        case=case,
        partner=school,
        lawful_basis="public_task",
        reason="Joint work",
    )
    return case


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
