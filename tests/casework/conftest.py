from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from casework import services
from partners.actor import actor_for_user


def actor(user):
    return actor_for_user(user, channel="api")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def logged(user, *, action=None, object_type=None, allowed=True):
    qs = AccessLog.objects.filter(user=user, allowed=allowed)
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs


@pytest.fixture
def agreement(police, school, vru, outsider_partner):
    """Police, school and the VRU share under one agreement; the outsider's partner is not a party."""
    return case_services.agreement_create(
        name="Northshire safeguarding ISA",
        parties=[police, school, vru],
        review_date=date(2030, 6, 30),
    )


@pytest.fixture
def make_case(officer, agreement):
    def make(by=None, share_with=(), given="Jayden", family="Clarke", **data):
        by = by or officer
        person = case_services.person_create(
            actor=actor(by),
            data={"given_name": given, "family_name": family, "date_of_birth": date(2010, 3, 14)},
        )
        case = case_services.case_create(actor=actor(by), subject=person, data=data)
        for partner in share_with:
            case_services.case_share(
                actor=actor(by), case=case, partner=partner, lawful_basis="public_task",
                reason="Joint safeguarding",
            )  # fmt: skip
        return case

    return make


@pytest.fixture
def case(make_case, school, vru):
    """Led by the police (officer), shared with the school (teacher) and the VRU (coordinator)."""
    return make_case(share_with=[school, vru])


@pytest.fixture
def make_entry(officer):
    def make(case, by=None, visibility="case", named=(), body="Seen at the park.", **kw):
        return services.entry_create(
            actor=actor(by or officer), case=case, kind=kw.pop("kind", "contact"),
            occurred_at=kw.pop("occurred_at", ago(hours=2)), body=body, visibility=visibility,
            named_users=named,
        )  # fmt: skip

    return make
