"""People on a case: correcting details (with the version read), household, relationships,
consent decisions."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases import services as case_services
from cases.models import ConsentRecord, Person, Relationship
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db


def _details(person, **changes):
    data = {
        "version": person.version, "given_name": person.given_name,
        "family_name": person.family_name, "preferred_name": person.preferred_name,
        "pronouns": person.pronouns, "date_of_birth_day": person.date_of_birth.day,
        "date_of_birth_month": person.date_of_birth.month,
        "date_of_birth_year": person.date_of_birth.year, "gender": "", "language": "",
        "address_line_1": "", "address_line_2": "", "town": "", "postcode": "",
    }  # fmt: skip
    data.update(changes)
    return data


class TestPersonDetails:
    def test_it_saves_details_and_logs_the_change(self, login, teacher, case):
        person = case.subject
        url = f"/cases/{case.pk}/people/{person.pk}/edit/"
        c = login(teacher)  # a partner the case is shared with may correct details too
        page = c.get(url).content.decode()
        assert 'value="Jay"' in page and 'name="version"' in page
        response = c.post(url, _details(person, pronouns="they/them", town="Northshire"))
        assert response.status_code == 302
        person.refresh_from_db()
        assert person.pronouns == "they/them" and person.town == "Northshire"
        assert AccessLog.objects.filter(
            user=teacher, action="update", object_type="person", person_id=person.pk
        ).exists()
        assert AccessLog.objects.filter(user=teacher, action="view", person_id=person.pk).exists()

    def test_a_stale_save_overwrites_nothing_and_says_why(self, login, officer, teacher, case):
        person = case.subject
        read = _details(person, preferred_name="JJ")
        case_services.person_update(
            actor=ui_actor(officer), person=person, expected_version=person.version,
            data={"pronouns": "he/they"},
        )  # fmt: skip
        response = login(teacher).post(f"/cases/{case.pk}/people/{person.pk}/edit/", read)
        body = response.content.decode()
        assert response.status_code == 200
        assert "Someone else changed Jay Clarke’s details" in body and "Nothing you entered" in body
        assert "What is saved now" in body and "he/they" in body
        assert 'value="JJ"' in body  # what they typed is kept
        person.refresh_from_db()
        assert person.preferred_name == "Jay" and person.pronouns == "he/they"

    def test_errors_are_summarised(self, login, officer, case):
        body = (
            login(officer)
            .post(
                f"/cases/{case.pk}/people/{case.subject_id}/edit/",
                _details(case.subject, given_name=""),
            )
            .content.decode()
        )
        assert "There is a problem" in body and 'href="#id_given_name"' in body

    def test_outsiders_and_other_peoples_records_are_not_found(
        self, login, officer, outsider, case, hidden_case
    ):
        url = f"/cases/{case.pk}/people/{case.subject_id}/edit/"
        assert login(outsider).get(url).status_code == 404
        assert login(outsider).post(url, _details(case.subject)).status_code == 404
        # A person not on this case cannot be reached through it, even by its lead.
        other = f"/cases/{case.pk}/people/{hidden_case.subject_id}/edit/"
        assert login(officer).get(other).status_code == 404

    @pytest.mark.parametrize("who", ["coordinator", "auditor"])
    def test_other_roles_are_refused(self, login, case, who, request):
        url = f"/cases/{case.pk}/people/{case.subject_id}/edit/"
        assert login(request.getfixturevalue(who)).get(url).status_code == 403


MUM = {
    "given_name": "Sam", "family_name": "Clarke", "pronouns": "she/her",
    "date_of_birth_day": "2", "date_of_birth_month": "2", "date_of_birth_year": "1985",
    "kind": "parent", "note": "Lives with Jay",
}  # fmt: skip


class TestHousehold:
    def test_the_lead_adds_a_household_member_everyone_on_the_case_then_sees(
        self, login, officer, teacher, case
    ):
        response = login(officer).post(f"/cases/{case.pk}/household/new/", MUM)
        assert response.status_code == 302
        mum = Person.objects.get(given_name="Sam")
        assert list(case.household.all()) == [mum]
        rel = Relationship.objects.get()
        assert (rel.person, rel.related_to, rel.kind) == (mum, case.subject, "parent")
        shared = login(teacher).get(f"/cases/{case.pk}/").content.decode()
        assert "Sam Clarke" in shared and "Parent of Jay Clarke" in shared
        assert AccessLog.objects.filter(user=teacher, action="list", person_id=mum.pk).exists()

    def test_only_the_lead_partner_changes_the_household(self, login, teacher, outsider, case):
        assert login(teacher).get(f"/cases/{case.pk}/household/new/").status_code == 403
        assert login(outsider).get(f"/cases/{case.pk}/household/new/").status_code == 404
        assert login(outsider).post(f"/cases/{case.pk}/household/new/", MUM).status_code == 404
        assert not Person.objects.filter(given_name="Sam").exists()

    def test_relationships_between_people_on_the_case(self, login, officer, teacher, case):
        c = login(officer)
        c.post(f"/cases/{case.pk}/household/new/", MUM)
        c.post(f"/cases/{case.pk}/household/new/", {**MUM, "given_name": "Mia", "kind": "sibling"})
        mum, mia = Person.objects.get(given_name="Sam"), Person.objects.get(given_name="Mia")
        url = f"/cases/{case.pk}/relationships/new/"
        same = login(teacher).post(url, {"person": mia.pk, "related_to": mia.pk, "kind": "sibling"})
        assert "Choose two different people" in same.content.decode()
        response = login(teacher).post(
            url, {"person": str(mum.pk), "related_to": str(mia.pk), "kind": "parent"}
        )
        assert response.status_code == 302
        assert Relationship.objects.filter(person=mum, related_to=mia, kind="parent").exists()
        assert AccessLog.objects.filter(user=teacher, action="relate", person_id=mia.pk).exists()

    def test_relationships_are_not_found_by_outsiders(self, login, outsider, case):
        assert login(outsider).get(f"/cases/{case.pk}/relationships/new/").status_code == 404


class TestConsent:
    def test_a_decision_is_recorded_and_shown(self, login, officer, teacher, case):
        c = login(teacher)
        url = f"/cases/{case.pk}/consents/new/"
        assert "Whose decision is this?" in c.get(url).content.decode()
        response = c.post(url, {
            "person": str(case.subject_id), "decision": "given", "lawful_basis": "consent",
            "scope": "Sharing attendance with the youth team", "given_by": "Jay",
            "notes": "Happy for Ms Hughes to talk to the youth worker",
        })  # fmt: skip
        assert response.status_code == 302
        consent = ConsentRecord.objects.get()
        assert consent.recorded_by == teacher and consent.decision == "given"
        page = login(officer).get(f"/cases/{case.pk}/").content.decode()
        assert "Sharing attendance with the youth team" in page and "Consent given" in page
        assert AccessLog.objects.filter(user=teacher, action="record_consent").exists()

    def test_missing_answers_are_summarised(self, login, officer, case):
        body = (
            login(officer).post(f"/cases/{case.pk}/consents/new/", {"scope": ""}).content.decode()
        )
        assert "Select what they decided" in body and "Say what the decision covers" in body
        assert not ConsentRecord.objects.exists()

    def test_outsiders_get_not_found(self, login, outsider, case):
        url = f"/cases/{case.pk}/consents/new/"
        assert login(outsider).get(url).status_code == 404
        assert login(outsider).post(url, {"decision": "given"}).status_code == 404
