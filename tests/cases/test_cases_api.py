import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AccessLog, AppendOnlyError
from cases import access, services
from cases.models import Case, CaseHistory
from tests import factories
from tests.cases.conftest import expire
from tests.factories import actor


def error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.django_db
class TestCreate:
    def test_the_callers_partner_leads_the_new_case(self, api, officer, make_person):
        person = make_person()
        response = api(officer).post(
            "/api/v1/cases/", {"subject": str(person.id), "summary": "Worried"}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert re.fullmatch(r"VRU-\d{4}-\d{6}", body["reference"])
        assert body["lead_partner"] == "police"
        assert body["status"] == "referred"
        assert body["lead_practitioner"] == str(officer.id)
        assert response["ETag"] == '"1"'
        assert CaseHistory.objects.filter(case_id=body["id"], version=1).exists()

    def test_references_are_sequential_and_unique(self, make_case):
        first, second = make_case(), make_case()
        assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1

    def test_a_subject_the_caller_cannot_see_is_a_400_not_a_leak(self, api, teacher, make_person):
        person = make_person()  # police's
        err = error(
            api(teacher).post("/api/v1/cases/", {"subject": str(person.id)}, format="json"), 400
        )
        assert err["fields"] == {"subject": ["unknown person"]}

    def test_auditors_and_coordinators_cannot_open_cases(
        self, api, auditor, coordinator, make_person
    ):
        for user in (auditor, coordinator):
            person = make_person(by=user) if user is coordinator else make_person()
            assert api(user).post(
                "/api/v1/cases/", {"subject": str(person.id)}, format="json"
            ).status_code in (400, 403)


@pytest.mark.django_db
class TestUpdate:
    def test_patch_with_if_match_keeps_history(self, api, officer, make_case):
        case = make_case()
        response = api(officer).patch(
            f"/api/v1/cases/{case.id}", {"risk_level": "high", "goals": "Get back into football", "reason": "new info"},
            format="json", HTTP_IF_MATCH='"1"',
        )  # fmt: skip
        assert response.status_code == 200
        assert response["ETag"] == '"2"'
        history = CaseHistory.objects.get(case=case, version=2)
        assert history.changes["risk_level"] == ["medium", "high"]
        assert history.changed_by == officer
        assert history.reason == "new info"

    def test_missing_if_match_is_428_and_stale_is_412(self, api, officer, make_case):
        case = make_case()
        client = api(officer)
        error(client.patch(f"/api/v1/cases/{case.id}", {"risk_level": "high"}, format="json"), 428)
        client.patch(
            f"/api/v1/cases/{case.id}", {"risk_level": "low"}, format="json", HTTP_IF_MATCH='"1"'
        )
        error(
            client.patch(
                f"/api/v1/cases/{case.id}",
                {"risk_level": "high"},
                format="json",
                HTTP_IF_MATCH='"1"',
            ),
            412,
        )
        case.refresh_from_db()
        assert (case.risk_level, case.version) == ("low", 2)

    def test_bad_values_are_400(self, api, officer, make_case):
        case = make_case()
        err = error(
            api(officer).patch(
                f"/api/v1/cases/{case.id}",
                {"risk_level": "extreme"},
                format="json",
                HTTP_IF_MATCH='"1"',
            ),
            400,
        )
        assert "risk_level" in err["fields"]

    def test_lead_practitioner_must_belong_to_the_lead_partner(
        self, api, officer, teacher, make_case
    ):
        case = make_case()
        response = api(officer).patch(
            f"/api/v1/cases/{case.id}",
            {"lead_practitioner": str(teacher.id)},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        assert "lead_practitioner" in error(response, 400)["fields"]


@pytest.mark.django_db
class TestTransitions:
    def test_the_workflow_and_its_illegal_moves(self, api, officer, make_case):
        case = make_case()
        client = api(officer)
        url = f"/api/v1/cases/{case.id}/transitions"
        assert client.post(url, {"to": "screening"}, format="json").json()["status"] == "screening"
        err = error(client.post(url, {"to": "referred"}, format="json"), 409)
        assert "cannot move to referred" in err["message"]
        assert (
            "closure_reason"
            in error(client.post(url, {"to": "closed"}, format="json"), 400)["fields"]
        )
        closed = client.post(
            url,
            {"to": "closed", "closure_reason": "support_completed", "reason": "done"},
            format="json",
        )
        assert (
            closed.json()["status"] == "closed"
            and closed.json()["closure_reason"] == "support_completed"
        )
        assert (
            client.post(url, {"to": "open", "reason": "new concern"}, format="json").json()[
                "closure_reason"
            ]
            == ""
        )
        assert error(client.post(url, {"to": "bogus"}, format="json"), 400)["fields"]["to"]


@pytest.mark.django_db
class TestShares:
    def test_sharing_records_who_why_and_the_agreement(
        self, api, officer, school, agreement, make_case
    ):
        case = make_case()
        response = api(officer).post(
            f"/api/v1/cases/{case.id}/shares",
            {"partner": "school", "lawful_basis": "public_task", "reason": "Joint visit"},
            format="json",
        )
        assert response.status_code == 201
        body = response.json()
        assert body["partner"] == "school"
        assert body["shared_by"] == str(officer.id)
        assert body["agreement"] == str(agreement.id)
        assert AccessLog.objects.filter(
            action="share", case_id=case.id, detail__partner="school"
        ).exists()
        listed = api(officer).get(f"/api/v1/cases/{case.id}/shares").json()["results"]
        assert [s["partner"] for s in listed] == ["school"]

    def test_no_agreement_is_a_409_saying_which(
        self, api, officer, outsider_partner, agreement, make_case
    ):
        case = make_case()
        response = api(officer).post(
            f"/api/v1/cases/{case.id}/shares",
            {"partner": "elsewhere", "lawful_basis": "public_task", "reason": "x"},
            format="json",
        )
        err = error(response, 409)
        assert err["code"] == "no_agreement"
        assert (
            "Northshire Police (police)" in err["message"]
            and "Elsewhere Homes (elsewhere)" in err["message"]
        )
        assert not access.cases_visible_to(actor(factories.make_user(outsider_partner))).exists()

    def test_bad_share_input_is_400(self, api, officer, agreement, make_case):
        case = make_case()
        client = api(officer)
        assert (
            "partner"
            in error(
                client.post(
                    f"/api/v1/cases/{case.id}/shares",
                    {"partner": "nope", "lawful_basis": "public_task", "reason": "x"},
                    format="json",
                ),
                400,
            )["fields"]
        )
        assert (
            "lawful_basis"
            in error(
                client.post(
                    f"/api/v1/cases/{case.id}/shares",
                    {"partner": "school", "lawful_basis": "because", "reason": "x"},
                    format="json",
                ),
                400,
            )["fields"]
        )
        past = (timezone.now() - timedelta(days=1)).isoformat()
        assert (
            "expires_at"
            in error(
                client.post(
                    f"/api/v1/cases/{case.id}/shares",
                    {
                        "partner": "school",
                        "lawful_basis": "consent",
                        "reason": "x",
                        "expires_at": past,
                    },
                    format="json",
                ),
                400,
            )["fields"]
        )

    def test_revocation_takes_effect_at_once_for_an_open_token(
        self, api, officer, teacher, shared_case
    ):
        teacher_client = api(teacher)
        assert teacher_client.get(f"/api/v1/cases/{shared_case.id}").status_code == 200
        assert (
            api(officer).delete(f"/api/v1/cases/{shared_case.id}/shares/school").status_code == 204
        )
        assert teacher_client.get(f"/api/v1/cases/{shared_case.id}").status_code == 404
        assert teacher_client.get("/api/v1/cases/").json()["results"] == []
        assert teacher_client.get(f"/api/v1/people/{shared_case.subject_id}").status_code == 404

    def test_expiry_takes_effect_at_once(self, api, teacher, school, shared_case):
        client = api(teacher)
        assert client.get(f"/api/v1/cases/{shared_case.id}").status_code == 200
        expire(shared_case, school)
        assert client.get(f"/api/v1/cases/{shared_case.id}").status_code == 404

    def test_revoking_a_share_that_does_not_exist_is_404(self, api, officer, make_case):
        case = make_case()
        error(api(officer).delete(f"/api/v1/cases/{case.id}/shares/school"), 404)

    def test_a_shared_partner_cannot_reshare(self, api, teacher, vru, shared_case):
        response = api(teacher).post(
            f"/api/v1/cases/{shared_case.id}/shares",
            {"partner": "vru", "lawful_basis": "public_task", "reason": "x"},
            format="json",
        )
        error(response, 403)


@pytest.mark.django_db
class TestAccessLog:
    def test_every_read_is_logged_with_its_justification(self, api, officer, teacher, shared_case):
        api(officer).get(f"/api/v1/cases/{shared_case.id}")
        api(teacher).get(f"/api/v1/cases/{shared_case.id}")
        rows = AccessLog.objects.filter(case_id=shared_case.id, action="view")
        assert {(r.user_id, r.justification, r.channel) for r in rows} == {
            (officer.id, "lead partner", "api"),
            (teacher.id, "shared with school (public_task)", "api"),
        }

    def test_refused_attempts_are_logged(self, api, outsider, shared_case):
        api(outsider).get(f"/api/v1/cases/{shared_case.id}")
        row = AccessLog.objects.get(user=outsider)
        assert (row.allowed, row.object_id, row.action) == (False, str(shared_case.id), "view")

    def test_lead_managers_and_auditors_read_it(
        self, api, sergeant, auditor, teacher, shared_case, django_assert_max_num_queries
    ):
        api(teacher).get(f"/api/v1/cases/{shared_case.id}")
        for reader in (sergeant, auditor):
            client = api(reader)
            with django_assert_max_num_queries(12):
                body = client.get(f"/api/v1/cases/{shared_case.id}/access-log").json()
            assert any(
                e["user_email"] == teacher.email and e["action"] == "view" for e in body["results"]
            )
        assert (
            api(auditor).get(f"/api/v1/cases/{shared_case.id}").status_code == 404
        )  # not case content

    def test_the_log_is_append_only_through_the_orm(self, api, officer, shared_case):
        api(officer).get(f"/api/v1/cases/{shared_case.id}")
        entry = AccessLog.objects.first()
        with pytest.raises(AppendOnlyError):
            entry.save()
        with pytest.raises(AppendOnlyError):
            entry.delete()
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.filter(pk=entry.pk).update(action="x")
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.all().delete()

    def test_the_database_refuses_updates_and_deletes_on_postgresql(
        self, api, officer, shared_case
    ):
        if connection.vendor != "postgresql":
            pytest.skip("the trigger exists on PostgreSQL")
        api(officer).get(f"/api/v1/cases/{shared_case.id}")
        from django.db import DatabaseError

        for sql in ("UPDATE audit_accesslog SET action = 'x'", "DELETE FROM audit_accesslog"):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)


@pytest.mark.django_db
class TestRestrictedCases:
    def test_only_named_users_see_a_restricted_case(
        self, api, officer, sergeant, teacher, shared_case
    ):
        Case.objects.filter(pk=shared_case.pk).update(restricted=True)
        access.grant_user(shared_case, officer)
        access.grant_user(shared_case, teacher)
        assert api(officer).get(f"/api/v1/cases/{shared_case.id}").status_code == 200
        assert api(teacher).get(f"/api/v1/cases/{shared_case.id}").status_code == 200
        assert api(sergeant).get(f"/api/v1/cases/{shared_case.id}").status_code == 404
        assert (
            api(factories.client_token(officer.membership.partner))
            .get(f"/api/v1/cases/{shared_case.id}")
            .status_code
            == 404
        )


@pytest.mark.django_db
class TestLists:
    def test_constant_queries_whatever_the_page_size(
        self, api, officer, school, agreement, make_case, django_assert_max_num_queries
    ):
        for _ in range(15):
            case = make_case()
            services.case_share(
                actor=actor(officer),
                case=case,
                partner=school,
                lawful_basis="public_task",
                reason="x",
            )
        client = api(officer)
        for size in (1, 5, 15):
            with django_assert_max_num_queries(8):
                body = client.get("/api/v1/cases/", {"page_size": size}).json()
            assert len(body["results"]) == size

    def test_filters(self, api, officer, make_case):
        low, high = make_case(risk_level="low"), make_case(risk_level="high")
        client = api(officer)
        assert [
            c["id"] for c in client.get("/api/v1/cases/", {"risk_level": "high"}).json()["results"]
        ] == [str(high.id)]
        assert [
            c["id"] for c in client.get("/api/v1/cases/", {"q": low.reference}).json()["results"]
        ] == [str(low.id)]
        assert (
            client.get("/api/v1/cases/", {"updated_since": "2999-01-01T00:00:00Z"}).json()[
                "results"
            ]
            == []
        )
        assert "status" in error(client.get("/api/v1/cases/", {"status": "nope"}), 400)["fields"]

    def test_pages_follow_cursors_without_repeats(self, api, officer, make_case):
        for _ in range(7):
            make_case()
        client, seen, url = api(officer), [], "/api/v1/cases/?page_size=3"
        while url:
            body = client.get(url).json()
            seen += [c["id"] for c in body["results"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) == 7


@pytest.mark.django_db
def test_agreements_list_only_those_the_partner_is_party_to(api, officer, outsider, agreement):
    assert [a["name"] for a in api(officer).get("/api/v1/agreements/").json()["results"]] == [
        "Northshire safeguarding ISA"
    ]
    assert api(outsider).get("/api/v1/agreements/").json()["results"] == []
