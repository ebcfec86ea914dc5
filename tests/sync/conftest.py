from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from cases import services
from partners.actor import actor_for_client, actor_for_user
from partners.models import ApiClient
from partners.tokens import hash_token
from tests import factories


def as_actor(who):
    """A user or an API client token → the Actor the services expect."""
    if isinstance(who, str):
        return actor_for_client(ApiClient.objects.get(token_hash=hash_token(who)))
    return actor_for_user(who, channel="api")


def postgres_only(test):
    """Real concurrent transactions: PostgreSQL only (SQLite has a single writer)."""
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (real concurrent transactions)"
    )
    return pytest.mark.postgres_only(skip(test))


@pytest.fixture
def agreement(police, school, vru):
    return services.agreement_create(
        name="Northshire safeguarding ISA",
        parties=[police, school, vru],
        review_date=date(2027, 6, 30),
    )


@pytest.fixture
def police_system(police):
    """The police records system: an API client with read, write and sync."""
    return factories.client_token(police, "read,write,sync", name="police-rms")


@pytest.fixture
def school_system(school):
    return factories.client_token(school, "read,write,sync", name="school-mis")


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
            actor=as_actor(by or officer), data=data, identifiers=identifiers
        )

    return make


@pytest.fixture
def make_case(officer, make_person):
    def make(by=None, subject=None, **data):
        by = by or officer
        return services.case_create(
            actor=as_actor(by), subject=subject or make_person(by=by), data=data
        )

    return make


@pytest.fixture
def share_with(officer, agreement):
    def share(case, partner, by=None):
        return services.case_share(
            actor=as_actor(by or officer),
            case=case,
            partner=partner,
            lawful_basis="public_task",
            reason="Joint safeguarding",
        )

    return share
