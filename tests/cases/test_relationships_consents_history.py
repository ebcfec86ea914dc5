import pytest

from audit.models import AccessLog


@pytest.mark.django_db
class TestRelationships:
    def test_relating_two_visible_people(self, api, officer, make_person, outsider):
        child, mum = make_person(), make_person(given_name="Sarah", date_of_birth="1985-01-01")
        client = api(officer)
        response = client.post(
            f"/api/v1/people/{mum.id}/relationships",
            {"related_to": str(child.id), "kind": "parent"},
            format="json",
        )
        assert response.status_code == 201, response.content
        listed = client.get(f"/api/v1/people/{child.id}/relationships").json()["results"]
        assert [(r["person"], r["kind"], r["related_to"]) for r in listed] == [
            (str(mum.id), "parent", str(child.id))
        ]
        assert AccessLog.objects.filter(action="relate", person_id=child.id).exists()
        assert api(outsider).get(f"/api/v1/people/{child.id}/relationships").status_code == 404

    def test_relating_to_someone_invisible_is_400_without_a_leak(
        self, api, officer, teacher, make_person
    ):
        mine, theirs = make_person(by=teacher), make_person(by=officer)
        response = api(teacher).post(
            f"/api/v1/people/{mine.id}/relationships",
            {"related_to": str(theirs.id), "kind": "sibling"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"related_to": ["unknown person"]}

    def test_relationships_to_people_the_caller_cannot_see_are_not_listed(
        self, api, officer, teacher, shared_case, make_person
    ):
        from cases import services
        from tests.factories import actor

        hidden = make_person(given_name="Hidden")
        services.relationship_add(
            actor=actor(officer), person=hidden, related_to=shared_case.subject, kind="carer"
        )
        assert (
            api(officer)
            .get(f"/api/v1/people/{shared_case.subject_id}/relationships")
            .json()["results"]
            != []
        )
        assert (
            api(teacher)
            .get(f"/api/v1/people/{shared_case.subject_id}/relationships")
            .json()["results"]
            == []
        )


@pytest.mark.django_db
class TestConsents:
    def test_recording_a_consent_decision(self, api, officer, teacher, outsider, shared_case):
        body = {
            "person": str(shared_case.subject_id),
            "decision": "given",
            "lawful_basis": "consent",
            "scope": "Sharing with school",
        }
        response = api(officer).post(
            f"/api/v1/cases/{shared_case.id}/consents", body, format="json"
        )
        assert response.status_code == 201, response.content
        assert (
            api(teacher)
            .get(f"/api/v1/cases/{shared_case.id}/consents")
            .json()["results"][0]["decision"]
            == "given"
        )
        assert api(outsider).get(f"/api/v1/cases/{shared_case.id}/consents").status_code == 404
        assert (
            api(outsider)
            .post(f"/api/v1/cases/{shared_case.id}/consents", body, format="json")
            .status_code
            == 404
        )
        assert AccessLog.objects.filter(action="record_consent", case_id=shared_case.id).exists()

    def test_the_person_must_be_on_the_case(self, api, officer, shared_case, make_person):
        other = make_person(given_name="Other")
        body = {
            "person": str(other.id),
            "decision": "refused",
            "lawful_basis": "consent",
            "scope": "x",
        }
        response = api(officer).post(
            f"/api/v1/cases/{shared_case.id}/consents", body, format="json"
        )
        assert response.status_code == 400 and "person" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_case_history_is_readable_by_partners_on_the_case(
    api, officer, teacher, outsider, shared_case
):
    api(officer).patch(
        f"/api/v1/cases/{shared_case.id}",
        {"risk_level": "high"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    history = api(teacher).get(f"/api/v1/cases/{shared_case.id}/history").json()["results"]
    assert [h["version"] for h in history] == [1, 2]
    assert history[1]["changes"] == {"risk_level": ["medium", "high"]}
    assert api(outsider).get(f"/api/v1/cases/{shared_case.id}/history").status_code == 404
