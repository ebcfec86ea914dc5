"""GET /readyz in-process (core/health.py). With Redis stopped, frozen and back, and without the
database: tests/sync/test_redis_outage.py."""

from __future__ import annotations

import pytest
from django.db.migrations.recorder import MigrationRecorder

from core import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_migration_check(monkeypatch):
    monkeypatch.setattr(health, "_migrations_ok_at", None)


def test_ready_without_redis_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
    }
    assert response["Cache-Control"] == "no-store"
    assert client.head("/readyz").status_code == 200
    assert client.post("/readyz").status_code == 405


def test_a_migration_not_applied_is_down(client):
    MigrationRecorder.Migration.objects.filter(app="followups").order_by("-id").first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["migrations"] == "pending"


def test_a_complete_plan_is_not_worked_out_again_for_a_minute(client, django_assert_num_queries):
    client.get("/readyz")
    with django_assert_num_queries(1):  # SELECT 1
        assert client.get("/readyz").json()["status"] == "ok"
