from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from partners.models import Role
from tests import factories


class Api(APIClient):
    """An API client that sends a bearer token on every request."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if token:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def police(db):
    return factories.make_partner("police", sector="police", name="Northshire Police")


@pytest.fixture
def school(db):
    return factories.make_partner("school", sector="education", name="Riverside School")


@pytest.fixture
def outsider_partner(db):
    return factories.make_partner("elsewhere", sector="housing", name="Elsewhere Homes")


@pytest.fixture
def vru(db):
    return factories.make_partner("vru", sector="vru", name="Northshire VRU")


@pytest.fixture
def officer(police):
    return factories.make_user(police, Role.PRACTITIONER, email="officer@police.example")


@pytest.fixture
def sergeant(police):
    return factories.make_user(police, Role.MANAGER, email="sergeant@police.example")


@pytest.fixture
def teacher(school):
    return factories.make_user(school, Role.PRACTITIONER, email="teacher@school.example")


@pytest.fixture
def outsider(outsider_partner):
    return factories.make_user(
        outsider_partner, Role.PRACTITIONER, email="outsider@elsewhere.example"
    )


@pytest.fixture
def coordinator(vru):
    return factories.make_user(vru, Role.COORDINATOR, email="coordinator@vru.example")


@pytest.fixture
def auditor(vru):
    return factories.make_user(vru, Role.AUDITOR, email="auditor@vru.example")


@pytest.fixture
def api():
    """api(user_or_token) → an API client authenticated as that user (or with that raw token)."""

    def make(who=None) -> Api:
        if who is None:
            return Api()
        token = who if isinstance(who, str) else factories.token_for(who)
        return Api(token)

    return make
