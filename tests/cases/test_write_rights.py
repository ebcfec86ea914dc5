"""Write rights are decided in access.py and enforced by the services, so every channel agrees.

Regression tests for rights that the API and sync once decided differently from the web:
break-glass is read-only everywhere, coordinators never write case content, auditors and
administrators never touch the person index, and another partner's local ids stay theirs.
"""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AccessLog
from cases import services
from cases.models import Case, ConsentRecord, Person, Relationship
from casework import services as casework_services
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

PERSON = {"given_name": "Amir", "family_name": "Shah", "date_of_birth": "2011-02-03"}


def etag(response) -> str:
    return response["ETag"]


@pytest.fixture
def glass_case(make_case, police, outsider_partner, outsider):
    """A police case the outsider (a practitioner) reads only through break-glass."""
    services.agreement_create(
        name="Emergency ISA", parties=[police, outsider_partner], review_date=date(2030, 1, 1)
    )
    case = make_case(summary="Police only")
    casework_services.break_glass_open(
        actor=actor(outsider), case_id=case.pk, reason="Missing child, urgent, out of hours"
    )
    return case


class TestBreakGlassIsReadOnlyInEveryChannel:
    def test_the_person_cannot_be_changed(self, api, glass_case, outsider):
        client = api(outsider)
        url = f"/api/v1/people/{glass_case.subject_id}"
        read = client.get(url)
        assert read.status_code == 200
        response = client.patch(
            url, {"preferred_name": "Changed"}, format="json", HTTP_IF_MATCH=etag(read)
        )
        assert response.status_code == 403
        assert Person.objects.get(pk=glass_case.subject_id).preferred_name == ""
        assert AccessLog.objects.filter(user=outsider, action="update", allowed=False).exists()

    def test_no_consent_or_relationship_can_be_recorded(
        self, api, glass_case, outsider, make_person
    ):
        client = api(outsider)
        consent = client.post(
            f"/api/v1/cases/{glass_case.pk}/consents",
            {"person": str(glass_case.subject_id), "decision": "given",
             "lawful_basis": "consent", "scope": "Sharing with school"},
            format="json",
        )  # fmt: skip
        assert consent.status_code == 403
        assert not ConsentRecord.objects.exists()
        sibling = make_person(given_name="Sam")
        services.case_household_add(actor=actor(glass_case.lead_practitioner),
                                    case=glass_case, person=sibling)  # fmt: skip
        relation = client.post(
            f"/api/v1/people/{glass_case.subject_id}/relationships",
            {"related_to": str(sibling.pk), "kind": "sibling"},
            format="json",
        )
        assert relation.status_code == 403
        assert not Relationship.objects.exists()


@pytest.fixture
def vru_case(shared_case, officer, vru):
    """Shared with the VRU, whose coordinator may read it for intake."""
    services.case_share(
        actor=actor(officer), case=shared_case, partner=vru, lawful_basis="public_task",
        reason="Programme intake",
    )  # fmt: skip
    return shared_case


class TestCoordinatorsNeverWriteCaseContent:
    def test_not_through_the_api(self, api, vru_case, coordinator):
        client = api(coordinator)
        assert client.get(f"/api/v1/cases/{vru_case.pk}").status_code == 200
        base = f"/api/v1/cases/{vru_case.pk}"
        writes = [
            (f"{base}/entries", {"kind": "contact", "occurred_at": "2026-01-01T10:00:00Z",
                                 "body": "x"}),
            (f"{base}/adversities", {"code": "bullying", "source": "observed"}),
            (f"{base}/actions", {"title": "Visit", "due_date": "2030-01-01"}),
            (f"{base}/consents", {"person": str(vru_case.subject_id), "decision": "given",
                                  "lawful_basis": "consent", "scope": "All"}),
            (f"{base}/transitions", {"to": "closed", "reason": "done",
                                     "closure_reason": "no_further_action"}),
        ]  # fmt: skip
        for url, body in writes:
            response = client.post(url, body, format="json")
            assert response.status_code == 403, (url, response.content)
        person = client.get(f"/api/v1/people/{vru_case.subject_id}")
        patch = client.patch(
            f"/api/v1/people/{vru_case.subject_id}", {"preferred_name": "X"}, format="json",
            HTTP_IF_MATCH=etag(person),
        )  # fmt: skip
        assert patch.status_code == 403
        case = client.get(base)
        patch = client.patch(base, {"summary": "X"}, format="json", HTTP_IF_MATCH=etag(case))
        assert patch.status_code == 403
        assert Case.objects.get(pk=vru_case.pk).status == vru_case.status

    def test_not_through_sync(self, api, vru_case, coordinator):
        response = api(coordinator).post(
            "/api/v1/sync/cases",
            {"records": [{"local_id": "C-1", "subject": str(vru_case.subject_id),
                          "summary": "New"}]},
            format="json",
        )  # fmt: skip
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["error"]["code"] == "forbidden"
        assert Case.objects.count() == 1


class TestThePersonIndexIsNotForAuditorsOrAdmins:
    @pytest.mark.parametrize("role", ["auditor", "admin"])
    def test_they_cannot_create_upsert_or_match(self, api, vru, role):
        user = factories.make_user(vru, role)
        client = api(user)
        assert client.post("/api/v1/people/", PERSON, format="json").status_code == 403
        assert (
            client.put(
                "/api/v1/people/by-identifier/nhs/9434765919", PERSON, format="json"
            ).status_code
            == 403
        )
        assert client.post("/api/v1/people/matches", PERSON, format="json").status_code == 403
        assert not Person.objects.exists()
        assert AccessLog.objects.filter(user=user, allowed=False).count() == 3


class TestLocalIdentifiersStayWithTheirPartner:
    def test_the_web_case_page_hides_another_partners_local_id(
        self, client, shared_case, officer, teacher
    ):
        services.person_update(
            actor=actor(officer), person=shared_case.subject, expected_version=1, data={},
            identifiers=[{"scheme": "local", "value": "RMS-884422"},
                         {"scheme": "nhs", "value": "9434765919"}],
        )  # fmt: skip
        client.force_login(teacher)
        page = client.get(f"/cases/{shared_case.pk}/").content.decode()
        assert "943 476 5919" in page or "9434765919" in page
        assert "RMS-884422" not in page
        client.force_login(officer)
        assert "RMS-884422" in client.get(f"/cases/{shared_case.pk}/").content.decode()
