from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services
from partners.actor import actor_for_user


def actor(user):
    return actor_for_user(user, channel="api")


@pytest.fixture
def agreement(police, school, outsider_partner, vru):
    """Police and school (and the VRU) have an agreement; the outsider's partner is not a party."""
    return services.agreement_create(
        name="Northshire safeguarding ISA",
        parties=[police, school, vru],
        review_date=date(2027, 6, 30),
    )


@pytest.fixture
def make_person(officer):
    def make(by=None, **data):
        data = {
            "given_name": "Jayden",
            "family_name": "Clarke",
            "date_of_birth": date(2010, 3, 14),
            **data,
        }
        identifiers = data.pop("identifiers", [])
        return services.person_create(
            actor=actor(by or officer), data=data, identifiers=identifiers
        )

    return make


@pytest.fixture
def make_case(officer, make_person):
    def make(by=None, subject=None, **data):
        by = by or officer
        return services.case_create(
            actor=actor(by), subject=subject or make_person(by=by), data=data
        )

    return make


@pytest.fixture
def shared_case(make_case, officer, school, agreement):
    """A case the police lead and share with the school."""
    case = make_case(summary="Missing from school; seen with older peers.")
    services.case_share(
        actor=actor(officer),
        case=case,
        partner=school,
        lawful_basis="public_task",
        reason="Joint safeguarding",
    )
    return case


@pytest.fixture
def share(shared_case, school):
    return shared_case.shares.get(partner=school)


def expire(case, partner):
    """Make a share expire now, as time passing would."""
    from cases.models import CaseGroupObjectPermission, Share

    past = timezone.now() - timedelta(seconds=1)
    Share.objects.filter(case=case, partner=partner).update(expires_at=past)
    CaseGroupObjectPermission.objects.filter(content_object=case, group=partner.group).update(
        expires_at=past
    )
