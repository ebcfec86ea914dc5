"""Whole family: a parent in prison is on the child's case, outside the household, and an
Invisible Walls referral starts from what the case already knows about them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import CaseHistory, CaseMember, Person, Whereabouts
from core.errors import ValidationFailed
from tests.web.conftest import ui_actor

pytestmark = pytest.mark.django_db

RELEASE = timezone.localdate() + dt.timedelta(days=120)
DAD = {
    "given_name": "Marcus", "family_name": "Clarke", "pronouns": "he/him",
    "date_of_birth_day": "4", "date_of_birth_month": "6", "date_of_birth_year": "1984",
    "kind": "carer", "note": "", "whereabouts": "prison", "place": "HMP Northshire",
    "expected_release_date_day": str(RELEASE.day),
    "expected_release_date_month": str(RELEASE.month),
    "expected_release_date_year": str(RELEASE.year),
}  # fmt: skip


def _add_dad(client, case):
    return client.post(f"/cases/{case.pk}/household/new/", DAD)


class TestFamilyOutsideTheHousehold:
    def test_a_parent_in_prison_is_on_the_case_outside_the_household(
        self, login, officer, teacher, case
    ):
        assert _add_dad(login(officer), case).status_code == 302
        dad = Person.objects.get(given_name="Marcus")
        member = CaseMember.objects.get(case=case, person=dad)
        assert member.whereabouts == Whereabouts.PRISON and member.place == "HMP Northshire"
        assert member.expected_release_date == RELEASE
        history = CaseHistory.objects.filter(case=case).latest("changed_at")
        assert history.changes["whereabouts"] == [None, "prison"]
        # The partner the case is shared with sees them, in their own section, in words.
        page = login(teacher).get(f"/cases/{case.pk}/").content.decode()
        family = page.split('id="family-elsewhere"', 1)[1].split("</dl>", 1)[0]
        assert "Marcus Clarke" in family and "Carer of Jay Clarke" in family
        assert f"In prison</strong> at HMP Northshire, expected home {RELEASE:%-d %B %Y}" in family
        household = page.split('id="household"', 1)[1].split('id="family-elsewhere"', 1)[0]
        assert "Marcus" not in household

    def test_a_prison_is_only_given_for_someone_in_prison(self, login, officer, case):
        response = login(officer).post(
            f"/cases/{case.pk}/household/new/", {**DAD, "whereabouts": "household"}
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "Only give a prison for someone in prison" in body
        assert "Only give a release date for someone in prison" in body
        assert not Person.objects.filter(given_name="Marcus").exists()

    def test_the_service_refuses_prison_details_for_the_household(self, officer, case, person):
        other = case_services.person_create(
            actor=ui_actor(officer), data={"given_name": "Kim", "family_name": "Clarke"}
        )
        with pytest.raises(ValidationFailed, match="only recorded for someone in prison"):
            case_services.case_household_add(
                actor=ui_actor(officer), case=case, person=other, place="HMP Northshire"
            )
        with pytest.raises(ValidationFailed, match="not a whereabouts"):
            case_services.case_household_add(
                actor=ui_actor(officer), case=case, person=other, whereabouts="moon"
            )

    def test_another_partner_sees_nothing(self, login, officer, outsider, case):
        _add_dad(login(officer), case)
        assert login(outsider).get(f"/cases/{case.pk}/").status_code == 404
        assert login(outsider).post(f"/cases/{case.pk}/household/new/", DAD).status_code == 404

    def test_an_invisible_walls_referral_starts_from_the_parent_on_the_case(
        self, login, officer, teacher, case, coordinator
    ):
        from programmes.catalogue import install_standard_programmes
        from programmes.models import Programme

        install_standard_programmes(Programme)
        Programme.objects.filter(slug="invisible-walls").update(active=True)
        _add_dad(login(officer), case)
        page = (
            login(teacher)
            .get(f"/cases/{case.pk}/programmes/invisible-walls/refer/")
            .content.decode()
        )
        assert 'value="HMP Northshire"' in page
        assert 'value="Marcus Clarke"' in page
        assert 'value="carer" checked' in page
        assert f'value="{RELEASE.year}"' in page
