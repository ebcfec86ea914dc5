"""Every role × every way a case can relate to the viewer's partner × every operation.

The viewer belongs to `school` (the `vru_auditor`, the partnership's information-governance auditor,
to the VRU). Cases are led by `school` (own lead) or by `police`, which may have shared the case
with `school` (live, expired or revoked) or not at all. Invisible records
are 404 everywhere: in lists, details and on every action, never a 403 that confirms they exist.
"""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases import services
from tests import factories
from tests.cases.conftest import expire
from tests.factories import actor

ROLES = ["practitioner", "manager", "coordinator", "auditor", "vru_auditor", "admin"]
SITUATIONS = ["own_lead", "shared", "unshared", "expired_share", "revoked_share"]
OPERATIONS = ["list", "detail", "update", "share", "access_log"]

# What each role gets, per situation: (listed, detail, update, share, access_log)
NOT_VISIBLE = (False, 404, 404, 404, 404)
EXPECTED = {
    "practitioner": {"own_lead": (True, 200, 200, 201, 403), "shared": (True, 200, 403, 403, 403)},
    "manager": {"own_lead": (True, 200, 200, 201, 200), "shared": (True, 200, 403, 403, 403)},
    "coordinator": {"own_lead": (True, 200, 403, 403, 403), "shared": (True, 200, 403, 403, 403)},
    # Auditors never read content. A partner's auditor reads the access log of cases their partner
    # leads (and the rows about their own staff, who have not touched these cases: 404); the
    # VRU's auditors (partnership-wide information governance) read every case's.
    "auditor": {"own_lead": (False, 404, 404, 404, 200)},
    "vru_auditor": {s: (False, 404, 404, 404, 200) for s in SITUATIONS},
    "admin": {},
}


def expected(role, situation, operation):
    row = EXPECTED[role].get(situation, NOT_VISIBLE)
    return row[OPERATIONS.index(operation)]


@pytest.fixture
def world(police, school, vru, officer, make_person, agreement):
    def build(role, situation):
        if role == "vru_auditor":
            viewer = factories.make_user(vru, "auditor")
        else:
            viewer = factories.make_user(school, role)
        lead_user = (
            factories.make_user(school, "practitioner") if situation == "own_lead" else officer
        )
        person = services.person_create(
            actor=actor(lead_user),
            data={"given_name": "Amira", "family_name": "Hassan"},
            identifiers=[],
        )
        case = services.case_create(
            actor=actor(lead_user), subject=person, data={"summary": "secret summary"}
        )
        if situation in ("shared", "expired_share", "revoked_share"):
            services.case_share(
                actor=actor(officer),
                case=case,
                partner=school,
                lawful_basis="public_task",
                reason="joint work",
            )
        if situation == "expired_share":
            expire(case, school)
        if situation == "revoked_share":
            services.share_revoke(actor=actor(officer), case=case, partner=school)
        case.refresh_from_db()
        return viewer, case

    return build


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, api, vru, role, situation, operation):
    viewer, case = world(role, situation)
    client = api(viewer)
    want = expected(role, situation, operation)
    url = f"/api/v1/cases/{case.id}"
    refused_before = AccessLog.objects.filter(allowed=False, user=viewer).count()

    if operation == "list":
        body = client.get("/api/v1/cases/").json()
        ids = [c["id"] for c in body["results"]]
        assert (str(case.id) in ids) is want
        if not want:
            assert ids == []  # nothing else leaks either
        searched = client.get("/api/v1/cases/", {"q": case.reference}).json()["results"]
        assert bool(searched) is want
        return

    if operation == "detail":
        response = client.get(url)
    elif operation == "update":
        response = client.patch(url, {"risk_level": "high"}, format="json", HTTP_IF_MATCH=case.etag)
    elif operation == "share":
        response = client.post(
            f"{url}/shares",
            {"partner": vru.slug, "lawful_basis": "public_task", "reason": "programme intake"},
            format="json",
        )
    else:
        response = client.get(f"{url}/access-log")

    assert response.status_code == want, response.content
    if want in (403, 404):
        body = response.json()
        assert set(body) == {"error"}
        assert case.reference not in response.content.decode()
        assert "secret summary" not in response.content.decode()
        assert AccessLog.objects.filter(allowed=False, user=viewer).count() == refused_before + 1
    if want == 404:
        assert response.json()["error"]["message"] in ("Case not found.", "Not found.")
