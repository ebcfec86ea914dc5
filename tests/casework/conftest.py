"""Casework fixtures on top of tests/conftest.py: cases shared as a test says, and entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from casework import services
from tests import factories


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
def make_case(officer, agreement):
    def make(by=None, share_with=(), given="Jayden", family="Clarke", **data):
        return factories.CaseFactory(
            by=by or officer, share_with=share_with, subject__given_name=given,
            subject__family_name=family, **data,
        )  # fmt: skip

    return make


@pytest.fixture
def case(make_case, school, vru):
    """Led by the police (officer), shared with the school (teacher) and the VRU (coordinator)."""
    return make_case(share_with=[school, vru])


@pytest.fixture
def make_entry(officer):
    def make(case, by=None, visibility="case", named=(), body="Seen at the park.", **kw):
        return services.entry_create(
            actor=factories.actor(by or officer), case=case, kind=kw.pop("kind", "contact"),
            occurred_at=kw.pop("occurred_at", ago(hours=2)), body=body, visibility=visibility,
            named_users=named,
        )  # fmt: skip

    return make
