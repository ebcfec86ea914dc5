"""Property-based fuzzing of the whole partner API from its own OpenAPI document (schemathesis),
in-process through the WSGI app: no 5xx for any generated input, and every response matches the
schema. A bounded number of examples per operation keeps it within a couple of minutes."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories
from vru.wsgi import application

# Generating the document touches no database, so it can be loaded when the module is collected.
# The coverage phase enumerates every boundary value of every parameter: minutes per operation.
# Examples and random fuzzing, bounded by max_examples, keep the run to a couple of minutes.
# Strings include NUL characters (U+0000) on purpose, in paths, queries, headers and bodies:
# PostgreSQL cannot store them, so run this on PostgreSQL too (core.middleware refuses them).
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"allow-x00": True, "codec": "utf-8"},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def keep_connection():
    """The WSGI handler closes "old" connections as a request starts and finishes, which on
    PostgreSQL closes the test's own transaction; Django's test client suspends it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db, police, keep_connection):
    """A police practitioner with a little data, so some generated requests reach real records."""
    from datetime import date

    from cases import services
    from partners.actor import actor_for_user
    from partners.models import Role

    user = factories.make_user(police, Role.PRACTITIONER)
    actor = actor_for_user(user, channel="api")
    person = services.person_create(
        actor=actor,
        data={"given_name": "Jayden", "family_name": "Clarke", "date_of_birth": date(2010, 3, 14)},
    )
    services.case_create(actor=actor, subject=person, data={"summary": "Fuzzing fixture"})
    cache.clear()  # rate-limit counters from other tests
    return factories.token_for(user)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_fails_and_matches_its_schema(case, fuzz_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
