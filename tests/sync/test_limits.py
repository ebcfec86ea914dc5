"""Rate limits per caller (429 + Retry-After in the error shape) and request size limits (413)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sync.throttling import CallerRateThrottle, SyncRateThrottle
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_limits(monkeypatch):
    cache.clear()
    rates = {"caller": "3/min", "sync": "1/min"}
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(SyncRateThrottle, "THROTTLE_RATES", rates)
    yield
    cache.clear()


def test_it_limits_each_caller_separately(api, police, low_limits):
    first, second = factories.client_token(police), factories.client_token(police)
    client = api(first)
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/v1/me")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"
    # Another system of the same partner, behind the same address, is not held back.
    assert api(second).get("/api/v1/me").status_code == 200


def test_users_are_limited_by_account(api, officer, teacher, low_limits):
    for _ in range(3):
        api(officer).get("/api/v1/me")
    assert api(officer).get("/api/v1/me").status_code == 429
    assert api(teacher).get("/api/v1/me").status_code == 200


def test_batch_sync_has_its_own_tighter_limit(api, police_system, low_limits):
    client = api(police_system)
    assert client.post("/api/v1/sync/people", {"records": []}, format="json").status_code == 200
    limited = client.post("/api/v1/sync/people", {"records": []}, format="json")
    assert limited.status_code == 429 and limited["Retry-After"]


def test_a_body_over_the_limit_is_413(api, police_system, settings):
    settings.API_MAX_REQUEST_BYTES = 2048
    body = {
        "records": [
            {"local_id": f"R{n}", "given_name": "x" * 50, "family_name": "y"} for n in range(40)
        ]
    }
    response = api(police_system).post("/api/v1/sync/people", body, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    keyed = api(police_system).post(
        "/api/v1/people/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert keyed.status_code == 413
