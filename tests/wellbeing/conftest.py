"""Fixtures for supervision and wellbeing: the police officer (on high-exposure work), their two
managers, a colleague, and people of other partners and roles who must see none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.actor import actor_for_user
from partners.models import PractitionerProfile, Role
from tests import factories
from wellbeing import services


def actor(user):
    return actor_for_user(user, channel="ui")


def details(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "held_on": today,
        "wellbeing": 3,
        "wellbeing_notes": "Sleeping badly after the last case",
        "exposure": "a_lot",
        "exposure_kind": "Images reviewed for an investigation",
        "workload": "stretched",
        "support_offered": ["peer_support", "counselling"],
        "agreed_actions": "A week off image review",
        "next_check_in_on": today + timedelta(weeks=4),
    }
    data.update(overrides)
    return data


@pytest.fixture
def inspector(police):
    """A second police manager: signs off the sergeant's own check-ins."""
    return factories.make_user(police, Role.MANAGER, email="inspector@police.example")


@pytest.fixture
def colleague(police):
    return factories.make_user(police, Role.PRACTITIONER, email="colleague@police.example")


@pytest.fixture
def police_auditor(police):
    return factories.make_user(police, Role.AUDITOR, email="auditor@police.example")


@pytest.fixture
def police_admin(police):
    return factories.make_user(police, Role.ADMIN, email="admin@police.example")


@pytest.fixture
def school_manager(school):
    return factories.make_user(school, Role.MANAGER, email="head@school.example")


@pytest.fixture
def high_exposure(officer):
    PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
    return officer


@pytest.fixture
def check_in(officer, sergeant):
    """Recorded by the sergeant with the officer; waiting for sign-off."""
    return services.check_in_record(actor=actor(sergeant), subject=officer, data=details())
