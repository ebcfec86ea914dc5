"""Eligibility is derived from case content, so it obeys the reader's visibility.

The police lead a case shared with the school; the school recorded a *sensitive*
`parental_incarceration` that it has not shared with the police. The VRU's coordinator runs
Invisible Walls and cannot open the case. Nobody learns from an eligibility result about a record
they may not see: not the referrer, not another reader of the stored result, and not a coordinator
who edits the rules and checks again. Every change of configuration is kept, append-only.
"""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.forms import ModelMultipleChoiceField

from audit.models import AppendOnlyError
from casework import services as casework_services
from partners.models import Role
from programmes.models import ProgrammeConfigChange
from tests import factories
from tests.factories import actor
from tests.programmes.conftest import share, years_ago

pytestmark = pytest.mark.django_db

CODE = "parental_incarceration"
DETAILS = {
    "prison": "HMP Northshire",
    "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
}


@pytest.fixture
def case(make_case, officer, school):
    """Police-led, shared with the school, with the school's sensitive record on it."""
    case = make_case(dob=years_ago(9))
    share(case, school, officer)
    return case


@pytest.fixture
def sensitive(case, teacher):
    return casework_services.adversity_create(
        actor=actor(teacher), case=case, code=CODE, source="disclosed", sensitive=True
    )


def refer(api, user, case, programme="invisible-walls"):
    response = api(user).post(
        f"/api/v1/programmes/{programme}/referrals",
        {"person": str(case.subject_id), "case": str(case.pk), "details": DETAILS},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def adversity_rule(eligibility):
    [rule] = [r for r in eligibility["rules"] if r["rule"] == "adversities"]
    return rule


class TestTheReferrer:
    def test_a_referral_is_evaluated_only_on_what_the_referrer_may_see(
        self, api, officer, invisible_walls, case, sensitive
    ):
        body = refer(api, officer, case)
        rule = adversity_rule(body["eligibility"])
        assert rule["outcome"] == "not_met"
        assert "Recorded on the case" not in rule["explanation"]
        assert body["eligibility"]["eligible"] is False

    def test_the_recording_partner_sees_its_own_record_count(
        self, api, teacher, invisible_walls, case, sensitive
    ):
        body = refer(api, teacher, case)
        assert adversity_rule(body["eligibility"]) == {
            "rule": "adversities",
            "outcome": "met",
            "explanation": f"Recorded on the case: {CODE}.",
            "codes": [CODE],
            "match": "all",
        }
        assert body["eligibility"]["eligible"] is True


class TestAnotherReader:
    """The school refers (it sees its record); the police then read the enrolment."""

    def test_the_stored_result_is_explained_again_for_each_reader(
        self, api, teacher, officer, invisible_walls, case, sensitive
    ):
        enrolment = refer(api, teacher, case)
        seen = api(officer).get(f"/api/v1/enrolments/{enrolment['id']}").json()["eligibility"]
        assert adversity_rule(seen)["outcome"] == "not_met"
        assert f"Recorded on the case: {CODE}" not in json.dumps(seen)
        assert seen["eligible"] is False
        listed = api(officer).get("/api/v1/enrolments/").json()["results"]
        assert [e["eligibility"] for e in listed] == [seen]
        # The school, which recorded it, still sees it counted.
        own = api(teacher).get(f"/api/v1/enrolments/{enrolment['id']}").json()["eligibility"]
        assert adversity_rule(own)["outcome"] == "met"

    def test_the_history_does_not_carry_the_referrers_verdict(
        self, api, teacher, officer, invisible_walls, case, sensitive
    ):
        enrolment = refer(api, teacher, case)
        history = api(officer).get(f"/api/v1/enrolments/{enrolment['id']}/transitions").json()
        assert [t["detail"] for t in history["results"]] == [{}]

    def test_the_web_pages_show_each_reader_their_own_view(
        self, client, teacher, officer, coordinator, invisible_walls, case, sensitive, api
    ):
        enrolment = refer(api, teacher, case)
        client.force_login(officer)
        page = client.get(f"/enrolments/{enrolment['id']}/").content.decode()
        assert f"Recorded on the case: {CODE}" not in page
        assert "Eligible: every rule is met." not in page
        case_page = client.get(f"/cases/{case.pk}/").content.decode()
        assert "Eligible: every rule is met." not in case_page
        client.force_login(coordinator)
        board = client.get("/programmes/invisible-walls/intake/").content.decode()
        assert f"Recorded on the case: {CODE}" not in board
        assert "You cannot open the case" in board


class TestACoordinatorWhoCannotOpenTheCase:
    """Editing the rules and checking again must not turn eligibility into a probe."""

    def check(self, api, coordinator, enrolment_id):
        return api(coordinator).post(
            f"/api/v1/enrolments/{enrolment_id}/transitions",
            {"to": "eligibility_checked"},
            format="json",
        )

    def set_rule(self, api, coordinator, programme, codes):
        client = api(coordinator)
        url = f"/api/v1/programmes/{programme.slug}"
        etag = client.get(url)["ETag"]
        rules = {"age": {"max": 17}, "adversities": {"codes": codes, "match": "all"}}
        response = client.patch(url, {"eligibility": rules}, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.json()

    def test_rules_about_recorded_and_unrecorded_adversities_answer_alike(
        self, api, officer, coordinator, invisible_walls, case, police
    ):
        # A record everyone on the case may see, but the VRU is not on the case.
        casework_services.adversity_create(
            actor=actor(officer), case=case, code="bullying", source="observed"
        )
        enrolment = refer(api, officer, case)
        answers = []
        for codes in (["bullying"], ["bereavement"]):
            self.set_rule(api, coordinator, invisible_walls, codes)
            response = self.check(api, coordinator, enrolment["id"])
            assert response.status_code == 409, response.json()
            error = response.json()["error"]
            assert error["code"] == "not_eligible"
            answers.append(error["message"].replace(codes[0], "<code>"))
            seen = api(coordinator).get(f"/api/v1/enrolments/{enrolment['id']}").json()
            assert adversity_rule(seen["eligibility"])["outcome"] in ("unknown", "not_met")
            assert "Recorded on the case" not in json.dumps(seen["eligibility"])
        assert answers[0] == answers[1]
        assert "You cannot open the case" in answers[0]

    def test_once_the_case_is_shared_with_them_it_is_checked(
        self, api, officer, coordinator, invisible_walls, case, vru
    ):
        casework_services.adversity_create(
            actor=actor(officer), case=case, code=CODE, source="disclosed"
        )
        enrolment = refer(api, officer, case)
        share(case, vru, officer)
        response = self.check(api, coordinator, enrolment["id"])
        assert response.status_code == 200, response.json()
        assert response.json()["eligibility"]["eligible"] is True

    def test_a_sensitive_record_not_shared_with_them_is_not_read_even_on_a_shared_case(
        self, api, officer, coordinator, invisible_walls, case, sensitive, vru
    ):
        share(case, vru, officer)
        enrolment = refer(api, officer, case)
        response = self.check(api, coordinator, enrolment["id"])
        assert response.status_code == 409
        assert f"Recorded on the case: {CODE}" not in response.json()["error"]["message"]


class TestConfigurationChanges:
    def patch(self, api, user, programme, data):
        client = api(user)
        url = f"/api/v1/programmes/{programme.slug}"
        etag = client.get(url)["ETag"]
        return client.patch(url, data, format="json", HTTP_IF_MATCH=etag)

    def test_each_change_is_kept_with_who_what_and_the_values(
        self, api, coordinator, other_coordinator, invisible_walls
    ):
        old_rules = invisible_walls.eligibility
        new_rules = {"age": {"max": 17}, "adversities": {"codes": ["bullying"], "match": "all"}}
        response = self.patch(
            api,
            coordinator,
            invisible_walls,
            {"eligibility": new_rules, "capacity": 3, "coordinators": [str(other_coordinator.pk)]},
        )
        assert response.status_code == 200, response.json()
        change = ProgrammeConfigChange.objects.get(programme=invisible_walls)
        assert (change.user, change.partner, change.role) == (
            coordinator,
            coordinator.membership.partner,
            "coordinator",
        )
        assert change.version == response.json()["version"]
        assert change.changed == ["capacity", "coordinators", "eligibility"]
        assert change.before["eligibility"] == old_rules
        assert change.after["eligibility"] == new_rules
        assert change.after["capacity"] == 3
        assert change.before["coordinators"] == [str(coordinator.pk)]
        assert change.after["coordinators"] == [str(other_coordinator.pk)]

    def test_nothing_is_written_when_nothing_changes(self, api, coordinator, invisible_walls):
        response = self.patch(
            api, coordinator, invisible_walls, {"capacity": invisible_walls.capacity}
        )
        assert response.status_code == 200
        assert not ProgrammeConfigChange.objects.exists()

    def test_the_log_is_append_only(self, api, coordinator, invisible_walls):
        self.patch(api, coordinator, invisible_walls, {"capacity": 1})
        change = ProgrammeConfigChange.objects.get()
        with pytest.raises(AppendOnlyError):
            ProgrammeConfigChange.objects.filter(pk=change.pk).update(changed=[])
        with pytest.raises(AppendOnlyError):
            change.delete()
        with pytest.raises(AppendOnlyError):
            change.save()

    def test_changes_made_in_the_admin_are_kept_too(self, client, vru, invisible_walls):
        sysadmin = factories.make_user(vru, Role.ADMIN, email="sysadmin@vru.example")
        client.force_login(sysadmin)
        url = f"/admin/programmes/programme/{invisible_walls.pk}/change/"
        form = client.get(url).context["adminform"].form
        data = {}
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, ModelMultipleChoiceField):
                data[name] = [str(v) for v in value or []]
            elif isinstance(value, dict | list):
                data[name] = json.dumps(value)
            elif isinstance(value, bool):
                if value:
                    data[name] = "on"
            elif value is not None:
                data[name] = str(value)
        rules = {"age": {"max": 17}, "adversities": {"codes": ["bullying"], "match": "all"}}
        data["eligibility"] = json.dumps(rules)
        data["capacity"] = "4"
        assert client.post(url, data).status_code == 302
        change = ProgrammeConfigChange.objects.get(programme=invisible_walls)
        assert (change.user, change.role, change.changed) == (
            sysadmin,
            "admin",
            ["capacity", "eligibility"],
        )
        assert change.before["eligibility"] == invisible_walls.eligibility
        assert (change.after["eligibility"], change.after["capacity"]) == (rules, 4)
        listed = client.get("/admin/programmes/programmeconfigchange/")
        assert listed.status_code == 200 and b"eligibility" in listed.content

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")
    def test_the_database_refuses_changes_too(self, api, coordinator, invisible_walls):
        self.patch(api, coordinator, invisible_walls, {"capacity": 1})
        table = ProgrammeConfigChange._meta.db_table
        for sql in (f"UPDATE {table} SET role = 'admin'", f"DELETE FROM {table}"):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
        assert ProgrammeConfigChange.objects.get().role == "coordinator"
